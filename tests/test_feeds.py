"""RSS and Atom entries become Articles."""

from __future__ import annotations

import pytest

from publisher.intake.feeds import FeedError, parse_feed

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>News</title>
<language>de-DE</language>
<item><title>Tom &amp; Jerry</title><link>https://e.de/a</link><guid>id-1</guid>
<description>&lt;p&gt;Der &lt;b&gt;Vorspann&lt;/b&gt;.&lt;/p&gt;</description>
<category>Politik</category><pubDate>Tue, 31 Dec 2024 10:15:00 +0100</pubDate>
<media:content url="https://e.de/i.jpg" medium="image"/></item>
<item><title>Ohne Link</title></item>
<item><title>Zweiter</title><link>https://e.de/b</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>N</title><id>urn:n</id><updated>2024-12-31T10:00:00Z</updated>
<entry><title>Atom-Eintrag</title><id>urn:e1</id><link href="https://e.de/atom"/>
<updated>2024-12-31T10:00:00Z</updated><summary>Kurz.</summary></entry></feed>"""


def test_rss_item_becomes_an_article_with_plain_text() -> None:
    entry = parse_feed(RSS, source="rss")[0]
    assert entry.key == "id-1"
    article = entry.article
    assert (article.headline, article.lead, article.url) == (
        "Tom & Jerry",
        "Der Vorspann.",
        "https://e.de/a",
    )
    assert (article.tags, article.language, article.image.url) == (
        ("Politik",),
        "de",
        "https://e.de/i.jpg",
    )
    assert article.published_at.isoformat() == "2024-12-31T09:15:00+00:00"


def test_items_without_link_are_skipped_and_link_keys_the_rest() -> None:
    assert [e.key for e in parse_feed(RSS, source="rss")] == ["id-1", "https://e.de/b"]


def test_atom_entry_becomes_an_article() -> None:
    entry = parse_feed(ATOM, source="atom")[0]
    assert (entry.key, entry.article.headline, entry.article.lead) == (
        "urn:e1",
        "Atom-Eintrag",
        "Kurz.",
    )


@pytest.mark.parametrize(
    "body", [b"<html><body>Kein Feed</body></html>", b"<rss><channel><item>", b"\x00\x01binary"]
)
def test_documents_that_are_no_feed_are_refused(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(body, source="broken")


def test_an_items_category_is_its_section() -> None:
    assert parse_feed(RSS, source="rss")[0].article.section == "Politik"


def test_a_web_page_given_as_a_feed_is_named_a_web_page() -> None:
    page = b"<!doctype html><html><head><title>News</title></head><body><p>Hi</p></body></html>"
    with pytest.raises(FeedError, match="a web page, not a feed"):
        parse_feed(page, source="newsde")
