"""Read RSS and Atom feeds into entries, each with the Article its own title, summary and link
make (the feed watcher fetches the article page for a fuller teaser when it can)."""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax import SAXException

import feedparser
import lxml.etree
import lxml.html

from publisher.articles import Article, ArticleError, article_from_mapping

logger = logging.getLogger(__name__)


class FeedError(ArticleError):
    """A document is not a usable feed."""


@dataclass(frozen=True)
class FeedEntry:
    """One feed item: `key` identifies it across polls (guid, else link)."""

    key: str
    article: Article


def _plain(html_text: str) -> str:
    if "<" not in html_text:
        return html_text
    try:
        return str(lxml.html.fragment_fromstring(html_text, create_parent="div").text_content())
    except (lxml.etree.ParserError, ValueError):
        return html_text


def _image(entry: feedparser.FeedParserDict) -> dict[str, str] | None:
    for media in entry.get("media_content", []) + entry.get("media_thumbnail", []):
        if media.get("url") and media.get("medium", "image") == "image":
            return {"url": media["url"]}
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return {"url": link["href"]}
    return None


def _published(entry: feedparser.FeedParserDict) -> str | None:
    """The item's publication time; none for one no calendar holds (year 0, after 9999)."""
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC).isoformat()
    except (ValueError, OverflowError):
        return None


_WEB_PAGE = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", re.I | re.S
)


def parse_feed(
    body: bytes, *, source: str, language: str | None = None, left_out: list[str] | None = None
) -> list[FeedEntry]:
    """The entries of an RSS/Atom document, newest first as the feed lists them; entries without a
    link or title are skipped, and those that make no article (an address no parser takes) are
    left out, each with why in `left_out`. Raises FeedError when the document is no feed."""
    if _WEB_PAGE.match(body[:4096]):
        raise FeedError(f"{source}: this is a web page, not a feed (look for its RSS or Atom link)")
    parsed = feedparser.parse(body)
    problem = parsed.get("bozo_exception")
    # A feed that is not well-formed XML is refused whole: what the loose parser salvages
    # from a truncated or tampered document is not worth posting.
    if isinstance(problem, SAXException) or (parsed.bozo and not parsed.entries):
        raise FeedError(f"{source}: not a valid RSS or Atom feed ({problem})")
    if not parsed.version and not parsed.entries:
        raise FeedError(f"{source}: not an RSS or Atom feed")
    feed_language = parsed.feed.get("language") or language
    entries = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link or not entry.get("title"):
            continue
        tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
        fields = {
            "id": entry.get("id"),
            "url": link,
            "headline": _plain(entry["title"]),
            "lead": _plain(entry.get("summary", "")),
            "tags": tags,
            # An item's first <category> is its section, which release rules match on.
            "section": tags[0] if tags else None,
            "image": _image(entry),
            "language": feed_language,
            "published_at": _published(entry),
        }
        try:
            article = article_from_mapping(fields)
        except (ArticleError, ValueError) as exc:
            # One item's fault is that item's: the feed's other items go on.
            logger.warning("feed %s: an item is left out (%s)", source, exc)
            if left_out is not None:
                left_out.append(f"item {str(entry.get('id') or link)[:200]}: {exc}")
            continue
        entries.append(FeedEntry(key=entry.get("id") or link, article=article))
    return entries
