"""How the bot writes what it shows: listing lines, a post in full, buttons, and messages kept to
Telegram's limit. Pure functions producing Telegram's HTML, every text from the store escaped."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from telegram import InlineKeyboardButton

from publisher.channels.telegram import Telegram
from publisher.engine.listings import FanOutSummary

# The bot speaks Telegram: its messages keep to a Telegram message's limit.
MESSAGE_LIMIT = Telegram.limit


def _local(iso: str) -> str:
    return iso[:16].replace("T", " ")


def state(post: dict[str, Any], t: Callable[..., str]) -> str:
    """A post's state in the editor's words."""
    return t("state_held") if post.get("held") else t(f"state_{post['state']}")


def post_line(post: dict[str, Any], t: Callable[..., str]) -> str:
    """One post in a listing."""
    return (
        f"#{post['id']} <b>{escape(post['channel'])}</b> {state(post, t)} "
        f"{_local(post['due_local'])} – {escape(post['headline'][:60])}"
    )


def delivery_line(delivery: dict[str, Any], t: Callable[..., str]) -> str:
    """One delivery attempt in the log."""
    link = f' <a href="{escape(delivery["permalink"])}">↗</a>' if delivery["permalink"] else ""
    error = f" – {escape(delivery['error'][:80])}" if delivery["error"] else ""
    when = _local(delivery["finished_at"] or delivery["started_at"])
    return (
        f"#{delivery['post_id']} <b>{escape(delivery['channel'])}</b> "
        f"{t('outcome_' + delivery['outcome'])} "
        f"{when}{link}{error}"
    )


def post_detail(
    post: dict[str, Any], t: Callable[..., str], fan_out: FanOutSummary | None = None
) -> str:
    """One post in full: its text as it goes out, where it is online, what went wrong, and
    for a post to many recipients what became of the messages."""
    permalink = escape(post["permalink"] or "")
    link = f'\n<a href="{permalink}">{permalink}</a>' if permalink else ""
    error = f"\n⚠️ {escape(post['error'])}" if post["error"] else ""
    counts = ""
    if fan_out is not None:
        counts = "\n" + t(
            "fan_out",
            sent=fan_out.sent,
            delivered=fan_out.delivered,
            read=fan_out.read,
            failed=fan_out.failed,
        )
        counts += "".join(f"\n• {n} × {escape(reason)}" for reason, n in fan_out.reasons)
    return (
        f"#{post['id']} <b>{escape(post['channel'])}</b> {state(post, t)} "
        f"{_local(post['due_local'])}\n<pre>{escape(post['text'])}</pre>{link}{error}{counts}"
    )


def button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


def fit(text: str) -> str:
    """Telegram refuses messages over 4,096 characters: long listings are cut at a line."""
    if len(text) <= MESSAGE_LIMIT:
        return text
    cut = text[: MESSAGE_LIMIT - 2].rsplit("\n", 1)[0]
    # A cut inside <pre> would leave it open.
    if cut.count("<pre>") > cut.count("</pre>"):
        cut += "</pre>"
    return cut + "\n…"
