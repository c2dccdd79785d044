"""The back catalogue as a newsroom's sites list it: a sitemap (`<urlset>`, with Google's news and
image extensions), a sitemap index, a feed with the pages of its history (RFC 5005's
`prev-archive`), or JSON lines of Article JSON. Pure parsing: the further documents a listing
names are returned for the caller to fetch, within its bounds."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import lxml.etree

from publisher.articles import Article, ArticleError, article_from_mapping
from publisher.clock import utcnow
from publisher.intake.feeds import FeedError, parse_feed

# Sitemaps may be sent gzipped (`sitemap.xml.gz`); unpacked, one is at most this large (the
# protocol allows 50 MB).
MOST_UNPACKED = 50 * 1024 * 1024
# Dates outside these are no publication date of a news article (a typo, a placeholder).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_SAFE_XML = lxml.etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


@dataclass(frozen=True)
class Listed:
    """One article a listing names: its address and what the listing says of it (a sitemap
    without news tags says only where it is and when it changed), or the whole article."""

    url: str
    headline: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    image: str | None = None
    article: Article | None = None

    def as_article(self, default_tz: tzinfo) -> Article | None:
        """The article as listed, or None when the listing has no headline for it."""
        if self.article is not None:
            return self.article
        if not self.headline:
            return None
        data: dict[str, Any] = {"url": self.url, "headline": self.headline}
        if self.published_at:
            data["published_at"] = self.published_at.isoformat()
        if self.language:
            data["language"] = self.language
        if self.image:
            data["image"] = {"url": self.image}
        return article_from_mapping(data, default_tz=default_tz)


@dataclass
class Listing:
    """What one document lists: articles, further documents (an index's sitemaps, a feed's
    older page), and what it left out, each with why."""

    items: list[Listed] = field(default_factory=list)
    more: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def read_listing(body: bytes, source: str, *, default_tz: tzinfo) -> Listing:
    """The articles and further documents of a sitemap, sitemap index, feed or JSON lines."""
    if body[:2] == b"\x1f\x8b":
        body = _gunzipped(body, source)
    start = body.lstrip()[:1]
    if start in (b"{", b""):
        return _json_lines(body, source, default_tz)
    root = _xml_root(body)
    if root is not None and _local(root.tag) == "urlset":
        return _urlset(root, default_tz)
    if root is not None and _local(root.tag) == "sitemapindex":
        return Listing(more=[url for url, _ in _locations(root, "sitemap")])
    return _feed(body, source, root)


def _gunzipped(body: bytes, source: str) -> bytes:
    unpacker = zlib.decompressobj(wbits=31)
    try:
        unpacked = unpacker.decompress(body, MOST_UNPACKED)
    except zlib.error:
        raise ArticleError(f"{source}: a damaged gzip file") from None
    if unpacker.unconsumed_tail:
        raise ArticleError(f"{source}: unpacked, more than {MOST_UNPACKED // 2**20} MB")
    return unpacked


def _xml_root(body: bytes) -> Any:
    try:
        return lxml.etree.fromstring(body, parser=_SAFE_XML)
    except lxml.etree.XMLSyntaxError:
        return None


def _local(tag: Any) -> str:
    return lxml.etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: Any, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name and child.text and child.text.strip():
            return str(child.text.strip())
    return None


def _locations(root: Any, entry: str) -> list[tuple[str, Any]]:
    """The `<loc>` of each `entry` element (`url`, `sitemap`) of a sitemap, with the element."""
    found = []
    for element in root:
        if _local(element.tag) == entry:
            location = _child_text(element, "loc")
            if location:
                found.append((location, element))
    return found


def _urlset(root: Any, tz: tzinfo) -> Listing:
    listing = Listing()
    for url, element in _locations(root, "url"):
        news = next((c for c in element if _local(c.tag) == "news"), None)
        image = next((c for c in element if _local(c.tag) == "image"), None)
        publication = (
            next((c for c in news if _local(c.tag) == "publication"), None)
            if news is not None
            else None
        )
        published = _date(_child_text(news, "publication_date") if news is not None else None, tz)
        listing.items.append(
            Listed(
                url=url,
                headline=_child_text(news, "title") if news is not None else None,
                published_at=published or _date(_child_text(element, "lastmod"), tz),
                language=_child_text(publication, "language") if publication is not None else None,
                image=_child_text(image, "loc") if image is not None else None,
            )
        )
    return listing


def _date(text: str | None, tz: tzinfo) -> datetime | None:
    """A W3C date or time of a sitemap (without an offset: in the newsroom's zone), or None
    where there is none or it cannot be one."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if not EARLIEST <= moment <= utcnow() + timedelta(days=1):
        return None
    return moment


def _feed(body: bytes, source: str, root: Any) -> Listing:
    left_out: list[str] = []
    try:
        entries = parse_feed(body, source=source, left_out=left_out)
    except FeedError as exc:
        raise ArticleError(f"{source}: neither a sitemap, a feed nor JSON lines ({exc})") from None
    older = [
        str(link.get("href"))
        for link in (root.iter() if root is not None else ())
        if _local(link.tag) == "link" and link.get("rel") == "prev-archive" and link.get("href")
    ]
    items = [Listed(entry.article.url, article=entry.article) for entry in entries]
    return Listing(items, older[:1], left_out)


def _json_lines(body: bytes, source: str, default_tz: tzinfo) -> Listing:
    listing = Listing()
    for number, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            article = article_from_mapping(json.loads(line), default_tz=default_tz)
        except (ValueError, RecursionError) as exc:
            listing.left_out.append(f"{source} line {number}: {_why(exc)}")
            continue
        listing.items.append(Listed(article.url, article=article))
    return listing


def _why(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg})"
    return str(exc).splitlines()[0]
