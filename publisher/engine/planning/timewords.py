"""An editor's words for a time, as typed at the desk, in the bot or on the command line, in
German or English: "9:30", "9.30", "9:30 Uhr", "morgen 8 Uhr", "8 Uhr morgen", "Dienstag 8 Uhr",
"heute Abend", "morgen früh", "03.12. 08:00", "2026-12-03 08:00", "+15 min", "in 2 Stunden",
"in einer Stunde", "in einer halben Stunde", "tomorrow 8am", "tonight". Pure: the words become a
wall-clock time (placed in the newsroom's zone by the caller), an instant (an ISO time with its
own offset) or a delay."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

# "heute", "morgen", "übermorgen" and their English words: days from today.
DAY_WORDS = {
    "heute": 0,
    "today": 0,
    "morgen": 1,
    "tomorrow": 1,
    "übermorgen": 2,
    "uebermorgen": 2,
}
# The days of the week, German and English: the next such day (today when it is today).
WEEKDAYS = {
    **dict.fromkeys(("montag", "monday"), 0),
    **dict.fromkeys(("dienstag", "tuesday"), 1),
    **dict.fromkeys(("mittwoch", "wednesday"), 2),
    **dict.fromkeys(("donnerstag", "thursday"), 3),
    **dict.fromkeys(("freitag", "friday"), 4),
    **dict.fromkeys(("samstag", "sonnabend", "saturday"), 5),
    **dict.fromkeys(("sonntag", "sunday"), 6),
}
# Parts of the day and the time a newsroom means by each; those after noon read an hour given
# with them as afternoon or evening ("heute Abend 8 Uhr": 20:00).
PARTS_OF_DAY = {
    **dict.fromkeys(("früh", "frueh", "morgens", "morning"), time(8)),
    **dict.fromkeys(("vormittag", "vormittags"), time(10)),
    **dict.fromkeys(("mittag", "mittags", "noon"), time(12)),
    **dict.fromkeys(("nachmittag", "nachmittags", "afternoon"), time(15)),
    **dict.fromkeys(("abend", "abends", "evening"), time(19)),
    **dict.fromkeys(("nacht", "night"), time(22)),
}
_AFTER_NOON = frozenset(part for part, at in PARTS_OF_DAY.items() if at.hour >= 15)
# Numbers written as words in a delay ("in einer Stunde", "in zwei Stunden").
NUMBER_WORDS = {
    **dict.fromkeys(("ein", "eine", "einer", "einem", "a", "an", "one"), 1),
    **dict.fromkeys(("zwei", "two"), 2),
    **dict.fromkeys(("drei", "three"), 3),
    **dict.fromkeys(("vier", "four"), 4),
    **dict.fromkeys(("fünf", "fuenf", "five"), 5),
    **dict.fromkeys(("sechs", "six"), 6),
}
_MINUTE_UNITS = ("m", "min", "mins", "minute", "minuten", "minutes")
_HOUR_UNITS = ("h", "std", "stunde", "stunden", "hour", "hours")
_AMOUNT = rf"\d{{1,4}}|{'|'.join(NUMBER_WORDS)}"
_DELAY = re.compile(rf"(?:\+|in\s+)\s*({_AMOUNT})\s*([a-z]+)\.?")
# Quarter and half hours in words: "in einer halben Stunde", "in einer Viertelstunde".
_FRACTION = re.compile(
    r"in\s+(?:einer\s+|an\s+|a\s+)?(halben\s+stunde|half\s+(?:an\s+)?hour|viertelstunde"
    r"|dreiviertelstunde|quarter\s+(?:of\s+an\s+)?hour)"
)
_FRACTIONS = {"viertelstunde": 15, "quarter": 15, "halben": 30, "half": 30, "dreiviertelstunde": 45}
_CLOCK = r"(?:(?:um|at)\s+)?(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<suffix>uhr|h|am|pm)?"
_DAY = "|".join(
    (
        rf"(?P<word>{'|'.join(DAY_WORDS)})",
        rf"(?P<weekday>{'|'.join(WEEKDAYS)})",
        r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}|\d{2})?",
        r"(?P<iso>\d{4}-\d{2}-\d{2})",
    )
)
_PART = rf"(?P<part>{'|'.join(PARTS_OF_DAY)})"
# A day (or none), a part of the day (or none), a clock (or none: the part's time); or the clock
# first and the day after it ("8 Uhr morgen").
_WRITTEN = re.compile(
    rf"(?:(?:{_DAY})\s*,?\s*)?(?:{_PART}\s*,?\s*)?(?:{_CLOCK})?"
    rf"|{_CLOCK.replace('?P<', '?P<late_')}\s+(?:{_DAY.replace('?P<', '?P<late_')})"
)
# An ISO 8601 time with "T" or a zone of its own ("2026-12-03T08:00", "…08:00+01:00", "…Z").
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?")


def read(text: str, today: date) -> datetime | timedelta | None:
    """What `text` says: a delay from now, a wall-clock time (naive, in the newsroom's zone; a
    day written without its year is the next such day from `today`), an instant (aware, when
    the text gives its own offset), or None when it says no time."""
    words = " ".join(text.strip().lower().split())
    if words == "tonight":
        words = "heute abend"
    fraction = _FRACTION.fullmatch(words)
    if fraction:
        return timedelta(minutes=_FRACTIONS[fraction.group(1).split()[0]])
    delay = _DELAY.fullmatch(words)
    if delay:
        amount = delay.group(1)
        return _delay(NUMBER_WORDS.get(amount) or int(amount), delay.group(2))
    if _ISO.fullmatch(words):
        try:
            return datetime.fromisoformat(words.upper().replace(" ", "T", 1).replace("Z", "+00:00"))
        except ValueError:
            return None
    written = _WRITTEN.fullmatch(words) if words else None
    if written is None:
        return None
    found = _named(written)
    try:
        day = _day(found, today)
    except ValueError:  # a day there is not, such as 31.02.
        return None
    part = found.get("part")
    if found.get("hour") is None:
        # A day alone is no time; with a part of the day, the part's time.
        return datetime.combine(day or today, PARTS_OF_DAY[part]) if part else None
    clock = _clock(found, bare_hour=day is not None or part is not None)
    if clock is None:
        return None
    if part in _AFTER_NOON and clock.hour < 12:
        clock = clock.replace(hour=clock.hour + 12)
    return datetime.combine(day or today, clock)


def _named(written: re.Match[str]) -> dict[str, str | None]:
    """The match's named parts, those of the clock-first form under their plain names."""
    return {
        name.removeprefix("late_"): value
        for name, value in written.groupdict().items()
        if value is not None
    }


