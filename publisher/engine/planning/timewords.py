"""An editor's words for a time, as typed at the desk, in the bot or on the command line, in
German or English: "9:30", "9.30", "9:30 Uhr", "morgen 8 Uhr", "03.12. 08:00", "2026-12-03 08:00",
"+15 min", "in 2 Stunden", "tomorrow 8am". Pure: the words become a wall-clock time (placed in
the newsroom's zone by the caller), an instant (an ISO time with its own offset) or a delay."""

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
_MINUTE_UNITS = ("m", "min", "mins", "minute", "minuten", "minutes")
_HOUR_UNITS = ("h", "std", "stunde", "stunden", "hour", "hours")
_DELAY = re.compile(r"(?:\+|in\s+)\s*(\d{1,4})\s*([a-z]+)\.?")
_CLOCK = r"(?:(?:um|at)\s+)?(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<suffix>uhr|h|am|pm)?"
_DAY = "|".join(
    (
        rf"(?P<word>{'|'.join(DAY_WORDS)})",
        r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}|\d{2})?",
        r"(?P<iso>\d{4}-\d{2}-\d{2})",
    )
)
_WRITTEN = re.compile(rf"(?:(?:{_DAY})\s*,?\s+)?{_CLOCK}")
# An ISO 8601 time with "T" or a zone of its own ("2026-12-03T08:00", "…08:00+01:00", "…Z").
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?")


def read(text: str, today: date) -> datetime | timedelta | None:
    """What `text` says: a delay from now, a wall-clock time (naive, in the newsroom's zone; a
    day written without its year is the next such day from `today`), an instant (aware, when
    the text gives its own offset), or None when it says no time."""
    words = " ".join(text.strip().lower().split())
    delay = _DELAY.fullmatch(words)
    if delay:
        return _delay(int(delay.group(1)), delay.group(2))
    if _ISO.fullmatch(words):
        try:
            return datetime.fromisoformat(words.upper().replace(" ", "T", 1).replace("Z", "+00:00"))
        except ValueError:
            return None
    written = _WRITTEN.fullmatch(words)
    if written is None:
        return None
    try:
        day = _day(written, today)
    except ValueError:  # a day there is not, such as 31.02.
        return None
    clock = _clock(written, bare_hour=day is not None)
    if clock is None:
        return None
    return datetime.combine(day or today, clock)


def _delay(amount: int, unit: str) -> timedelta | None:
    if unit in _MINUTE_UNITS:
        return timedelta(minutes=amount)
    if unit in _HOUR_UNITS:
        return timedelta(hours=amount)
    return None


def _day(written: re.Match[str], today: date) -> date | None:
    """The day the words name, or None when they name none (today, by the clock alone);
    ValueError for a day there is not."""
    if written["word"]:
        return today + timedelta(days=DAY_WORDS[written["word"]])
    if written["iso"]:
        return date.fromisoformat(written["iso"])
    if written["d"] is None:
        return None
    year, month, day = written["y"], int(written["m"]), int(written["d"])
    if year is not None:
        return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    found = date(today.year, month, day)
    # "03.01." typed in December means the coming January.
    return found if found >= today else found.replace(year=today.year + 1)


def _clock(written: re.Match[str], *, bare_hour: bool) -> time | None:
    """The time of day; an hour alone ("morgen 8") only after a day, or with "Uhr" or "am"."""
    hour, minute, suffix = int(written["hour"]), written["minute"], written["suffix"]
    if minute is None and suffix is None and not bare_hour:
        return None
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or (minute is not None and int(minute) > 59):
        return None
    return time(hour, int(minute or 0))
