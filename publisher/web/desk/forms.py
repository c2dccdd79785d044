"""The desk's forms as the routes read them: each field read once, here, into a typed model
(a ticked box is a bool, a missing field an empty string, a once-only mark no longer than it
can be), so that a route works with what the editor chose rather than with form fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from starlette.datastructures import FormData

from publisher.articles import whole_number
from publisher.bulk import Move
from publisher.engine.storage.rowids import is_row_id

# The longest once-only mark a page carries (`auth.form_once`).
ONCE_LENGTH = 40


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "")


@dataclass(frozen=True)
class PostAction:
    """A button on one post (approve, cancel, restore, retry, reschedule): the time chosen (a
    free slot picked, which carries its offset, else a typed time), the text version the
    approver read, whether the editor confirmed a cancel or sending an overdue post now, and the
    page to go back to."""

    at: str = ""
    seen: str | None = None
    confirmed: bool = False
    overdue_ok: bool = False
    back: str = ""

    @classmethod
    def read(cls, form: FormData) -> PostAction:
        return cls(
            at=_text(form, "slot") or _text(form, "at"),
            seen=_text(form, "seen") or None,
            confirmed=bool(form.get("confirm")),
            overdue_ok=bool(form.get("overdue")),
            back=_text(form, "back"),
        )


@dataclass(frozen=True)
class ChannelAction:
    """A button on one channel (pause, resume): whether the editor confirmed that resuming
    sends what it held past its time now, and the page to go back to."""

    overdue_ok: bool = False
    back: str = ""

    @classmethod
    def read(cls, form: FormData) -> ChannelAction:
        return cls(overdue_ok=bool(form.get("overdue")), back=_text(form, "back"))


@dataclass(frozen=True)
class Amending:
    """The article page's withdrawal or correction: what the editor said (the withdrawal's
    reason, the correction's note), whether the posts already out stay standing this once (a
    withdrawal), and whether the editor confirmed what the question listed."""

    said: str = ""
    keep_sent: bool = False
    confirmed: bool = False

    @classmethod
    def read(cls, form: FormData) -> Amending:
        return cls(
            said=_text(form, "said").strip(),
            keep_sent=bool(form.get("keep_sent")),
            confirmed=form.get("confirm") == "yes",
        )


@dataclass(frozen=True)
class BulkChoice:
    """The queue's bulk form: the action, on the ticked posts or on every post the filter finds
    (`everywhere`), the time or hours it takes, the posts a confirmation listed (`ids`) with the
    text version of each it showed (`seen`), and the page's once-only mark."""

    action: str = ""
    back: str = "/queue"
    everywhere: bool = False
    confirmed: bool = False
    ticked: tuple[str, ...] = ()
    ids: str = ""
    at: str = ""
    hours: str = ""
    once: str = ""
    seen: dict[int, str] = field(default_factory=dict)
    # The moves a confirmation showed (or an undo carries): each post's time before and after.
    moves: tuple[Move, ...] = ()

    @classmethod
    def read(cls, form: FormData) -> BulkChoice:
        seen = {}
        for key, value in form.multi_items():
            number = whole_number(key.removeprefix("seen_")) if key.startswith("seen_") else None
            if number is not None and isinstance(value, str) and value:
                seen[number] = value
        # One field for every move, however many posts a busy day holds.
        moves = [move for part in _text(form, "moves").split(";") if (move := _move(part))]
        return cls(
            action=_text(form, "action"),
            back=_text(form, "back") or "/queue",
            everywhere=form.get("scope") == "matching",
            confirmed=bool(form.get("confirm")),
            ticked=tuple(str(value) for value in form.getlist("post")),
            ids=_text(form, "ids"),
            at=_text(form, "at"),
            hours=_text(form, "hours"),
            once=_text(form, "once")[:ONCE_LENGTH],
            seen=seen,
            moves=tuple(moves),
        )


def carried(move: Move) -> str:
    """A move as a form carries it back ("POST BEFORE AFTER"; see `BulkChoice.moves`)."""
    return f"{move.post_id} {move.before.isoformat()} {move.after.isoformat()}"


def _move(value: str) -> Move | None:
    """A move as a confirmation carries it ("POST BEFORE AFTER", the times ISO 8601 with
    offsets), or None when it is not one."""
    parts = value.split(" ")
    post_id = whole_number(parts[0]) if len(parts) == 3 else None
    if post_id is None or not is_row_id(post_id):
        return None
    try:
        before, after = (datetime.fromisoformat(t) for t in parts[1:])
    except ValueError:
        return None
    if before.tzinfo is None or after.tzinfo is None:
        return None
    return Move(post_id, before, after)
