"""Read an article page's declared metadata (JSON-LD, Open Graph, Twitter cards, microdata,
`<title>`, canonical link) into an Article.

Each field takes the first value found in a fixed order of sources, most specific first: the
page's schema.org Article, then Open Graph, then Twitter cards and plain meta tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
from w3lib.encoding import html_to_unicode

from publisher.articles import (
    MAX_LEAD,
    MAX_SHORT,
    MAX_TAGS,
    Article,
    ArticleError,
    article_from_mapping,
    check_http_url,
    normalise_text,
)
from publisher.clock import FIRST_DAY, LAST_DAY
from publisher.intake import headlines
from publisher.intake.headlines import HEADLINE_MAX, Declared
from publisher.intake.summaries import summary_bullets

_ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report)$")
# Headings inside these are the page's furniture (navigation, captions, quotes), not an
# article's headline; a <header> is furniture unless it is the header of an <article>.
_FURNITURE = frozenset({"nav", "footer", "aside", "figure", "figcaption", "blockquote"})
_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Bytes of a page as text, by BOM, HTTP header or `<meta charset>`, like a browser."""
    _encoding, text = html_to_unicode(content_type, body)
    return text


def _first(*values: Any) -> str | None:
    """The first of `values` that is a text (the first text of a list); a page's JSON-LD may
    give an object or a number where a text belongs, which is no text of the article."""
    for value in values:
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, str):
            value = normalise_text(value)
            if value:
                return value
    return None


