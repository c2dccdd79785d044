"""Bluesky's rich text: a link shown shortened in a post's text as Bluesky's app shows it, and
the link facets (UTF-8 byte offsets) of every address written out and of the article's link
where its shortened form stands, as atproto's rich-text detection finds them."""

from __future__ import annotations

import re
from typing import Any

# Links in the text are shown shortened to this many characters, as Bluesky's app does.
LINK_DISPLAY = 30
# An address written out, as atproto's rich-text detection finds one: at the start, after a
# space or "(", up to the next space; one closing mark is not part of it (see `link_end`).
_URL = re.compile(r"(?:^|(?<=[\s(]))https?://\S+")


def shown_link(url: str) -> str:
    """A link as the text shows it: without its scheme, cut after LINK_DISPLAY characters."""
    bare = re.sub(r"^https?://(www\.)?", "", url)
    return bare if len(bare) <= LINK_DISPLAY else bare[: LINK_DISPLAY - 1] + "…"


def link_end(uri: str) -> str:
    """An address without the mark that ends the sentence around it, as atproto reads it: one
    of `.,;:!?`, then a ")" that closes no "(" of the address (thing_(cool) keeps its own)."""
    if uri[-1] in ".,;:!?":
        uri = uri[:-1]
    if uri.endswith(")") and "(" not in uri:
        uri = uri[:-1]
    return uri


def facets(text: str, link: str) -> list[dict[str, Any]]:
    """Link facets for `text`: the article link where its shortened form stands, and every
    other address written out, with UTF-8 byte offsets."""
    found: list[dict[str, Any]] = []
    encoded = text.encode()

    def add(start: int, end: int, uri: str) -> None:
        byte_start = len(text[:start].encode())
        byte_end = byte_start + len(text[start:end].encode())
        if byte_end <= len(encoded):
            found.append(
                {
                    "index": {"byteStart": byte_start, "byteEnd": byte_end},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
                }
            )

    taken: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        uri = link_end(match.group(0))
        add(match.start(), match.start() + len(uri), uri)
        taken.append((match.start(), match.start() + len(uri)))
    shown = shown_link(link) if link else ""
    # A post without a link of its own (a correction under another) has no shortened link.
    at = text.find(shown) if shown else -1
    if at >= 0 and not any(start <= at < end for start, end in taken):
        add(at, at + len(shown), link)
    return sorted(found, key=lambda facet: facet["index"]["byteStart"])
