"""How the desk writes what an editor reads besides the catalogue's sentences: times in their
language and the channel's zone ("Mi. 2. Dez., 07:00 MEZ"), numbers with the language's
separators, channels by their labels, who did something ("CMS" for a release from the webhook),
and what a platform's refusal means, beside its own words."""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from babel.dates import format_date

from publisher.catalogue import moment, number, table
from publisher.config import Settings
from publisher.engine.lifecycle import RESURFACED

# How the calendar heads a day, per language.
DAY = {"de": "EEE d. MMM", "en": "EEE d MMM"}


# Channel colours are a palette of this many (desk.css `.ch-0` …).
COLOURS = 8


class Words:
    """The desk's ways of writing, for one language; the templates call them by name."""

    def __init__(self, settings: Settings, language: str) -> None:
        self.settings = settings
        self.language = language
        self.texts = table(language, "desk")
        self.locale = Locale.parse(language if language in DAY else "en")
        # Each channel's colour (desk.css `.ch-0` …), in configured order, for calendar and charts.
        self.colours = {name: n % COLOURS for n, name in enumerate(settings.channels)}

    def when(self, value: datetime | str | None, channel: str | None = None) -> str:
        """A time (aware, or ISO 8601) in the channel's zone (else the newsroom's)."""
        if not value:
            return ""
        at = datetime.fromisoformat(value) if isinstance(value, str) else value
        zone = self.settings.channel_tz(channel) if channel else self.settings.tz
        return moment(at, zone, self.language)

    def day_month(self, value: date) -> str:
        """A day and its month, short, as a chart's axis names a week ("7. Dez.", "7 Dec")."""
        return str(
            format_date(
                value, "d. MMM" if self.locale.language == "de" else "d MMM", locale=self.locale
            )
        )

    def day(self, value: date) -> str:
        """A day as a calendar heads it ("Mi. 2. Dez.", "Wed 2 Dec")."""
        return str(format_date(value, DAY[self.locale.language], locale=self.locale))

    def month(self, value: date) -> str:
        """A month as the calendar names it ("Dezember 2026")."""
        return str(format_date(value, "LLLL y", locale=self.locale))

    def num(self, value: int) -> str:
        return number(value, self.language)

    def label(self, channel: str) -> str:
        return self.settings.label(channel)

    def who(self, actor: str) -> str:
        """Who did something: an editor's name, the CMS, a feed, an archive rule, the command
        line."""
        if actor == "release:webhook":
            return self.texts["actor_cms"]
        if actor.startswith("release:"):
            return self.texts["actor_feed"].format(feed=actor.removeprefix("release:"))
        if actor.startswith(RESURFACED):
            return self.texts["actor_archive"].format(rule=actor.removeprefix(RESURFACED))
        if actor == "cli":
            return self.texts["actor_cli"]
        return actor

    def explain(self, error_class: str | None) -> str:
        """What a kind of platform refusal means for the post, in the editor's words."""
        return self.texts.get(f"explain_{error_class}", "") if error_class else ""

    def globals(self) -> dict[str, object]:
        """What the templates call."""
        return {
            "when": self.when,
            "day_name": self.day,
            "month_name": self.month,
            "num": self.num,
            "label": self.label,
            "who": self.who,
            "explain": self.explain,
        }
