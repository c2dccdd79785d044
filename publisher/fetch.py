"""Fetch pages and feeds that editors paste or feeds name, within time and size limits and
without reaching private, loopback or link-local addresses (no SSRF through a pasted link).

Address checks happen when connecting (requests-hardened pins the resolved address), so a
redirect or a DNS answer that points inward is refused as well.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import requests
from requests_hardened import Config as HardenedConfig
from requests_hardened import HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress

from publisher import __version__
from publisher.articles import ArticleError, check_http_url

# The refusal is reported to the caller as a FetchError; the library's own warning would repeat it.
logging.getLogger("requests_hardened").setLevel(logging.ERROR)

USER_AGENT = f"publisher/{__version__} (+https://github.com/publisher-newsroom/publisher)"


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


def _session(limits: FetchLimits) -> requests.Session:
    session = HTTPSession(
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


def fetch(
    url: str, limits: FetchLimits | None = None, headers: dict[str, str] | None = None
) -> Fetched:
    """GET `url` within `limits`; conditional headers (ETag, Last-Modified) may be passed."""
    limits = limits or FetchLimits()
    url = check_http_url(url)
    deadline = time.monotonic() + limits.timeout
    try:
        with _session(limits) as session:
            response = session.get(url, headers=headers or {}, stream=True)
            with response:
                body = bytearray()
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > limits.max_bytes:
                        raise FetchError(f"{url}: larger than {limits.max_bytes:,} bytes")
                    if time.monotonic() > deadline:
                        raise FetchError(f"{url}: took longer than {limits.timeout:g} s")
                return Fetched(
                    url=response.url,
                    body=bytes(body),
                    content_type=response.headers.get("Content-Type"),
                    status=response.status_code,
                    headers=dict(response.headers),
                )
    except InvalidIPAddress:
        raise FetchError(
            f"{url}: refused, it leads to a private or local address "
            "(set [fetch] allow_private_networks = true to allow)"
        ) from None
    except requests.TooManyRedirects:
        raise FetchError(f"{url}: more than {limits.max_redirects} redirects") from None
    except requests.Timeout:
        raise FetchError(f"{url}: timed out after {limits.timeout:g} s") from None
    except requests.RequestException as exc:
        raise FetchError(f"{url}: cannot fetch ({type(exc).__name__})") from None
