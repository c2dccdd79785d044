"""How the bot writes what it shows: listing lines, the log, a post in full, a teaser as it will
look, buttons. Pure functions producing Telegram's HTML, every text from the store escaped."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from html import escape
from typing import Any

from publisher import roster
from publisher.bot.talk import Talk
from publisher.channels.base import Channel
from publisher.engine.learning.scorecard import engagement
from publisher.engine.posts.deliverylog import LogRow


def state(post: Mapping[str, Any], t: Callable[..., str]) -> str:
    """A post's state in the editor's words."""
    return t("state_held") if post.get("held") else t(f"state_{post['state']}")


def post_line(post: Mapping[str, Any], talk: Talk) -> str:
    """One post in a listing: number, channel, state, newsroom time with its zone, headline."""
    when = talk.when(datetime.fromisoformat(post["due_at"]), post["channel"])
    return (
        f"#{post['id']} <b>{escape(talk.label(post['channel']))}</b> {state(post, talk.say)} "
        f"{escape(when)} – {escape(post['headline'][:60])}"
    )


def log_line(row: LogRow, talk: Talk) -> str:
    """One row of the log: an attempt, or a post to many recipients as one line of counts."""
    head = (
        f"#{row.post_id} <b>{escape(talk.label(row.channel))}</b> "
        f"{escape(talk.when(row.started_at, row.channel))}"
    )
    if row.fan_out is not None:
        counts = {name: talk.num(n) for name, n in row.fan_out.items()}
        return f"{head} {talk.say('fan_out', **counts)}"
    link = f' <a href="{escape(row.permalink)}">↗</a>' if row.permalink else ""
    error = f" – {escape(row.error[:80])}" if row.error else ""
    action = f"{talk.say('log_action_' + row.action)}: " if row.action != "send" else ""
    return f"{head} {action}{talk.say('outcome_' + row.outcome)}{link}{error}"


def stats_line(item: dict[str, Any], talk: Talk) -> str:
    """One of the day's best posts: its number, channel and headline, clicks and interactions."""
    metrics = item["metrics"]
    counted = {"clicks": metrics.get("clicks"), "engagement": engagement(metrics)}
    if all(value is None for value in counted.values()):
        numbers = talk.say("stats_no_numbers")
    else:
        told = {name: "–" if value is None else talk.num(value) for name, value in counted.items()}
        numbers = talk.say("stats_numbers", **told)
    return (
        f"#{item['post']} <b>{escape(talk.label(item['channel']))}</b> "
        f"{escape(str(item['headline'])[:60])} – {numbers}"
    )


def post_detail(post: Mapping[str, Any], talk: Talk) -> str:
    """One post in full (as `show_post` gives it): its text as it goes out, where it is online,
    what went wrong, and for a post to many recipients what became of the messages."""
    channel = talk.settings.channels.get(post["channel"])
    permalink = escape(post["permalink"] or "")
    link = f'\n<a href="{permalink}">{permalink}</a>' if permalink else ""
    error = f"\n⚠️ {escape(post['error'])}" if post["error"] else ""
    counts = ""
    fan_out = post.get("fan_out")
    if fan_out:
        counts = "\n" + talk.say(
            "fan_out", **{k: talk.num(fan_out[k]) for k in ("sent", "delivered", "read", "failed")}
        )
        counts += "".join(
            f"\n• {talk.num(r['count'])} × {escape(r['reason'])}" for r in fan_out["reasons"]
        )
    text = (
        roster.configured(talk.settings, post["channel"]).bot_preview(post["text"])
        if channel is not None
        else escape(post["text"])
    )
    when = talk.when(datetime.fromisoformat(post["due_at"]), post["channel"])
    return (
        f"#{post['id']} <b>{escape(talk.label(post['channel']))}</b> {state(post, talk.say)} "
        f"{escape(when)}\n<blockquote>{text}</blockquote>{link}{error}{counts}"
    )


def teaser(channel: Channel, text: str) -> str:
    """A teaser inside a preview, as the platform will show it."""
    return f"<blockquote>{channel.bot_preview(text)}</blockquote>"
