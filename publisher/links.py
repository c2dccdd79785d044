"""Tracking parameters on posted links: appended to the URL's own query, before any #fragment,
never overriding a parameter the URL already carries."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def with_tracking(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added; the URL's own query and fragment stay exactly as they were."""
    parts = urlsplit(url)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    added = [(key, value) for key, value in params.items() if key not in present and value]
    if not added:
        return url
    query = f"{parts.query}&{urlencode(added)}" if parts.query else urlencode(added)
    return urlunsplit(parts._replace(query=query))
