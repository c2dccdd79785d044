"""What the requests-based channels share: a session made at the first call, and reading network
failures and Retry-After headers the way the engine needs them (never sent, maybe sent, or when
to try again)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

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


class HttpSession:
    """One channel's requests session, made at the first call (channels are also built just to
    compose); a request that fails to reach the platform raises the classified ChannelError."""

    def __init__(self, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        self._session: requests.Session | None = None

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        import requests

        if self._session is None:
            self._session = requests.Session()
        try:
            return self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise network_error(self.name, exc) from None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
