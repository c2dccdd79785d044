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
from datetime import UTC, datetime, tzinfo
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
    ValidationInfo,
    field_validator,
    model_validator,
)

from publisher.clock import FIRST_DAY, LAST_DAY
from publisher.errors import EditorError

MAX_URL = 2048
MAX_ID = 200
# The longest each field may be: far beyond any real article's, and short enough that a page,
# a listing or a teaser made of it stays small (a 900 KB headline made the queue page 1.9 MB).
MAX_HEADLINE = 1_000
MAX_SHORT = 200  # kicker, section, a tag
MAX_LEAD = 5_000
# A correction says what was wrong and what is right in a sentence or two.
MAX_CORRECTION = 1_000
MAX_BULLET = 1_000
MAX_BULLETS = 20
MAX_TAGS = 100
MAX_IMAGE_TEXT = 1_000  # alt text, credit
MAX_LANGUAGE = 35  # BCP 47 tags are rarely longer than a dozen characters


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


_SPELLED_OUT = re.compile(r"(?<=[a-z])(ae|oe|ue)")


def fold(value: str) -> str:
    """Text as search compares it: without accents, case or German spelling-out, so that
    "muller", "Mueller" and "Müller" are one word ("Straße" is "strasse")."""
    bare = "".join(
        ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch)
    )
    folded = bare.casefold()
    return _SPELLED_OUT.sub(lambda m: m.group(1)[0], folded)


_URL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f]")


def pasted_address(text: str) -> str:
    """An address as an editor pastes it: "www.…" without its scheme means https."""
    return f"https://{text}" if text.lower().startswith("www.") else text


def check_http_url(value: str) -> str:
    """An absolute http(s) URL with a host and without white space, control characters (a
    line break in a URL would forge log lines and headers) or anything that is not text, or
    ArticleError."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:  # "http://[::1" and other broken hosts
        scheme, host = "", None
    if (
        scheme not in ("http", "https")
        or not host
        or _URL_FORBIDDEN.search(url)
        or _BIDI.search(url)
        or not is_text(url)
    ):
        shown = url[:200].encode("utf-8", "replace").decode()
        raise ArticleError(f"not an http(s) URL: {shown!r}", key="not_a_url", url=shown)
    return url


def whole_number(text: str, digits: int = 18) -> int | None:
    """The whole number `text` writes in ASCII digits, at most `digits` of them; None for
    anything else ("²" and "٣" are digits to Python's `isdigit`, but no number an editor or a
    client wrote, and a hundred digits are no post, page or size)."""
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None


def is_text(value: str) -> bool:
    """Whether `value` can be written as UTF-8: a lone surrogate ("\\udfff" in JSON) cannot,
    and would fail every database write, page and request made of it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def not_text_at(value: Any, path: str = "") -> str | None:
    """Where in decoded JSON a string is not text ("image.url"), else None. Only JSON's
    escapes make such strings: bytes decoded as UTF-8 never hold one."""
    if isinstance(value, str):
        return None if is_text(value) else path or "article"
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and not is_text(key):
            return where.encode("utf-8", "replace").decode()
        found = not_text_at(item, where)
        if found:
            return found
    return None


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


def _at_most(limit: int) -> AfterValidator:
    """A check that a text (when there is one) is at most `limit` characters long."""

    def check(value: str | None) -> str | None:
        if value is not None and len(value) > limit:
            raise ValueError(f"longer than {limit:,} characters")
        return value

    return AfterValidator(check)


Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
ShortText = Annotated[OptionalText, _at_most(MAX_SHORT)]


class Image(BaseModel):
    """The article's lead image."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    url: Annotated[HttpUrl, _at_most(MAX_URL)]
    alt: Annotated[OptionalText, _at_most(MAX_IMAGE_TEXT)] = None
    credit: Annotated[OptionalText, _at_most(MAX_IMAGE_TEXT)] = None
    # Pixel size, when the CMS knows it (for og:image:width/height).
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)


class Article(BaseModel):
    """One article, as the Article JSON contract describes it (README, "Composing teasers");
    strings are plain text."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: OptionalText = None
    url: HttpUrl
    headline: Annotated[Text, _at_most(MAX_HEADLINE)]
    kicker: ShortText = None
    lead: Annotated[OptionalText, _at_most(MAX_LEAD)] = None
    bullets: tuple[Annotated[str, _at_most(MAX_BULLET)], ...] = ()
    image: Image | None = None
    tags: tuple[Annotated[str, _at_most(MAX_SHORT)], ...] = ()
    language: Annotated[OptionalText, _at_most(MAX_LANGUAGE)] = None
    published_at: datetime | None = None
    # Added to the contract for the release rules: the CMS's section, and a breaking-news flag.
    section: ShortText = None
    breaking: bool = False
    # The CMS took the article back (a correction, a takedown): its unsent posts are cancelled,
    # and nothing queues it again until the CMS releases it anew without the flag.
    withdrawn: bool = False
    # The CMS's word that the article stays worth reading (`[[resurface]] evergreen_only`).
    evergreen: bool = False
    # What was wrong and what is right, when the CMS sends the article again corrected: the
    # fix is made where the error was shared (publisher.engine.releases.correction).
    correction: Annotated[OptionalText, _at_most(MAX_CORRECTION)] = None

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
    def _clean_list(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return ()
        if isinstance(value, str | dict) or not isinstance(value, Iterable):
            raise ValueError("must be a list of strings")
        items = list(value)
        if not all(isinstance(v, str) for v in items):
            raise ValueError("must be a list of strings")
        cleaned = tuple(dict.fromkeys(v for v in map(normalise_text, items) if v != ""))
        most = MAX_BULLETS if info.field_name == "bullets" else MAX_TAGS
        if len(cleaned) > most:
            raise ValueError(f"more than {most} entries")
        return cleaned

    @field_validator("language")
    @classmethod
    def _primary_language(cls, value: str | None) -> str | None:
        if not value:
            return None
        return re.split(r"[-_]", value, maxsplit=1)[0].lower() or None

    @field_validator("published_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2024-12-31T10:15:00+01:00")
        try:
            day = value.astimezone(UTC).date()
        except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the last day there is
            day = None
        if day is None or not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"must lie between {FIRST_DAY.year} and {LAST_DAY.year}")
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
    where = not_text_at(data)
    if where:
        raise ArticleError(
            f"{where}: holds a character that is not text (a lone surrogate)",
            key="article_field_wrong",
            field=where,
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
    except (RecursionError, ValueError):  # nested too deeply, or a number of 5,000 digits
        raise ArticleError(
            f"{source}: not Article JSON (nested too deeply or numbers too long)",
            key="not_an_article",
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
