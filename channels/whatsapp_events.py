"""What WhatsApp's webhook tells a business number (Cloud API, `field = "messages"`): messages
readers wrote, and the statuses of messages sent to them. Read from the payload Meta documents
(developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components): `entry[].changes[].value`
with `metadata.phone_number_id`, `messages[]` (`from`, `timestamp`, `type`, `text.body` or a
quick-reply `button.text`) and `statuses[]` (`id`, `status` of sent, delivered, read or failed,
`recipient_id`, `timestamp`, `errors[]` with `code` and `title`). Anything else is left out.
Also how Meta proves it is Meta: the verification query (`hub.mode=subscribe`, `hub.verify_token`,
`hub.challenge`) and `X-Hub-Signature-256` (`sha256=` and the HMAC-SHA256 of the raw body with the
app secret)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"
STATUSES = ("sent", "delivered", "read", "failed")
# The message could not be delivered to the number (not on WhatsApp, or it cannot receive).
UNDELIVERABLE = "131026"


@dataclass(frozen=True)
class ReaderMessage:
    """A message a reader sent to the business number."""

    number_id: str
    phone: str
    text: str
    at: datetime


@dataclass(frozen=True)
class StatusUpdate:
    """What became of a message sent: `status` one of STATUSES, with the error when it failed."""

    number_id: str
    remote_id: str
    status: str
    phone: str
    at: datetime
    error_code: str | None = None
    error: str | None = None


def _when(value: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def read_events(payload: object) -> tuple[list[ReaderMessage], list[StatusUpdate]]:
    """The readers' messages and the status updates of one webhook payload."""
    messages: list[ReaderMessage] = []
    statuses: list[StatusUpdate] = []
    if not isinstance(payload, dict):
        return messages, statuses
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            number_id = str(_dict(value.get("metadata")).get("phone_number_id", ""))
            for message in _list(value.get("messages")):
                body = _dict(message.get("text")).get("body")
                text = body if body is not None else _dict(message.get("button")).get("text")
                if message.get("from") and isinstance(text, str):
                    at = _when(message.get("timestamp"))
                    messages.append(ReaderMessage(number_id, str(message["from"]), text, at))
            for status in _list(value.get("statuses")):
                if status.get("status") not in STATUSES or not status.get("id"):
                    continue
                errors = _list(status.get("errors"))
                first = errors[0] if errors else {}
                statuses.append(
                    StatusUpdate(
                        number_id,
                        str(status["id"]),
                        str(status["status"]),
                        str(status.get("recipient_id", "")),
                        _when(status.get("timestamp")),
                        str(first["code"])[:20] if "code" in first else None,
                        str(first.get("title") or first.get("message") or "")[:500] or None,
                    )
                )
    return messages, statuses


def challenge(query: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to answer Meta's verification with, or None when it is not Meta's request
    for this verify token (compared in constant time)."""
    given = query.get("hub.verify_token", "")
    if (
        not verify_token
        or query.get("hub.mode") != "subscribe"
        or not hmac.compare_digest(given.encode(), verify_token.encode())
    ):
        return None
    return query.get("hub.challenge", "")


def signed_by(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is Meta's signature of `body` with the app `secret`."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())
