"""Every parser run over untrusted input takes time linear in it: each is timed on adversarial
input of size n and 4n, and the second may take at most six times the first (a quadratic
parser takes sixteen times; "[" * 40,000 in an upload once held the server for 14 s)."""

from __future__ import annotations

import contextlib
import gc
import io
import time
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from publisher.bot.talk import parts
from publisher.channels.mastodon_length import mastodon_length
from publisher.channels.x_length import weighted_length
from publisher.config import ChannelSettings, Settings
from publisher.engine.audiences.subscribers import numbers_in
from publisher.engine.learning.history import read_history
from publisher.engine.planning.timewords import read
from publisher.errors import EditorError
from publisher.intake.archive import read_listing
from publisher.intake.feeds import parse_feed
from publisher.intake.htmlpage import article_from_html
from publisher.intake.textdump import article_from_text

N = 10_000


def dump(text: str) -> None:
    article_from_text(text, source="upload", url="https://e.de/a")


def page(text: str) -> None:
    article_from_html(text, source="page", base_url="https://e.de/a")


def feed(text: str) -> None:
    parse_feed(text.encode(), source="feed")


def listing(text: str) -> None:
    read_listing(text.encode(), "sitemap", default_tz=ZoneInfo("Europe/Berlin"))


NEWSROOM = Settings(channels={"x": ChannelSettings(type="x", dry_run=True)})


def history(text: str) -> None:
    read_history(io.StringIO(text), NEWSROOM)


RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>{}</title></channel></rss>'
SITEMAP = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>'
HTML = "<html><head><title>T</title>{}</head><body><h1>Titel</h1>{}</body></html>"

# name: (what parses, adversarial input of about n characters)
CASES: dict[str, tuple[Callable[[str], object], Callable[[int], str]]] = {
    "text dump, an open bracket": (dump, lambda n: "# H\n\n" + "[" * n),
    "text dump, open links": (dump, lambda n: "# H\n\n" + "[a](" * (n // 4)),
    "text dump, open emphasis": (dump, lambda n: "# H\n\n" + "**a __b " * (n // 8)),
    "text dump, spaces in a heading": (dump, lambda n: "# a" + " " * n + "b\n\nText."),
    "text dump, stars and underscores": (dump, lambda n: "# H\n\n" + "*a _b " * (n // 6)),
    "text dump, photo credits": (dump, lambda n: "# H\n\n" + "Bild " * (n // 5) + ": x"),
    "text dump, many bullets": (dump, lambda n: "# H\n\n" + "- a\n" * (n // 4)),
    "HTML page, nested elements": (page, lambda n: HTML.format("", "<div>" * (n // 5))),
    "HTML page, many headings": (page, lambda n: HTML.format("", "<h2>a</h2>" * (n // 10))),
    "HTML page, JSON-LD brackets": (
        page,
        lambda n: HTML.format(f'<script type="application/ld+json">{"[" * n}</script>', ""),
    ),
    "feed, many items": (
        feed,
        lambda n: RSS.format("N</title>" + "<item><title>a</title></item>" * (n // 30) + "<t>"),
    ),
    "feed, open tags": (feed, lambda n: RSS.format("<a " * (n // 3))),
    "sitemap, many urls": (
        listing,
        lambda n: SITEMAP.format("<url><loc>h</loc></url>" * (n // 22)),
    ),
    "sitemap, nested elements": (listing, lambda n: SITEMAP.format("<url>" * (n // 5))),
    "archive, JSON lines of brackets": (listing, lambda n: "{" + "[" * n),
    "results CSV, many lines": (
        history,
        lambda n: "channel,sent_at,clicks\n" + "x,2026-01-01T10:00:00+00:00,5\n" * (n // 30),
    ),
    "results CSV, an open quote": (history, lambda n: 'channel,sent_at,clicks\n"' + '"' * n),
    "the bot's time words": (lambda t: read(t, date(2026, 12, 7)), lambda n: "morgen " * (n // 7)),
    "the bot's time digits": (lambda t: read(t, date(2026, 12, 7)), lambda n: "1:" * (n // 2)),
    "subscriber numbers": (lambda t: list(numbers_in(t.splitlines())), lambda n: "+49 1" * n),
    "the bot's message parts": (parts, lambda n: "<b>a</b> &amp; <i>b</i> <u>" * (n // 25)),
    "X's count, a word of hyphens": (weighted_length, lambda n: "x.de " + "-a" * (n // 2)),
    "X's count, long labels": (
        weighted_length,
        lambda n: (("ä" * 62 + ".") * 39 + " ") * (n // 2500),
    ),
    "Mastodon's count, a word of hyphens": (
        mastodon_length,
        lambda n: "https://x.de " + "-a" * (n // 2),
    ),
    "Mastodon's count, links in a row": (mastodon_length, lambda n: "ähttps://x" * (n // 10)),
    "Mastodon's count, dotted mentions": (mastodon_length, lambda n: "@a." * (n // 3)),
}


def spent(parse: Callable[[str], object], text: str) -> float:
    """The processor time this process spent parsing `text` (the time the other tests running
    beside it take is not counted)."""
    start = time.process_time()
    with contextlib.suppress(EditorError, ValueError):
        parse(text)
    return time.process_time() - start


def fastest(parse: Callable[[str], object], small: str, large: str) -> tuple[float, float]:
    """The shortest of a few timings of each input, taken in turns so that both meet the
    machine in the same moods."""
    best = [float("inf"), float("inf")]
    # A collection of the whole test process's objects is no part of the parser's time.
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            best = [min(best[0], spent(parse, small)), min(best[1], spent(parse, large))]
    finally:
        gc.enable()
    return best[0], best[1]


@pytest.mark.parametrize("name", CASES)
def test_a_parser_takes_time_linear_in_adversarial_input(name: str) -> None:
    parse, make = CASES[name]
    small, large = fastest(parse, make(N), make(4 * N))
    # A floor of a millisecond: below it, timing noise is all there is to see.
    ratio = max(large, 1e-3) / max(small, 1e-3)
    assert ratio < 6, f"{name}: 4n took {ratio:.1f} times as long as n"
