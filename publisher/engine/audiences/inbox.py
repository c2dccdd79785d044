"""What readers and the platform tell a subscribable channel after the fact (WhatsApp's webhook):
a reader's message opens their 24-hour window, and a keyword subscribes or unsubscribes them at
once; a status update (delivered, read, failed) is kept on the delivery it is about, and
repeated undeliverable messages make a number unreachable."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import Engine, select, update

from publisher.catalogue import translator
from publisher.channels.whatsapp import WhatsAppOptions
from publisher.channels.whatsapp_events import (
    STATUSES,
    UNDELIVERABLE,
    ReaderMessage,
    StatusUpdate,
)
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.audiences.subscribers import (
    SubscriberState,
    delivered_to,
    heard_from,
    phone_number,
    undeliverable,
)
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import deliveries

# Later statuses never give way to earlier ones arriving late (webhooks come in any order).
_RANK = {status: rank for rank, status in enumerate(STATUSES, start=1)}


@dataclass(frozen=True)
class Reply:
    """A message to send back to a reader (a confirmation)."""

    channel: str
    phone: str
    text: str


def channel_of(settings: Settings, number_id: str) -> tuple[str, WhatsAppOptions] | None:
    """The configured channel that sends from the business number `number_id`, and its
    options."""
    for name, channel in settings.channels.items():
        options = channel.platform
        if isinstance(options, WhatsAppOptions) and options.phone_number_id == number_id:
            return name, options
    return None


def take_message(engine: Engine, settings: Settings, message: ReaderMessage) -> Reply | None:
    """Note a reader's message; a keyword subscribes or unsubscribes them. The answer to send
    back, if any."""
    found = channel_of(settings, message.number_id)
    phone = phone_number(message.phone)
    if found is None or phone is None:
        return None
    name, options = found
    word = keyword(message.text)
    state = None
    if word in {keyword(k) for k in options.unsubscribe_keywords}:
        state = SubscriberState.UNSUBSCRIBED
    elif word in {keyword(k) for k in options.subscribe_keywords}:
        state = SubscriberState.SUBSCRIBED
    # A time ahead of ours (a phone's clock, a forged event) would hold the window open.
    at = min(message.at, utcnow())
    with engine.begin() as connection:
        heard_from(connection, name, phone, at, state, f"keyword {message.text.strip()[:100]}")
    if state is None:
        return None
    subscribed = state == SubscriberState.SUBSCRIBED
    configured = options.subscribed_reply if subscribed else options.unsubscribed_reply
    if configured is None and subscribed:
        language = settings.channels[name].language or settings.language
        stop = next(iter(options.unsubscribe_keywords), "STOP")
        configured = translator(language, "desk")("reader_subscribed", stop=stop)
    return Reply(name, phone, configured) if configured else None


def keyword(text: str) -> str:
    """A message as a keyword is compared: full-width and other compatibility forms as their
    plain letters (ＳＴＯＰ is STOP), any case, without the spaces around it."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def take_status(engine: Engine, settings: Settings, status: StatusUpdate) -> bool:
    """Keep what became of a sent message on its delivery; False when no delivery of the
    channel sending from that business number sent it."""
    found = channel_of(settings, status.number_id)
    if found is None:
        return False
    name = found[0]
    at = min(status.at, utcnow())
    with engine.begin() as connection:
        row = connection.execute(
            select(
                deliveries.c.id, deliveries.c.channel, deliveries.c.recipient, deliveries.c.status
            )
            .where(deliveries.c.remote_id == status.remote_id)
            .limit(1)
        ).first()
        if row is None or row.channel != name:
            return False
        # Meta sends a status again when it hears no answer: each counts once.
        newly = _RANK.get(row.status or "", 0) < _RANK[status.status]
        if newly:
            error = f"{status.error_code}: {status.error}" if status.error_code else status.error
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id)
                .values(status=status.status, status_at=at, status_error=error)
            )
        phone = phone_number(row.recipient or status.phone)
        if not newly:
            return True
        if phone is not None and status.status == "failed" and status.error_code == UNDELIVERABLE:
            undeliverable(connection, row.channel, phone, at)
        elif phone is not None and status.status in ("delivered", "read"):
            delivered_to(connection, row.channel, phone)
        notify_change(connection)
    return True
