"""Subscribers of a fan-out channel (a newsroom's WhatsApp readers): who opted in, how and when,
who opted out, who cannot be reached. An import never subscribes again someone who opted out;
only their own keyword does. Numbers are kept in E.164 (`+` and up to 15 digits), as the
`phonenumbers` library validates and writes them."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import phonenumbers
from sqlalchemy import Connection, Engine, func, or_, select, update

from publisher.clock import utcnow
from publisher.engine.storage.schema import subscribers, upsert
from publisher.errors import EditorError

# Messages in a row that WhatsApp could not deliver (131026) before a number counts unreachable.
UNREACHABLE_AFTER = 3
# A subscriber who wrote within this time may get free-form messages; others only templates.
WINDOW = timedelta(hours=24)
# An import adding this many numbers has the database look at the table again.
ANALYZE_AFTER = 1000


class SubscriberState(StrEnum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    UNREACHABLE = "unreachable"


class SubscriberError(EditorError):
    """A number or a subscriber list cannot be used; the message says why."""


def phone_number(text: str) -> str | None:
    """`text` as an E.164 number ("+4917012345678") when it is a valid number (by the numbering
    plan of its country, phonenumbers' metadata), else None. A leading 00 counts as +;
    WhatsApp's own ids (digits without +) are read as numbers too."""
    written = text.strip()
    if written.startswith("00"):
        written = "+" + written[2:]
    elif written[:1].isdigit():
        written = "+" + written
    if not written.startswith("+") or len(written) > 40:
        return None
    try:
        parsed = phonenumbers.parse(written, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


# An import names this many refused lines, and counts the rest.
NAMED_REFUSALS = 100


@dataclass
class Imported:
    """What an import did: numbers added, already there, left out because they had opted out,
    how many lines hold no number, and the first of them (line number, text)."""

    added: int = 0
    already: int = 0
    opted_out: int = 0
    refused: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)

    def refuse(self, line: int, text: str) -> None:
        self.refused += 1
        if len(self.invalid) < NAMED_REFUSALS:
            self.invalid.append((line, text[:80]))


def numbers_in(lines: Iterable[str]) -> Iterator[tuple[int, str | None]]:
    """The numbers of a subscriber file, read a line at a time, with their line numbers (None
    for a line that cannot be read as CSV): a CSV file with a `phone` column (any case), else
    one number per line; empty lines and a header are skipped."""
    rows = iter(lines)
    first = next(rows, "")
    if "," in first or ";" in first:
        try:
            dialect = csv.Sniffer().sniff(first, delimiters=",;")
            header = [name.strip().lower() for name in next(csv.reader([first], dialect), [])]
        except csv.Error:
            header = []
        if "phone" not in header:
            raise SubscriberError("the CSV file has no “phone” column")
        column = header.index("phone")
        for number, line in enumerate(rows, start=2):
            try:
                row = next(csv.reader([line], dialect), [])
            except csv.Error:  # a field longer than any CSV field is, an unclosed quote
                yield number, None
                continue
            if any(cell.strip() for cell in row):
                yield number, row[column] if column < len(row) else ""
        return
    for number, line in enumerate(itertools.chain([first], rows), start=1):
        if line.strip() and not (number == 1 and line.strip().lower() == "phone"):
            yield number, line.strip()


def import_numbers(
    engine: Engine,
    channel: str,
    lines: str | Iterable[str],
    source: str,
    now: datetime | None = None,
) -> Imported:
    """Subscribe every valid number of a subscriber file (its text, or its lines as read) to
    `channel` with `source` as how they consented; numbers already there stay as they are (an
    opted-out one stays out)."""
    now = now or utcnow()
    result = Imported()
    found: dict[str, None] = {}
    for line, text in numbers_in(lines.splitlines() if isinstance(lines, str) else lines):
        number = phone_number(text) if text is not None else None
        if number is None:
            result.refuse(line, text or "")
        else:
            found[number] = None
    with engine.begin() as connection:
        known = {
            row.phone: row.state
            for row in connection.execute(
                select(subscribers.c.phone, subscribers.c.state).where(
                    subscribers.c.channel == channel
                )
            )
        }
        new = [n for n in found if n not in known]
        result.added = len(new)
        result.opted_out = sum(1 for n in found if known.get(n) == SubscriberState.UNSUBSCRIBED)
        result.already = len(found) - result.added - result.opted_out
        for first in range(0, len(new), 5000):
            connection.execute(
                subscribers.insert(),
                [
                    {
                        "channel": channel,
                        "phone": number,
                        "state": SubscriberState.SUBSCRIBED,
                        "source": source,
                        "consented_at": now,
                        "changed_at": now,
                        "failures": 0,
                    }
                    for number in new[first : first + 5000]
                ],
            )
    if result.added >= ANALYZE_AFTER:
        # The table changed shape at once: the planner learns it now, not when autovacuum comes
        # round, or the first fan-out looks each batch of readers up by reading the whole table.
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE subscribers")
    return result


def listing(engine: Engine, channel: str) -> list[dict[str, Any]]:
    """Every subscriber of `channel`, by number."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(subscribers)
            .where(subscribers.c.channel == channel)
            .order_by(subscribers.c.phone)
        ).all()
    return [
        {
            "phone": row.phone,
            "state": row.state,
            "source": row.source,
            "consented_at": row.consented_at.isoformat(),
            "changed_at": row.changed_at.isoformat(),
            "last_message_at": row.last_message_at.isoformat() if row.last_message_at else None,
        }
        for row in rows
    ]


def remove(engine: Engine, channel: str, phone: str) -> None:
    """Forget a subscriber (an editor's decision, e.g. on request under data protection law)."""
    number = phone_number(phone)
    if number is None:
        raise SubscriberError(f"{phone!r} is not a phone number in international format")
    with engine.begin() as connection:
        removed = connection.execute(
            subscribers.delete().where(
                subscribers.c.channel == channel, subscribers.c.phone == number
            )
        ).rowcount
    if not removed:
        raise SubscriberError(f"{number} is not a subscriber of {channel}")


def counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Subscribers by channel and state."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(subscribers.c.channel, subscribers.c.state, func.count()).group_by(
                subscribers.c.channel, subscribers.c.state
            )
        ).all()
    found: dict[str, dict[str, int]] = {}
    for channel, state, count in rows:
        found.setdefault(channel, {})[state] = count
    return found