def _walk_json_ld(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk_json_ld(item)
    elif isinstance(node, dict):
        yield node
        yield from _walk_json_ld(node.get("@graph", []))


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("@type", [])
    return [kind] if isinstance(kind, str) else [k for k in kind if isinstance(k, str)]


def _schema_article(json_ld: list[Any], microdata: list[Any]) -> dict[str, Any]:
    candidates = [
        node
        for node in [*_walk_json_ld(json_ld), *_walk_json_ld(microdata)]
        if any(_ARTICLE_TYPES.search(t) for t in _types(node)) or "CreativeWork" in _types(node)
    ]
    with_headline = [c for c in candidates if c.get("headline")]
    return (with_headline or candidates or [{}])[0]


def _name(value: Any) -> Any:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.get("name") if isinstance(value, dict) else value


def _image_of(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, str):
        return {"url": value}
    if isinstance(value, dict):
        url = _first(value.get("url"), value.get("contentUrl"), value.get("@id"))
        credit = _first(value.get("creditText"), _name(value.get("copyrightHolder")))
        return {"url": url, "credit": credit or _first(_name(value.get("author")))}
    return {}


def _short(value: Any, limit: int) -> Any:
    """A declared text, unless it is longer than such a text is (then it is not one: a page's
    sections run together, a description that is the whole article)."""
    return None if isinstance(value, str) and len(value) > limit else value


def _keywords(value: Any) -> list[str]:
    """A page's keywords as tags: as many as an article keeps, each one short."""
    return [k for k in _all_keywords(value) if len(k) <= MAX_SHORT][:MAX_TAGS]


def _all_keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        return [k.strip() for k in re.split(r"[,;]", value) if k.strip()]
    if isinstance(value, list):
        return [k for item in value for k in _all_keywords(item)]
    return []


# lxml's parser takes time that grows with the square of a tag's attributes (40,000 took 11 s);
# no page has more than a few dozen on a tag. Only tags long enough to hold this many are counted.
MAX_ATTRIBUTES = 500
_LONG_TAG = re.compile(r"<[A-Za-z][^>]{1000,}")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_ATTRIBUTE = re.compile(r"\s[^\s=/>]+")


def _check_markup(text: str) -> None:
    """Refuse, before parsing, a page with a tag of more attributes than any page has."""
    for tag in _LONG_TAG.finditer(text):
        bare = _QUOTED.sub("", tag.group(0))
        if len(bare) > 2 * MAX_ATTRIBUTES and len(_ATTRIBUTE.findall(bare)) > MAX_ATTRIBUTES:
            raise ArticleError(
                f"a tag of the page has more than {MAX_ATTRIBUTES} attributes: not read",
                key="markup_too_complex",
                limit=MAX_ATTRIBUTES,
            )


class _Page:
    """The raw declarations of one page, read once."""

    def __init__(self, text: str, base_url: str | None) -> None:
        _check_markup(text)
        try:
            self.tree = lxml.html.document_fromstring(text.encode("utf-8"), parser=_PARSER)
        except (lxml.etree.ParserError, ValueError):
            raise ArticleError("not an HTML page", key="not_html") from None
        import extruct  # a fifth of a second to import: only for commands that read pages

        data = extruct.extract(
            self.tree,
            base_url=base_url,
            syntaxes=["json-ld", "opengraph", "microdata"],
            uniform=True,
            with_og_array=True,
            errors="ignore",
        )
        self.og: dict[str, Any] = {}
        for declaration in data.get("opengraph", []):
            for key, value in declaration.items():
                self.og.setdefault(key, value)
        self.schema = _schema_article(data.get("json-ld", []), data.get("microdata", []))
        self.schema_nodes = list(_walk_json_ld(data.get("json-ld", [])))
        self.meta: dict[str, str] = {}
        for element in self.tree.iter("meta"):
            key = (
                (element.get("name") or element.get("property") or element.get("http-equiv") or "")
                .strip()
                .lower()
            )
            if key and element.get("content") is not None:
                self.meta.setdefault(key, element.get("content", ""))

    def xpath_text(self, path: str) -> str | None:
        found = self.tree.xpath(path)
        if not found:
            return None
        first = found[0]
        return first if isinstance(first, str) else first.text_content()

    def site_names(self, url: str | None) -> list[str]:
        publisher = _name(self.schema.get("publisher"))
        names = [self.og.get("og:site_name"), self.meta.get("application-name"), publisher]
        names += [_name(n) for n in self.schema_nodes if "Organization" in _types(n)]
        if url:
            host = (urlsplit(url).hostname or "").removeprefix("www.")
            labels = host.split(".")[:-1]
            names += [host, *(label for label in labels if len(label) >= 3)]
        return [normalise_text(n) for n in names if isinstance(n, str) and n.strip()]


def _headings(page: _Page) -> list[str]:
    """The page's h1 texts, those inside an <article> or <main> first, leaving out headings of
    the page's furniture (the logo in the header, navigation)."""
    found: list[tuple[int, str]] = []
    for element in page.tree.iter("h1"):
        ancestors = {a.tag for a in element.iterancestors() if isinstance(a.tag, str)}
        if ancestors & _FURNITURE:
            continue
        if "header" in ancestors and not ancestors & {"article", "main"}:
            continue
        text = normalise_text(element.text_content())
        if len(text.split()) >= 2 and len(text) <= HEADLINE_MAX:
            found.append((0 if ancestors & {"article", "main"} else 1, text))
    return [text for _, text in sorted(found, key=lambda pair: pair[0])]


def _headline(page: _Page, site_names: list[str], section: str | None) -> str | None:
    """The article's own headline from what the page declares (see `headlines.choose`)."""
    in_article = [
        h for h in page.tree.xpath("//article//h1|//main//h1") if normalise_text(h.text_content())
    ]
    title = page.xpath_text("//head/title") or page.xpath_text("//title[not(ancestor::svg)]")
    return headlines.choose(
        Declared(
            titles=(
                _first(page.og.get("og:title")),
                _first(page.meta.get("twitter:title")),
                _first(title),
            ),
            headings=tuple(_headings(page)),
            schema_headline=_first(page.schema.get("headline")),
            schema_name=_first(page.schema.get("name")),
            one_article_heading=len(in_article) == 1,
        ),
        site_names,
        section,
    )


def _is_http(url: str) -> bool:
    try:
        check_http_url(url)
    except ArticleError:
        return False
    return True


def _published(candidates: list[Any], default_tz: tzinfo | None) -> str | None:
    """The first publication time that reads as a time with a zone (without an offset, in the
    newsroom's zone); a page's unreadable dates are left out rather than refusing the page."""
    for candidate in candidates:
        value = _first(candidate)
        if not isinstance(value, str):
            continue
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            continue
        if parsed.tzinfo is None:
            if default_tz is None:
                continue
            parsed = parsed.replace(tzinfo=default_tz)
        if FIRST_DAY <= parsed.date() <= LAST_DAY:
            return parsed.isoformat()
    return None


def _page_url(page: _Page, base_url: str | None) -> str | None:
    canonical = page.xpath_text(
        "//link[contains(concat(' ', normalize-space(translate(@rel, 'CANOICL', 'canoicl')), ' '),"
        " ' canonical ')]/@href"
    )
    og_url = _first(page.og.get("og:url"))
    entity = page.schema.get("mainEntityOfPage")
    if isinstance(entity, dict):
        entity = _first(entity.get("@id"), entity.get("url"))
    schema_url = _first(page.schema.get("url"), entity)
    for candidate in (canonical, og_url, schema_url, page.meta.get("twitter:url")):
        if isinstance(candidate, str) and candidate.strip():
            resolved = _joined(base_url or og_url or "", candidate.strip())
            if resolved and _is_http(resolved) and _same_site(resolved, base_url):
                return resolved
    return base_url


def _joined(base: str, url: str) -> str | None:
    """`url` read against the page's address; None for one no URL parser takes ("http://[::1"
    is an address of a broken IPv6 host)."""
    try:
        joined = urljoin(base, url)
        # Reading the host is what refuses a broken one.
        host = urlsplit(joined).hostname
    except ValueError:
        return None
    return joined if host is not None or not joined.startswith(("http:", "https:")) else None


def _same_site(url: str, fetched_from: str | None) -> bool:
    """Whether a page fetched from `fetched_from` may name `url` as its own: one of the two
    hosts is the other or a subdomain of it (www.news.de and m.news.de name news.de). A page
    naming another site's article as its own would otherwise take that article's place."""
    if fetched_from is None:
        return True
    try:
        named = (urlsplit(url).hostname or "").removeprefix("www.")
        host = (urlsplit(fetched_from).hostname or "").removeprefix("www.")
    except ValueError:
        return False
    return bool(named and host) and (
        named == host or named.endswith("." + host) or host.endswith("." + named)
    )


def _not_an_article(page: _Page, address: str) -> bool:
    """Whether a page says it is something else than an article: no article in its schema.org
    data and either an Open Graph type that is not "article" or the address of a site's front."""
    if page.schema:
        return False
    kind = _first(page.og.get("@type"), page.meta.get("og:type"))
    try:
        front = urlsplit(address).path in ("", "/")
    except ValueError:
        front = False
    return front or (isinstance(kind, str) and kind.lower() != "article")


def article_from_html(
    text: str,
    *,
    source: str,
    base_url: str | None = None,
    url: str | None = None,
    default_tz: tzinfo | None = None,
    article_only: bool = False,
) -> Article:
    """Read the page's metadata; `base_url` is where it was fetched, `url` an editor's override.
    With `article_only` (a page fetched to be posted), a page that says it is no article (a
    homepage, a section front) is refused rather than taken for one."""
    page = _Page(text, base_url)
    schema, og, meta = page.schema, page.og, page.meta
    page_url = url or _page_url(page, base_url)
    if article_only and _not_an_article(page, base_url or page_url or ""):
        raise ArticleError(
            f"{source}: this page is no article (a homepage or an overview)",
            key="front_page",
            url=source,
        )

    section = _first(
        schema.get("articleSection"), og.get("article:section"), og.get("og:article:section")
    )
    section = _short(section, MAX_SHORT)
    title = _headline(page, page.site_names(page_url), section)
    if not title:
        raise ArticleError(
            f"{source}: no article metadata (JSON-LD, Open Graph, Twitter card or <title>)",
            key="no_headline",
            source=source,
        )
    if not page_url:
        raise ArticleError(
            f"{source}: the page declares no URL (canonical, og:url); pass --url",
            key="no_page_url",
        )

    image = _image_of(schema.get("image"))
    if not _first(image.get("url")):
        image = {"url": _first(og.get("og:image"), meta.get("twitter:image"))}
    image["alt"] = _first(og.get("og:image:alt"), meta.get("twitter:image:alt"))
    if image.get("url"):
        image["url"] = _joined(page_url, image["url"])
        if image["url"] is None or not _is_http(image["url"]):
            image = {}

    fields = {
        "url": page_url,
        "headline": title,
        "kicker": section,
        "lead": _short(
            _first(
                og.get("og:description"),
                schema.get("description"),
                meta.get("twitter:description"),
                meta.get("description"),
            ),
            MAX_LEAD,
        ),
        "image": image if image.get("url") else None,
        "bullets": summary_bullets(page.tree),
        "tags": _keywords(schema.get("keywords"))
        or _keywords(og.get("article:tag"))
        or _keywords(og.get("og:article:tag"))
        or _keywords(meta.get("news_keywords"))
        or _keywords(meta.get("keywords")),
        "language": _first(
            schema.get("inLanguage"),
            page.xpath_text("/html/@lang"),
            og.get("og:locale"),
            meta.get("content-language"),
            meta.get("language"),
        ),
        "published_at": _published(
            [
                schema.get("datePublished"),
                og.get("article:published_time"),
                og.get("og:article:published_time"),
                meta.get("date"),
                meta.get("sailthru.date"),
            ],
            default_tz,
        ),
    }
    try:
        return article_from_mapping(fields, default_tz=default_tz)
    except ArticleError as exc:
        raise exc.within(source) from None
