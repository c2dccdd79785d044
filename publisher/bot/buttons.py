"""What the bot's buttons carry, in one place: a typed value for each kind of button, written
into Telegram's callback data and read back checked. The data is the whole of a button's state
(no store on the bot's side), so a notification's buttons still work after the bot restarts;
Telegram allows 64 bytes, and passes on whatever a client sends, so anything that is not one of
these buttons reads as none (a stale button)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from telegram import InlineKeyboardButton

from publisher.articles import whole_number
from publisher.engine.posts import verbs
from publisher.engine.storage.rowids import is_row_id


class Kind(StrEnum):
    """What a button is about; one letter each, as the data is short."""

    # A step of an article on its way to the queue (the key of the bot's draft).
    DRAFT = "d"
    # An action on a post (its number), with the version of the text it approves.
    POST = "p"
    # Resuming a paused channel (its name).
    CHANNEL = "c"
    # An /edit that would drop the article's link, confirmed (the key of the kept edit).
    EDIT = "e"
    # One of the answers to an unknown command (no key).
    HELP = "h"
    # A post in the bot (its number): shown with its own buttons, its new text or time asked.
    SHOW = "s"
    # A post moved to a free time (its number; the time, in minutes since 1970, as hex).
    MOVE = "m"
    # An answer to the question before an article's withdrawal or correction (the key of what
    # was asked).
    ARTICLE = "a"


DRAFT_ACTIONS = frozenset(
    {
        "now",
        "queue",
        "edit",
        "cancel",
        "next",
        "soon",
        "tomorrow",
        "back",
        "sure",
        "sure_now",
        "leave",
        "take",
    }
)
HELP_ACTIONS = ("list", "log", "help")
# The answers to the question before an article's withdrawal or correction.
ARTICLE_ACTIONS = ("withdraw", "keep", "correct", "leave")
# What a post's own buttons in the bot do besides the verbs: show it, ask for its new text or
# its new time, stop asking.
POST_ASKS = ("show", "edit", "time", "leave")


def _draft(key: str, action: str) -> bool:
    return bool(key) and (
        action in DRAFT_ACTIONS or re.fullmatch(r"edit\d{1,2}", action) is not None
    )


def _post(key: str, action: str) -> bool:
    row = whole_number(key)
    return row is not None and is_row_id(row) and action in verbs.ACTIONS


# Which keys and actions each kind of button takes.
TAKES: dict[Kind, Callable[[str, str], bool]] = {
    Kind.DRAFT: _draft,
    Kind.POST: _post,
    Kind.CHANNEL: lambda key, action: bool(key) and action in ("resume", "resume_overdue"),
    Kind.EDIT: lambda key, action: bool(key) and action == "nolink",
    Kind.HELP: lambda key, action: key == "0" and action in HELP_ACTIONS,
    Kind.SHOW: lambda key, action: whole_number(key) is not None and action in POST_ASKS,
    Kind.MOVE: lambda key, action: whole_number(key) is not None and action == "move",
    Kind.ARTICLE: lambda key, action: bool(key) and action in ARTICLE_ACTIONS,
}
# The kinds whose buttons carry a version: the text an approval is for, the time a move is to.
VERSIONED = frozenset({Kind.POST, Kind.MOVE})
# Within Telegram's 64 bytes: a channel's name of up to 55 characters fits "c:…:resume".
_DATA = re.compile(r"([a-z]):([^:]{1,55}):([a-z_]{1,20}\d{0,2})(?::([0-9a-f]{10}))?")


@dataclass(frozen=True)
class Button:
    """One button's meaning: its kind, what it is about (`key`), what it does, and for an
    approval the version of the text the approver read."""

    kind: Kind
    key: str
    action: str
    version: str | None = None

    @property
    def data(self) -> str:
        """The button as Telegram's callback data."""
        parts = [self.kind.value, self.key, self.action]
        return ":".join([*parts, self.version] if self.version else parts)

    @property
    def post_id(self) -> int:
        """The post a post's button is about."""
        return int(self.key)


def read(data: str | None) -> Button | None:
    """The button that callback data stands for, or None when it is none the bot makes."""
    found = _DATA.fullmatch(data or "")
    if found is None:
        return None
    letter, key, action, version = found.groups()
    try:
        kind = Kind(letter)
    except ValueError:
        return None
    if not TAKES[kind](key, action) or (version is not None and kind not in VERSIONED):
        return None
    return Button(kind, key, action, version)


def draft(key: str, action: str) -> Button:
    return Button(Kind.DRAFT, key, action)


def post(post_id: int, action: str, version: str | None = None) -> Button:
    return Button(Kind.POST, str(post_id), action, version or None)


def resume(channel: str, *, overdue: bool = False) -> Button:
    """Resuming a channel; `overdue`: and sending at once what it held past its time (the
    editor was told)."""
    return Button(Kind.CHANNEL, channel, "resume_overdue" if overdue else "resume")


def edit_without_link(key: str) -> Button:
    return Button(Kind.EDIT, key, "nolink")


def help_answer(action: str) -> Button:
    return Button(Kind.HELP, "0", action)


def move(post_id: int, at: datetime) -> Button:
    """Moving a post to `at`: the time the button shows is the time it moves to."""
    return Button(Kind.MOVE, str(post_id), "move", f"{int(at.timestamp()) // 60:010x}")


def moved_to(button: Button) -> datetime | None:
    """The time a move button moves its post to."""
    if button.version is None:
        return None
    return datetime.fromtimestamp(int(button.version, 16) * 60, UTC)


def show(post_id: int, action: str = "show") -> Button:
    """A post in the bot: shown with the buttons for what it can do now, or (`action`) its new
    text or time asked for, or the asking left."""
    return Button(Kind.SHOW, str(post_id), action)


def article(key: str, action: str) -> Button:
    """An answer to the question before a withdrawal or a correction: withdraw, withdraw
    keeping the posts out, correct, or leave it."""
    return Button(Kind.ARTICLE, key, action)


def keyed(label: str, button: Button) -> InlineKeyboardButton:
    """A keyboard button with this label that carries `button`."""
    return InlineKeyboardButton(label, callback_data=button.data)
