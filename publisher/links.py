"""Posted links: tracking parameters appended to the URL's own query, before any #fragment,
never overriding a parameter the URL already carries; and the newsroom's own redirect links
(`{redirect_base}/r/{code}`), one code per article and channel that only the newsroom's secret
can make."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# The environment variable holding the secret redirect codes are made with.
LINK_SECRET_ENV = "PUBLISHER_LINK_SECRET"
# 15 bytes of an HMAC: 120 bits, 24 characters, no guessing them.
CODE_BYTES = 15
CODE_PATTERN = re.compile(r"[a-z2-7]{24}")
_AT_END = re.compile(rf"/r/({CODE_PATTERN.pattern})$")


def with_tracking(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added; the URL's own query and fragment stay exactly as they were."""
    parts = urlsplit(url)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    added = [(key, value) for key, value in params.items() if key not in present and value]
    if not added:
        return url
    query = f"{parts.query}&{urlencode(added)}" if parts.query else urlencode(added)
    return urlunsplit(parts._replace(query=query))


def redirect_code(secret: str, article: str, channel: str) -> str:
    """The code of `article`'s link on `channel`: the same every time it is composed (a preview
    shows the link that goes out), unguessable without `secret`."""
    digest = hmac.new(secret.encode(), f"{article}\n{channel}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:CODE_BYTES]).decode().lower()


def redirect_link(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/r/{code}"


def code_at_end(link: str) -> str | None:
    """The code of a redirect link, whatever base it was made with; None for any other."""
    found = _AT_END.search(link)
    return found.group(1) if found else None


def code_in(base: str, link: str) -> str | None:
    """The code of a redirect link made with `base`; None for any other link."""
    prefix = redirect_link(base, "")
    code = link.removeprefix(prefix) if link.startswith(prefix) else ""
    return code if CODE_PATTERN.fullmatch(code) else None
