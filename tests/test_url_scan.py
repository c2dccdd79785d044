"""Finding links in time linear in the text finds what twitter-text finds: the same links, at the
same places, in every text whose words are no longer than a domain name's label may be."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st
from twitter_text.extract_urls import extract_urls_with_indices

from publisher.channels.text import urls_in
from publisher.channels.url_scan import LONGEST_LABEL

PIECES = [
    "https://", "http://", "www.", "zeit", "example", "xn--bcher-kva", "bücher", "t.co/", "中文",
    ".de", ".com", ".co.uk", ".museum", ".x", "/", "/politik/2026-12/", "a", "ä", "B", "1", "-",
    "_", ".", ",", ":", ":8080", "?", "?id=1&b=2", "=", "&", "(", ")", "!", "'", '"', "~", "%20",
    " ", "\n", "…", "—", "„", "“", "👉", "\u200e", "#", "@", "$", "＠", "\x08",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)


def library(text: str, without_protocol: bool) -> list[tuple[int, int]]:
    found = extract_urls_with_indices(text, extract_urls_without_protocol=without_protocol)
    return [(u["indices"][0], u["indices"][1]) for u in found]


def ours(text: str, without_protocol: bool) -> list[tuple[int, int]]:
    return [
        (u["indices"][0], u["indices"][1]) for u in urls_in(text, without_protocol=without_protocol)
    ]


def an_editors(text: str) -> bool:
    return all(len(word) < LONGEST_LABEL for word in re.split(r"[\s./:?=&()_-]", text))


@given(texts, st.booleans())
def test_the_links_found_are_the_ones_twitter_text_finds(text: str, bare: bool) -> None:
    assume(an_editors(text))
    assert ours(text, bare) == library(text, bare)


def test_a_bare_domain_counts_with_its_path_only() -> None:
    assert ours("siehe zeit.de/politik und zeit.de?x=1", True) == [(6, 21), (26, 33)]


def test_a_link_with_a_label_longer_than_a_domain_name_allows_is_no_link() -> None:
    assert ours("https://" + "a" * 64 + ".de", False) == []
