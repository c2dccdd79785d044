"""What the requests-based channels share: a session made at the first call, and reading HTTP
answers, network failures and Retry-After headers the way the engine needs them (never sent,
maybe sent, refused for good, or when to try again). A platform's own error bodies and codes are
read in its module, which hands every status it has no word of its own for to `by_status`."""

from __future__ import annotations

import os
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from publisher.channels.base import ChannelError

if TYPE_CHECKING:
    import aiohttp
    import requests


# How long to wait after a 429 that says nothing of when to come back.
RATE_LIMIT_WAIT = 60.0
# A gateway's answers: the platform behind it may have taken the call and its answer been lost.
GATEWAY_LOST = frozenset({502, 504})


def by_status(
    status: int,
    message: str,
    *,
    code: str | None = None,
    wait: float = RATE_LIMIT_WAIT,
    retry_safe: bool = False,
) -> ChannelError:
    """The one reading of an HTTP status that all channels share. 401: the platform refuses
    the credential (an editor renews it); 403: a permission is missing (an editor grants it);
    429: a rate limit (try again after `wait` seconds); 502 and 504: a gateway lost the answer,
    so the post may be up: uncertain, unless trying again is safe for this platform
    (`retry_safe`: an idempotency key, or a look for the post before trying again); 408 and
    other 5xx: not taken, try again later; any other: refused for good. `code` names the
    platform's own error where it has one (default: the status)."""
    code = code or str(status)
    if status == 401:
        return ChannelError("auth", message, code=code, fix="credentials")
    if status == 403:
        return ChannelError("auth", message, code=code, fix="permissions")
    if status == 429:
        return ChannelError("rate_limited", message, retry_after=wait, code=code)
    if status in GATEWAY_LOST and not retry_safe:
        return ChannelError("uncertain", f"{message}: the answer was lost on the way", code=code)
    if status == 408 or status >= 500:
        return ChannelError("transient", message, code=code)
    return ChannelError("permanent", message, code=code)


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


def network_error_async(name: str, exc: aiohttp.ClientError | TimeoutError) -> ChannelError:
    """`network_error` for an asyncio call: a connection refused or not made in time never
    reached the platform; a read timeout or a dropped connection after sending may have posted."""
    import aiohttp

    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ChannelError("transient", f"{name}: connection timed out", never_sent=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ChannelError("transient", f"{name}: cannot connect", never_sent=True)
    if isinstance(exc, TimeoutError):
        return ChannelError("uncertain", f"{name}: no answer in time after sending")
    if isinstance(exc, aiohttp.ClientOSError | aiohttp.ServerDisconnectedError):
        return ChannelError("uncertain", f"{name}: connection lost while sending")
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return ChannelError("uncertain", f"{name}: the answer broke off after sending")
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
    compose); a request that fails to reach the platform raises the classified ChannelError.

    The environment's proxy and certificate settings are read once, when the session is made,
    for the platform's address `base`: requests would read the whole environment again at every
    call, which was a quarter of a WhatsApp fan-out's time. `connections` is how many calls may
    be in flight at once on one connection each."""

    def __init__(self, name: str, timeout: float, base: str = "", connections: int = 10) -> None:
        self.name = name
        self.timeout = timeout
        self.base = base
        self.connections = connections
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = _session(self.proxies, self.certificates, self.connections)
        return self._session

    @cached_property
    def proxies(self) -> dict[str, str] | None:
        """The proxies the environment names for `base`, read once (None without `base`: then
        requests reads the environment at each call, for a channel that calls several hosts)."""
        from requests.utils import get_environ_proxies

        return dict(get_environ_proxies(self.base)) if self.base else None

    @cached_property
    def proxy(self) -> str | None:
        """The one proxy for calls to `base` made outside requests (a fan-out's asyncio calls)."""
        proxies = self.proxies or {}
        return proxies.get(urlsplit(self.base).scheme) or proxies.get("all")

    @cached_property
    def certificates(self) -> str | None:
        """The certificate authorities the environment names for requests (a file or folder,
        as `REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE` say), read once; None: the usual ones."""
        return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None

    @cached_property
    def tls(self) -> ssl.SSLContext | bool:
        """How calls outside requests (a fan-out's asyncio calls) check the platform's
        certificate: against the authorities the environment names, else the usual ones."""
        if not self.certificates:
            return True
        if os.path.isdir(self.certificates):
            return ssl.create_default_context(capath=self.certificates)
        return ssl.create_default_context(cafile=self.certificates)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        import requests

        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise network_error(self.name, exc) from None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


def _session(
    proxies: dict[str, str] | None, certificates: str | None, connections: int
) -> requests.Session:
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    if proxies is not None:
        session.proxies = proxies
        # What requests itself would take from the environment for `verify`.
        if certificates:
            session.verify = certificates
        session.trust_env = False
    pooled = HTTPAdapter(pool_connections=4, pool_maxsize=connections)
    session.mount("https://", pooled)
    session.mount("http://", pooled)
    return session
