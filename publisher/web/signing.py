"""Webhook signatures as the README's "Publishing on release" specifies (like Stripe's and
GitHub's): the hex HMAC-SHA256 of `<timestamp>.<raw body>` with the secret in
PUBLISHER_WEBHOOK_SECRET, sent as `X-Publisher-Signature: sha256=<hex>` beside
`X-Publisher-Timestamp: <unix seconds>`."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from publisher.engine.releases.replays import spent_before
from publisher.errors import EditorError

SECRET_ENV = "PUBLISHER_WEBHOOK_SECRET"
# While the secret is replaced: the one the CMS may still sign with, accepted beside it.
PREVIOUS_SECRET_ENV = "PUBLISHER_WEBHOOK_SECRET_PREVIOUS"
TIMESTAMP_HEADER = "X-Publisher-Timestamp"
SIGNATURE_HEADER = "X-Publisher-Signature"
PREFIX = "sha256="


class SignatureError(EditorError):
    """A request's signature does not prove it comes from the CMS; the message says why."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return PREFIX + digest.hexdigest()


_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


def canonical(signature: str) -> str:
    """The one spelling of a signature header: `sha256=` and 64 hex digits in lower case; any
    other (a trailing no-break space, a control character, a second value) is refused, so that
    a replay cannot pass as a new, unspent signature."""
    if _SIGNATURE.fullmatch(signature) is None:
        raise SignatureError(f"{SIGNATURE_HEADER} is not sha256= and 64 hex digits")
    return PREFIX + signature[len(PREFIX) :].lower()


def verify(
    secret: str | Sequence[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    window: int = 300,
    now: float | None = None,
) -> int:
    """Check a request's headers against its raw body; returns the timestamp. The comparison
    takes constant time; a timestamp more than `window` seconds away is refused (replay). While
    a secret is being replaced, the old one is given too, and a signature with either counts."""
    sent, given_signature = timely(timestamp, signature, window=window, now=now)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    given = given_signature.encode()
    # Every secret is compared, so the time taken does not tell which one matched.
    matches = [hmac.compare_digest(sign(s, sent, body).encode(), given) for s in secrets if s]
    if not any(matches):
        raise SignatureError("signature does not match the body")
    return sent


def timely(
    timestamp: str | None, signature: str | None, *, window: int, now: float | None = None
) -> tuple[int, str]:
    """The headers' timestamp and canonical signature, when both are there, well formed and
    the timestamp within `window` seconds: what can be checked before the body is read."""
    if not timestamp or not signature:
        raise SignatureError(f"unsigned: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not unix seconds") from None
    now = time.time() if now is None else now
    if abs(now - sent) > window:
        raise SignatureError(f"timestamp outside the {window} s window (replayed or clock skew)")
    return sent, canonical(signature)


class Replayed(SignatureError):
    """A signed request that was already received and stored."""


def spend(connection: Connection, signature: str, window: int, now: datetime) -> None:
    """Record `signature` as used, in the caller's transaction (the release it carries), so that
    every instance refuses it again (`publisher.engine.releases.replays`). Raises Replayed when
    it was used before. It is kept in its canonical spelling, as it was checked."""
    if spent_before(connection, canonical(signature), window, now):
        raise Replayed("this signed request was already received (replay)")
