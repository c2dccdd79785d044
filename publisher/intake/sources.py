"""Load an Article from whatever an editor or the CMS hands over: an Article JSON file, a text or
Markdown dump, an HTML page, `-` for standard input, or an http(s) URL (fetched safely)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.articles import (
    Article,
    ArticleError,
    article_from_json_text,
    check_http_url,
    read_file_bytes,
    read_text_bytes,
)
from publisher.intake.textdump import article_from_text

if TYPE_CHECKING:
    from publisher.config import Settings
    from publisher.intake.fetch import Fetched, FetchLimits

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    """Whether a text is an HTML document rather than a text dump."""
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or "<head" in head


def fetch_limits(settings: Settings) -> FetchLimits:
    """The configured limits for fetching pasted URLs and feeds."""
    from publisher.intake.fetch import FetchLimits

    return FetchLimits(
        timeout=settings.fetch.timeout,
        max_bytes=settings.fetch.max_bytes,
        allow_private_networks=settings.fetch.allow_private_networks,
    )


_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<\?xml)|<head", re.IGNORECASE)


def document_text(raw: bytes, name: str) -> str:
    """A document's bytes as text: an HTML page in the encoding it declares (like a browser),
    anything else as UTF-8."""
    if _HTML_START.search(raw[:2048]):
        from publisher.intake.htmlpage import decode_html

        return decode_html(raw)
    return read_text_bytes(raw, name)


def article_from_document(
    text: str,
    *,
    source: str,
    settings: Settings,
    url: str | None = None,
    base_url: str | None = None,
    article_only: bool = False,
) -> Article:
    """An Article from a document's text, whichever of JSON, HTML or text dump it is (with
    `article_only`, an HTML page that is no article is refused)."""
    tz = settings.tz
    if text.lstrip().startswith(("{", "[")):
        article = article_from_json_text(text, source, default_tz=tz)
        return article.model_copy(update={"url": check_http_url(url)}) if url else article
    if looks_like_html(text):
        from publisher.intake.htmlpage import article_from_html

        return article_from_html(
            text,
            source=source,
            base_url=base_url,
            url=url,
            default_tz=tz,
            article_only=article_only,
        )
    return article_from_text(text, source=source, url=url or base_url, default_tz=tz)


# What a fetched address may answer with to be read as an article (a PDF or an image is none).
READABLE_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "text/plain", "application/json", "application/ld+json"}
)


def load_article(source: str, settings: Settings, *, url: str | None = None) -> Article:
    """Read SOURCE (path, `-` or http(s) URL); `url` supplies or overrides the article's link."""
    if url is not None:
        url = check_http_url(url)
    if _SCHEME.match(source):
        from publisher.intake.htmlpage import decode_html

        fetched = _fetched(source, settings)
        kind = (fetched.content_type or "text/html").split(";")[0].strip().lower()
        if kind not in READABLE_TYPES:
            raise ArticleError(
                f"{source}: a {kind} document is no article page",
                key="not_a_page",
                url=source,
                kind=kind,
            )
        text = decode_html(fetched.body, fetched.content_type)
        return article_from_document(
            text,
            source=source,
            settings=settings,
            url=url,
            base_url=fetched.url,
            article_only=True,
        )
    text = document_text(source_bytes(source, settings), source)
    if not text.strip():
        raise ArticleError(f"{source}: the file is empty", key="file_empty")
    return article_from_document(text, source=source, settings=settings, url=url)


def source_bytes(source: str, settings: Settings) -> bytes:
    """The bytes SOURCE holds (a path, `-` for standard input, or an http(s) URL), within the
    configured size; an ArticleError saying why they cannot be read."""
    limit = settings.fetch.max_bytes
    if _SCHEME.match(source):
        return _fetched(source, settings).body
    if source == "-":
        raw = sys.stdin.buffer.read(limit + 1)
        if len(raw) > limit:
            raise ArticleError(f"standard input: larger than {limit:,} bytes")
        return raw
    return read_file_bytes(Path(source), limit)


def _fetched(source: str, settings: Settings) -> Fetched:
    """The document at an http(s) URL, fetched within the configured limits; an answer other
    than 2xx is refused, naming its status."""
    from publisher.intake.fetch import fetch

    fetched = fetch(check_http_url(source), fetch_limits(settings))
    if not 200 <= fetched.status < 300:
        raise ArticleError(
            f"{source}: the server answered HTTP {fetched.status}",
            key="page_status",
            url=source,
            status=fetched.status,
        )
    return fetched
