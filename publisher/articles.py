"""The normalised Article every source becomes, and the text normalisation all importers share.

`load_article` is the one entry point: it looks at a SOURCE (path or URL) and hands it to the
importer that reads that kind of input (JSON, text dump, HTML page, fetched URL).
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from publisher.errors import EditorError

MAX_URL = 2048
MAX_ID = 200


class ArticleError(EditorError, ValueError):
    """An input cannot become an Article; the message is one line meant for an editor."""

    def within(self, source: str) -> ArticleError:
        """The same refusal, its message prefixed with the file or URL it came from."""
        return type(self)(f"{source}: {self}", key=self.key, **self.values)


# Soft hyphens, zero-width spaces and BOMs are invisible artefacts of CMS editors; ZWJ/ZWNJ and
# variation selectors stay because emoji sequences and some scripts need them. Bidi embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069) can make a post, a log line or the desk
# show text in an order other than the one stored ("Trojan Source"); the plain marks LRM and
# RLM stay, as right-to-left text needs them.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u00ad\u200b\u2060\ufeff\ufffe\uffff\u202a\u202b\u202c\u202d\u202e")
) | dict.fromkeys(range(0x2066, 0x206A))
_WHITESPACE = re.compile(r"\s+")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def normalise_text(value: str) -> str:
    """NFC, entities decoded, invisible and control characters removed, whitespace collapsed."""
    text = html.unescape(value).translate(_INVISIBLE)
    text = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch
        for ch in text
        if unicodedata.category(ch) != "Cs"
    )
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


_URL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f]")


def check_http_url(value: str) -> str:
    """An absolute http(s) URL with a host and without white space or control characters (a
    line break in a URL would forge log lines and headers), or ArticleError."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not host
        or _URL_FORBIDDEN.search(url)
        or _BIDI.search(url)
    ):
        raise ArticleError(f"not an http(s) URL: {url[:200]!r}", key="not_a_url", url=url[:200])
    return url


def _text(value: Any) -> Any:
    return normalise_text(value) if isinstance(value, str) else value


def _optional_text(value: Any) -> Any:
    if value is None:
        return None
    return normalise_text(value) or None if isinstance(value, str) else value


def _http_url(value: str) -> str:
    try:
        return check_http_url(value)
    except ArticleError as exc:
        raise ValueError(str(exc)) from None


Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class Image(BaseModel):
    """The article's lead image."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    url: HttpUrl
    alt: OptionalText = None
    credit: OptionalText = None
    # Pixel size, when the CMS knows it (for og:image:width/height).
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)


class Article(BaseModel):
    """One article, as DESIGN.md's Article JSON contract describes it; strings are plain text."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: OptionalText = None
    url: HttpUrl
    headline: Text
    kicker: OptionalText = None
    lead: OptionalText = None
    bullets: tuple[str, ...] = ()
    image: Image | None = None
    tags: tuple[str, ...] = ()
    language: OptionalText = None
    published_at: datetime | None = None
    # Beyond DESIGN.md's fields, for the release rules: the CMS's section, and a breaking-news flag.
    section: OptionalText = None
    breaking: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("id")
    @classmethod
    def _id_length(cls, value: str | None) -> str | None:
        if value is not None and len(value) > MAX_ID:
            raise ValueError(f"longer than {MAX_ID} characters")
        return value

    @field_validator("url")
    @classmethod
    def _url_length(cls, value: str) -> str:
        # Browsers, CMSs and the store's key column stop around here.
        if len(value) > MAX_URL:
            raise ValueError(f"longer than {MAX_URL:,} characters")
        return value

    @field_validator("headline")
    @classmethod
    def _headline_present(cls, value: str) -> str:
        if not value:
            raise ValueError("the headline is empty")
        return value

    @field_validator("bullets", "tags", mode="before")
    @classmethod
    def _clean_list(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValueError("must be a list of strings")
        cleaned = [normalise_text(v) if isinstance(v, str) else v for v in value]
        return tuple(dict.fromkeys(v for v in cleaned if v != ""))

    @field_validator("language")
    @classmethod
    def _primary_language(cls, value: str | None) -> str | None:
        if not value:
            return None
        return re.split(r"[-_]", value, maxsplit=1)[0].lower() or None

    @field_validator("published_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2024-12-31T10:15:00+01:00")
        return value

    @model_validator(mode="before")
    @classmethod
    def _image_from_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("image"), str):
            data = {**data, "image": {"url": data["image"]}}
        return data

    def to_json(self) -> dict[str, Any]:
        """The Article JSON contract: empty fields left out, times in ISO 8601."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
            "url": self.url,
            "headline": self.headline,
        }


def article_from_mapping(data: Any, *, default_tz: tzinfo | None = None) -> Article:
    """Validate Article JSON (already decoded) into an Article, with one-line errors."""
    if not isinstance(data, dict):
        raise ArticleError(
            "Article JSON must be an object with at least url and headline", key="not_an_article"
        )
    published = data.get("published_at")
    if default_tz is not None and isinstance(published, str):
        data = {**data, "published_at": assume_timezone(published, default_tz)}
    try:
        return Article.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ArticleError(
            describe_validation_error(exc),
            key="article_field_missing" if first["type"] == "missing" else "article_field_wrong",
            field=".".join(str(p) for p in first["loc"]) or "article",
        ) from None


def assume_timezone(timestamp: str, tz: tzinfo) -> str:
    """Give an ISO 8601 time without an offset the newsroom's zone; others pass unchanged."""
    try:
        parsed = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.isoformat()


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem of a pydantic error as `field: message`."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "article"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "is required"
    return f"{where}: {message}"


def article_from_json_text(text: str, source: str, *, default_tz: tzinfo | None = None) -> Article:
    """Article JSON text (from a file or a request body) into an Article."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleError(
            f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            key="invalid_json",
            source=source,
            line=exc.lineno,
            column=exc.colno,
        ) from None
    try:
        return article_from_mapping(data, default_tz=default_tz)
    except ArticleError as exc:
        raise exc.within(source) from None


def read_file_bytes(path: Path, max_bytes: int) -> bytes:
    """A file's bytes, refused before reading when larger than `max_bytes`, or an ArticleError
    saying why it cannot be read."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ArticleError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ArticleError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise ArticleError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > max_bytes:
        raise ArticleError(f"{path}: larger than {max_bytes:,} bytes")
    return raw


def read_text_bytes(raw: bytes, name: str) -> str:
    """Uploaded or read bytes as text, or an ArticleError naming `name` and the reason."""
    if b"\x00" in raw[:8192]:
        raise ArticleError(f"{name}: not a text file", key="not_text_file", name=name)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArticleError(f"{name}: not UTF-8 text", key="not_utf8", name=name) from None