def subscribed(connection: Connection, channel: str) -> list[str]:
    """The numbers `channel` sends to now."""
    return list(
        connection.execute(
            select(subscribers.c.phone)
            .where(
                subscribers.c.channel == channel,
                subscribers.c.state == SubscriberState.SUBSCRIBED,
            )
            .order_by(subscribers.c.phone)
        ).scalars()
    )


@dataclass(frozen=True)
class Reach:
    """Whom a post of a subscribable channel reaches now: how many get the free-form teaser
    (they wrote within 24 hours, or are configured recipients) and how many the approved
    template (billed by Meta)."""

    free_form: int
    template: int

    @property
    def total(self) -> int:
        return self.free_form + self.template


def reach(
    engine: Engine, channel: str, configured: Iterable[str] = (), now: datetime | None = None
) -> Reach:
    """Whom a post on `channel` would reach if it went out now."""
    since = (now or utcnow()) - WINDOW
    with engine.connect() as connection:
        rows = connection.execute(
            select(subscribers.c.phone, subscribers.c.state, subscribers.c.last_message_at).where(
                subscribers.c.channel == channel
            )
        ).all()
    known = {row.phone for row in rows}
    live = [row for row in rows if row.state == SubscriberState.SUBSCRIBED]
    inside = sum(1 for row in live if row.last_message_at and row.last_message_at >= since)
    others = sum(1 for number in configured if number not in known)
    return Reach(inside + others, len(live) - inside)


def heard_from(
    connection: Connection,
    channel: str,
    phone: str,
    at: datetime,
    state: SubscriberState | None = None,
    source: str = "",
) -> None:
    """Note that `phone` wrote to `channel` at `at` (it opens the 24-hour window, which never
    moves back), and with `state` that they subscribed or unsubscribed by their own keyword.
    Keywords count in the order they were sent, not received: one sent before the keyword
    that decided the reader's state (a webhook retried or replayed) changes nothing; of two
    sent at once, STOP wins."""
    connection.execute(
        update(subscribers)
        .where(
            subscribers.c.channel == channel,
            subscribers.c.phone == phone,
            or_(subscribers.c.last_message_at.is_(None), subscribers.c.last_message_at < at),
        )
        .values(last_message_at=at)
    )
    if state is None:
        # Someone who never subscribed only has a window, not a subscription.
        return
    created = connection.execute(
        upsert(connection, subscribers)
        .values(
            channel=channel, phone=phone, state=state, source=source, consented_at=at,
            changed_at=at, last_message_at=at, keyword_at=at, failures=0,
        )
        .on_conflict_do_nothing(index_elements=["channel", "phone"])
        .returning(subscribers.c.phone)
    ).first()  # fmt: skip
    if created is not None:
        return
    values: dict[str, Any] = {"state": state, "changed_at": at, "keyword_at": at, "failures": 0}
    if state == SubscriberState.SUBSCRIBED:
        values |= {"source": source, "consented_at": at}
        later = subscribers.c.keyword_at < at
    else:
        later = subscribers.c.keyword_at <= at
    connection.execute(
        update(subscribers)
        .where(
            subscribers.c.channel == channel,
            subscribers.c.phone == phone,
            or_(subscribers.c.keyword_at.is_(None), later),
        )
        .values(values)
    )


def undeliverable(connection: Connection, channel: str, phone: str, now: datetime) -> None:
    """A message could not be delivered to `phone` (WhatsApp 131026): after a few in a row the
    number counts as unreachable and gets no more."""
    connection.execute(
        update(subscribers)
        .where(subscribers.c.channel == channel, subscribers.c.phone == phone)
        .values(failures=subscribers.c.failures + 1)
    )
    connection.execute(
        update(subscribers)
        .where(
            subscribers.c.channel == channel,
            subscribers.c.phone == phone,
            subscribers.c.state == SubscriberState.SUBSCRIBED,
            subscribers.c.failures >= UNREACHABLE_AFTER,
        )
        .values(state=SubscriberState.UNREACHABLE, changed_at=now)
    )


def delivered_to(connection: Connection, channel: str, phone: str) -> None:
    """A message reached `phone`: the count of undeliverable ones in a row starts again."""
    connection.execute(
        update(subscribers)
        .where(
            subscribers.c.channel == channel,
            subscribers.c.phone == phone,
            subscribers.c.failures > 0,
        )
        .values(failures=0)
    )
