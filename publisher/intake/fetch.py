"""Fetch pages and feeds that editors paste or feeds name, within time and size limits and
without reaching private, loopback or link-local addresses (no SSRF through a pasted link).

Address checks happen when connecting (requests-hardened pins the resolved address), so a
redirect or a DNS answer that points inward is refused as well. The time limit holds for the
whole fetch: a server that trickles a byte at a time is cut off when it runs out, not after
each read.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass, field

import requests
from requests_hardened import Config as HardenedConfig
from requests_hardened import HTTPSession, ip_filter
from requests_hardened.ip_filter import InvalidIPAddress

from publisher import __version__
from publisher.articles import ArticleError, check_http_url

# The refusal is reported to the caller as a FetchError; the library's own warning would repeat it.
logging.getLogger("requests_hardened").setLevel(logging.ERROR)

# requests-hardened judges IPv4-mapped addresses (::ffff:a.b.c.d) by their IPv4 part but lets
# the deprecated IPv4-compatible form (::a.b.c.d, RFC 4291 2.5.5.1) through; no public host uses
# it, so the whole range is refused.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
if _IPV4_COMPATIBLE not in ip_filter.EXTRA_BLOCKED_NET_RANGES:
    ip_filter.EXTRA_BLOCKED_NET_RANGES = (*ip_filter.EXTRA_BLOCKED_NET_RANGES, _IPV4_COMPATIBLE)

USER_AGENT = f"publisher/{__version__} (+https://github.com/publisher-newsroom/publisher)"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    """How far a fetch may go: seconds in all, bytes of body, redirects, and private networks."""

    timeout: float = 10.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private_networks: bool = False


@dataclass(frozen=True)
class Fetched:
    """A fetched document: its final URL after redirects, body and declared content type."""

    url: str
    body: bytes
    content_type: str | None
    status: int
    headers: dict[str, str]


class FetchError(ArticleError):
    """A URL could not be fetched; the message names the URL and the reason, never a secret."""


@dataclass
class _Transfer:
    """One fetch running in a thread of its own, so that the caller can give up at the deadline
    and cut the connection."""

    response: requests.Response | None = None
    result: Fetched | None = None
    error: BaseException | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    def cut(self) -> None:
        """Stop the transfer at once: shut the socket down under a blocked read."""
        self.stopped.set()
        connection = getattr(self.response.raw, "_connection", None) if self.response else None
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _session(limits: FetchLimits) -> requests.Session:
    # requests-hardened's session is a requests.Session (the library ships no types).
    session: requests.Session = HTTPSession(
        HardenedConfig(
            ip_filter_enable=not limits.allow_private_networks,
            ip_filter_allow_loopback_ips=False,
            never_redirect=False,
            default_timeout=(min(limits.timeout, 5.0), limits.timeout),
            user_agent_override=USER_AGENT,
        )
    )
    session.max_redirects = limits.max_redirects
    return session


def _transfer(url: str, limits: FetchLimits, headers: dict[str, str], transfer: _Transfer) -> None:
    try:
        with _session(limits) as session:
            response = session.get(url, headers=headers, stream=True)
            transfer.response = response
            with response:
                body = bytearray()
                while not transfer.stopped.is_set():
                    # read1 returns what has arrived, so the deadline is checked between reads
                    # however slowly the server sends.
                    chunk = response.raw.read1(_CHUNK, decode_content=True)
                    if not chunk:
                        break
                    body += chunk
                    if len(body) > limits.max_bytes:
                        raise FetchError(
                            f"{url}: larger than {limits.max_bytes:,} bytes",
                            key="fetch_too_large",
                            url=url,
                            limit=limits.max_bytes,
                        )
                transfer.result = Fetched(
                    url=response.url,
                    body=bytes(body),
                    content_type=response.headers.get("Content-Type"),
                    status=response.status_code,
                    headers=dict(response.headers),
                )
    except BaseException as exc:  # handed to the caller's thread
        transfer.error = exc


def fetch(
    url: str, limits: FetchLimits | None = None, headers: dict[str, str] | None = None
) -> Fetched:
    """GET `url` within `limits`; conditional headers (ETag, Last-Modified) may be passed."""
    limits = limits or FetchLimits()
    url = check_http_url(url)
    transfer = _Transfer()
    worker = threading.Thread(
        target=_transfer, args=(url, limits, headers or {}, transfer), daemon=True, name="fetch"
    )
    started = time.monotonic()
    worker.start()
    worker.join(limits.timeout)
    if worker.is_alive():
        transfer.cut()
        raise FetchError(
            f"{url}: timed out, took longer than {limits.timeout:g} s",
            key="fetch_timed_out",
            url=url,
            seconds=f"{limits.timeout:g}",
        )
    if transfer.error is not None:
        raise _described(url, limits, transfer.error, time.monotonic() - started) from None
    assert transfer.result is not None
    return transfer.result


def _described(url: str, limits: FetchLimits, error: BaseException, seconds: float) -> Exception:
    """The FetchError an editor reads for what went wrong in the transfer."""
    if isinstance(error, FetchError):
        return error
    if isinstance(error, InvalidIPAddress):
        return FetchError(
            f"{url}: refused, it leads to a private or local address "
            "(set [fetch] allow_private_networks = true to allow)",
            key="fetch_private",
            url=url,
        )
    if isinstance(error, requests.TooManyRedirects):
        return FetchError(
            f"{url}: more than {limits.max_redirects} redirects", key="fetch_redirects", url=url
        )
    if isinstance(error, requests.Timeout):
        took = f"{min(seconds, limits.timeout):.2g}"
        return FetchError(
            f"{url}: timed out after {took} s", key="fetch_timed_out", url=url, seconds=took
        )
    if isinstance(error, requests.RequestException | OSError):
        return FetchError(
            f"{url}: cannot fetch ({type(error).__name__})", key="fetch_failed", url=url
        )
    if isinstance(error, Exception):
        return error
    return FetchError(f"{url}: cannot fetch", key="fetch_failed", url=url)