def _delay(amount: int, unit: str) -> timedelta | None:
    if unit in _MINUTE_UNITS:
        return timedelta(minutes=amount)
    if unit in _HOUR_UNITS:
        return timedelta(hours=amount)
    return None


def _day(written: dict[str, str | None], today: date) -> date | None:
    """The day the words name, or None when they name none (today, by the clock alone);
    ValueError for a day there is not."""
    if written.get("word"):
        return today + timedelta(days=DAY_WORDS[str(written["word"])])
    if written.get("weekday"):
        return today + timedelta(days=(WEEKDAYS[str(written["weekday"])] - today.weekday()) % 7)
    if written.get("iso"):
        return date.fromisoformat(str(written["iso"]))
    if written.get("d") is None:
        return None
    year, month, day = written.get("y"), int(str(written["m"])), int(str(written["d"]))
    if year is not None:
        return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    found = date(today.year, month, day)
    # "03.01." typed in December means the coming January.
    return found if found >= today else found.replace(year=today.year + 1)


def _clock(written: dict[str, str | None], *, bare_hour: bool) -> time | None:
    """The time of day; an hour alone ("morgen 8") only after a day, or with "Uhr" or "am"."""
    hour, minute, suffix = int(str(written["hour"])), written.get("minute"), written.get("suffix")
    if minute is None and suffix is None and not bare_hour:
        return None
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or (minute is not None and int(minute) > 59):
        return None
    return time(hour, int(minute or 0))
