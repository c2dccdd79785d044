"""Webhook signatures as DESIGN.md specifies (like Stripe's and GitHub's): the hex HMAC-SHA256 of
`<timestamp>.<raw body>` with the secret in PUBLISHER_WEBHOOK_SECRET, sent as
`X-Publisher-Signature: sha256=<hex>` beside `X-Publisher-Timestamp: <unix seconds>`."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict

SECRET_ENV = "PUBLISHER_WEBHOOK_SECRET"
TIMESTAMP_HEADER = "X-Publisher-Timestamp"
SIGNATURE_HEADER = "X-Publisher-Signature"
PREFIX = "sha256="


class SignatureError(ValueError):
    """A request's signature does not prove it comes from the CMS; the message says why."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return PREFIX + digest.hexdigest()


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    window: int = 300,
    now: float | None = None,
) -> int:
    """Check a request's headers against its raw body; returns the timestamp. The comparison
    takes constant time; a timestamp more than `window` seconds away is refused (replay)."""
    if not timestamp or not signature:
        raise SignatureError(f"unsigned: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not unix seconds") from None
    now = time.time() if now is None else now
    if abs(now - sent) > window:
        raise SignatureError(f"timestamp outside the {window} s window (replayed or clock skew)")
    if not hmac.compare_digest(sign(secret, sent, body).encode(), signature.strip().encode()):
        raise SignatureError("signature does not match the body")
    return sent


class SeenSignatures:
    """Signatures accepted within the replay window: the same request twice is a replay."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, signature: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - 2 * self.window:
                self._seen.popitem(last=False)
            if signature in self._seen:
                return False
            self._seen[signature] = now
            return True
