"""What the requests-based channels share: reading network failures and Retry-After headers the
way the engine needs them (never sent, maybe sent, or when to try again)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from publisher.channels.base import ChannelError

if TYPE_CHECKING:
    import requests


def network_error(name: str, exc: requests.RequestException) -> ChannelError:
    """Classify a failed request: refused connections and connect timeouts never reached the
    platform; a read timeout or a dropped connection after sending may have posted."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return ChannelError("transient", f"{name}: connection timed out", never_sent=True)
    if isinstance(exc, requests.ReadTimeout):
        return ChannelError("uncertain", f"{name}: no answer in time after sending")
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, NewConnectionError):
            return ChannelError("transient", f"{name}: cannot connect", never_sent=True)
        return ChannelError("uncertain", f"{name}: connection lost while sending")
    return ChannelError(
        "transient", f"{name}: request failed ({type(exc).__name__})", never_sent=True
    )


def retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
