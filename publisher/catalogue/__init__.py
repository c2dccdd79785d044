"""One message catalogue for everything an editor reads, in German and English: the words all
surfaces share (post states, delivery outcomes, refusals), the web desk's and the Telegram bot's.
A refusal raised with a `key` (see `publisher.errors`) is told in the editor's language; one
without is told as raised."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from html import escape
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone_name
from babel.numbers import format_decimal

from publisher.catalogue import de, en
from publisher.errors import EditorError

Surface = Literal["desk", "bot"]
LANGUAGES = {"de": de, "en": en}


@cache
def table(language: str, surface: Surface) -> dict[str, str]:
    """Every text of one surface in `language` (else English), the shared words included."""
    module = LANGUAGES.get(language, en)
    return {**module.WORDS, **(module.DESK if surface == "desk" else module.BOT)}


def translator(language: str, surface: Surface) -> Callable[..., str]:
    """`t(key, **values)`: the text with its placeholders filled; the bot's texts are Telegram
    HTML, so its values are escaped."""
    texts = table(language, surface)

    def t(key: str, count: int | None = None, **values: object) -> str:
        # With `count`, the text of its plural form where the catalogue has one ("…_one").
        if count is not None:
            form = _locale(language).plural_form(count)
            key = f"{key}_{form}" if f"{key}_{form}" in texts else key
            values.setdefault("count", count)
        if surface == "bot":
            values = {k: escape(str(v), quote=False) for k, v in values.items()}
        return texts[key].format(**values) if values else texts[key]

    return t


class Timing(Protocol):
    """When a post goes out, as `publisher.engine.posts.overdue.Going` says it."""

    @property
    def at(self) -> datetime: ...

    @property
    def now(self) -> bool: ...

    @property
    def held(self) -> bool: ...

    @property
    def waits(self) -> bool: ...


def going(timing: Timing, language: str, surface: Surface, zone: ZoneInfo, channel: str) -> str:
    """When a post an editor let go goes out, in their words: now (its time has passed: never
    a time already gone), at its time, once its paused `channel` runs again, or after approval."""
    t = translator(language, surface)
    if timing.waits:
        return t("going_waits")
    if timing.held:
        return t("going_held", channel=channel)
    if timing.now:
        return t("going_now")
    return t("going_at", when=moment(timing.at, zone, language))


def describe(
    error: EditorError,
    language: str,
    label: Callable[[str], str] | None = None,
    zone: ZoneInfo | None = None,
) -> str:
    """A refusal in the editor's words: from the catalogue when it was raised with a key (its
    state and verb values become words too, its times the newsroom's `zone`'s as every other
    time reads, and with `label` its channel the channel's label), else its own message."""
    texts = table(language, "desk")
    if error.key is None or f"error_{error.key}" not in texts:
        return str(error)
    values = dict(error.values)
    key = f"error_{error.key}"
    count = values.get("count")
    if isinstance(count, int) and f"{key}_{_locale(language).plural_form(count)}" in texts:
        key = f"{key}_{_locale(language).plural_form(count)}"
    for name, value in values.items():
        if isinstance(value, datetime):
            values[name] = moment(value, zone or ZoneInfo("UTC"), language)
    if label is not None and isinstance(values.get("channel"), str):
        values["channel"] = label(str(values["channel"]))
    for name, prefix in (("state", "state_"), ("verb", "verb_")):
        word = texts.get(f"{prefix}{values.get(name)}")
        if word is not None:
            values[name] = word
    found = values.get("problems")
    if isinstance(found, list):
        values["problems"] = "; ".join(problem(p, language) for p in found)
    allowed = values.get("allowed")
    if isinstance(allowed, list):
        words = [texts.get(f"state_{state}", str(state)) for state in allowed]
        values["allowed"] = f" {texts['or']} ".join(words)
    return texts[key].format(**values)


def problem(found: str, language: str) -> str:
    """Why a text cannot be posted, in the editor's words: a channel's problem with a key (see
    `publisher.channels.base.Problem`) from the catalogue, else as the channel said it."""
    texts = table(language, "desk")
    key = getattr(found, "key", None)
    template = texts.get(f"problem_{key}")
    if template is None:
        return str(found)
    values = {
        name: number(value, language) if isinstance(value, int) else value
        for name, value in dict(getattr(found, "values", {})).items()
    }
    if "unit" in values:
        values["unit"] = unit(str(values["unit"]), language, str(values.get("platform", "")))
    return template.format(**values)


def unit(name: str, language: str, platform: str) -> str:
    """A channel's unit of length (characters, UTF-16 units …) as an editor reads it; the
    `platform` is the channel's display name, for units that are the platform's own count."""
    return table(language, "desk").get(f"unit_{name}", name).format(platform=platform)


def number(value: float, language: str) -> str:
    """A number with the language's separators (1,000 or 1.000; 1.5 or 1,5)."""
    return str(format_decimal(value, locale=_locale(language)))


def moment(when: datetime, zone: ZoneInfo, language: str, *, date: bool = True) -> str:
    """A time as an editor reads it, in the newsroom's zone with the zone's name, in their
    language: "Mi. 2. Dez., 07:00 MEZ", "Wed 2 Dec, 07:00 CET", with its year when that is not
    this year's ("Mo. 4. Jan. 2027, 10:00 MEZ"; without `date`: the time)."""
    local = when.astimezone(zone)
    pattern = "HH:mm"
    if date:
        this_year = local.year == datetime.now(zone).year
        pattern = (DATE_TIME if this_year else DATE_YEAR_TIME)[_pattern_language(language)]
    # Babel names a zone where the language has a name for it (MEZ), else writes its offset:
    # then the zone's own abbreviation (CET, EST) reads better.
    name = get_timezone_name(local, "short", locale=_locale(language))
    if name[:1] in "+-" or name.startswith("GMT"):
        name = local.tzname() or name
    return f"{format_datetime(local, pattern, locale=_locale(language))} {name}"


def short_moment(when: datetime, zone: ZoneInfo, language: str) -> str:
    """A time within the next days, short enough for a button: "07:00" today, else with its
    weekday ("Do. 07:00", "Thu 07:00")."""
    local = when.astimezone(zone)
    today = datetime.now(zone).date()
    pattern = "HH:mm" if local.date() == today else "EEE HH:mm"
    return str(format_datetime(local, pattern, locale=_locale(language)))


def day(when: date, language: str) -> str:
    """A day as an editor reads it in a heading: "Dienstag, 8. Dezember 2026"."""
    return str(format_date(when, "full", locale=_locale(language)))


# How a date and time are written at the desk and in the bot, per language.
DATE_TIME = {"de": "EEE d. MMM, HH:mm", "en": "EEE d MMM, HH:mm"}
DATE_YEAR_TIME = {"de": "EEE d. MMM y, HH:mm", "en": "EEE d MMM y, HH:mm"}


def _pattern_language(language: str) -> str:
    return language if language in DATE_TIME else "en"


@cache
def _locale(language: str) -> Locale:
    # Parsed once: Babel reads a locale named by a string afresh at every number and date.
    return Locale.parse(_pattern_language(language))


def reach(free_form: int, template: int, language: str) -> str:
    """Whom a post to subscribers reaches, and in which form, as the desk and the bot say it."""
    return translator(language, "desk")(
        "reach",
        total=number(free_form + template, language),
        free_form=number(free_form, language),
        template=number(template, language),
    )
