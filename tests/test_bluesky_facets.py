"""Bluesky's links as atproto's own rich-text detection finds them: the written-out addresses
of atproto's detection tests (packages/api/tests/rich-text-detection.test.ts) get a link
facet over exactly the text atproto links, with UTF-8 byte offsets."""

from __future__ import annotations

import pytest

from publisher.channels.bluesky_richtext import facets

NO_LINK = "https://none.example/"
WIN95 = "https://socket3.wordpress.com/2018/02/03/designing-windows-95s-user-interface/"

# atproto's inputs with written-out addresses, and what it links in each.
ATPROTO = [
    ("start https://middle.com end", ["https://middle.com"]),
    ("start https://middle.com/foo/bar end", ["https://middle.com/foo/bar"]),
    ("start https://middle.com/foo/bar?baz=bux end", ["https://middle.com/foo/bar?baz=bux"]),
    (
        "start https://middle.com/foo/bar?baz=bux#hash end",
        ["https://middle.com/foo/bar?baz=bux#hash"],
    ),
    (
        "https://start.com/foo/bar?baz=bux#hash middle end",
        ["https://start.com/foo/bar?baz=bux#hash"],
    ),
    ("start middle https://end.com/foo/bar?baz=bux#hash", ["https://end.com/foo/bar?baz=bux#hash"]),
    (
        "https://newline1.com\nhttps://newline2.com",
        ["https://newline1.com", "https://newline2.com"],
    ),
    ("👨👩👧👧 https://middle.com 👨👩👧👧", ["https://middle.com"]),
    ("not.. a..url ..here", []),
    (f"Classic article {WIN95}", [WIN95]),
    (f"Classic article {WIN95} ", [WIN95]),
    (
        "https://foo.com https://bar.com/whatever https://baz.com",
        ["https://foo.com", "https://bar.com/whatever", "https://baz.com"],
    ),
    (
        "punctuation https://foo.com, https://bar.com/whatever; https://baz.com.",
        ["https://foo.com", "https://bar.com/whatever", "https://baz.com"],
    ),
    ("parenthentical (https://foo.com)", ["https://foo.com"]),
    ("except for https://foo.com/thing_(cool)", ["https://foo.com/thing_(cool)"]),
]


@pytest.mark.parametrize(("text", "linked"), ATPROTO)
def test_links_are_found_as_atproto_finds_them(text: str, linked: list[str]) -> None:
    encoded = text.encode()
    found = facets(text, NO_LINK)
    spans = [encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in found]
    uris = [f["features"][0]["uri"] for f in found]
    assert spans == linked and uris == linked


def test_a_post_without_a_link_of_its_own_gets_no_empty_facet() -> None:
    assert facets("Korrektur: Die Zahl war 12.", "") == []
