"""Every teaser fits its platform, keeps the link whole and never breaks a grapheme."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet

from publisher.articles import Article
from publisher.channels import Channel, ComposeOptions, channel_class, platform_types
from publisher.channels.bluesky import MAX_BYTES as BLUESKY_BYTES
from publisher.channels.linkedin import little_text
from publisher.channels.mastodon_length import mastodon_length
from publisher.channels.telegram_html import parse_entities
from publisher.channels.text import ELLIPSIS, graphemes, truncate, utf16_length
from publisher.channels.threads import threads_length
from tests.strategies import article_text, articles

LINK = "https://www.news.de/p/1?ref=x&utm_source=t#top"
OPTIONS = ComposeOptions(link=LINK, read_more="Weiterlesen", bullet="•", kicker="{kicker} | ")


PLATFORMS = platform_types()


def official_length(kind: str, text: str) -> int:
    """`text`'s length as the platform counts it: by its own library where it publishes one
    (twitter-text), else by its documented rule as ported and tested against its own cases."""
    if kind == "x":
        return parse_tweet(text).weightedLength
    if kind == "telegram":
        visible, problems = parse_entities(text)
        assert problems == []
        return utf16_length(visible)
    if kind == "bluesky":
        assert len(text.encode()) <= BLUESKY_BYTES
        return len(graphemes(text))
    if kind == "mastodon":
        return mastodon_length(text)
    if kind == "threads":
        return threads_length(text)
    if kind == "linkedin":
        return utf16_length(little_text(text))
    return utf16_length(text)


def posted_headline(channel: Channel, text: str) -> str:
    """The plain headline whose rendering opens the teaser."""
    first = text.split("\n\n")[0]
    if channel.type == "telegram":
        first_plain = html.unescape(first.removeprefix("<b>").removesuffix("</b>"))
        candidates = [first_plain]
    else:
        candidates = [first, first[1:-1]]
    return next(c for c in candidates if channel.headline(c) == first)


# Each property runs for every platform: half the examples each, 400 in all per property.
PER_PLATFORM = settings(max_examples=50)


@pytest.mark.parametrize("kind", PLATFORMS)
@PER_PLATFORM
@given(article=articles())
def test_teaser_stays_within_the_platform_limit(kind: str, article: Article) -> None:
    teaser = channel_class(kind)().compose(article, OPTIONS)
    assert official_length(kind, teaser.text) <= teaser.limit
    assert teaser.length == official_length(kind, teaser.text)


@pytest.mark.parametrize("kind", ["x", "whatsapp", "telegram"])
@given(article=articles())
def test_teaser_keeps_the_link_whole(kind: str, article: Article) -> None:
    text = channel_class(kind)().compose(article, OPTIONS).text
    posted = html.escape(LINK) if kind == "telegram" else LINK
    assert text.endswith(posted) or f'href="{posted}"' in text


@pytest.mark.parametrize("kind", PLATFORMS)
@PER_PLATFORM
@given(article=articles())
def test_headline_is_whole_or_cut_between_graphemes(kind: str, article: Article) -> None:
    channel = channel_class(kind)()
    teaser = channel.compose(article, OPTIONS)
    shown = posted_headline(channel, teaser.text)
    full = (f"{article.kicker} | " if article.kicker else "") + article.headline
    if not teaser.truncated:
        assert teaser.text.split("\n\n")[0] == channel.headline(full)
    else:
        assert shown.endswith(ELLIPSIS)
        kept = graphemes(shown.removesuffix(ELLIPSIS))
        assert kept == graphemes(full)[: len(kept)]


@pytest.mark.parametrize("kind", PLATFORMS)
@PER_PLATFORM
@given(article=articles())
def test_bullets_are_a_prefix_of_the_articles_bullets(kind: str, article: Article) -> None:
    channel = channel_class(kind)()
    teaser = channel.compose(article, OPTIONS)
    rendered = [channel.bullet(OPTIONS.bullet, bullet) for bullet in article.bullets]
    blocks = teaser.text.split("\n\n")
    body = blocks[1].split("\n") if teaser.bullets else []
    assert body == rendered[: teaser.bullets]


@pytest.mark.parametrize("kind", PLATFORMS)
@PER_PLATFORM
@given(article=articles())
def test_the_same_article_gives_the_same_teaser_whenever_it_is_composed(
    kind: str, article: Article
) -> None:
    channel = channel_class(kind)()
    first = channel.compose(article, OPTIONS)
    channel.compose(article.model_copy(update={"headline": "Eine andere Schlagzeile"}), OPTIONS)
    again = channel_class(kind)().compose(Article.model_validate(article.model_dump()), OPTIONS)
    assert channel.compose(article, OPTIONS) == first == again


def test_as_many_bullets_as_fit_are_kept_in_order() -> None:
    article = Article(
        url="https://e.de/a", headline="Kopf", bullets=["a" * 100, "b" * 100, "c" * 100]
    )
    teaser = channel_class("x")().compose(article, OPTIONS)
    assert teaser.bullets == 2
    assert teaser.text == f"Kopf\n\n• {'a' * 100}\n• {'b' * 100}\n\n{LINK}"


def test_headline_too_long_for_x_is_cut_at_a_word_with_an_ellipsis() -> None:
    article = Article(url="https://e.de/a", headline="Wort " * 80)
    teaser = channel_class("x")().compose(article, OPTIONS)
    head = teaser.text.split("\n\n")[0]
    assert teaser.truncated
    assert head.endswith("Wort…")
    assert parse_tweet(teaser.text).weightedLength <= 280


def test_lead_stands_in_for_missing_bullets_when_it_fits() -> None:
    article = Article(url="https://e.de/a", headline="Kopf", lead="Der Vorspann.")
    assert "Der Vorspann." in channel_class("whatsapp")().compose(article, OPTIONS).text


@given(text=article_text.filter(str.strip), budget=st.integers(min_value=1, max_value=60))
def test_truncate_never_splits_a_grapheme(text: str, budget: int) -> None:
    cut = truncate(text, lambda candidate: len(candidate) <= budget)
    assert len(cut) <= budget
    if cut and cut != text:
        kept = graphemes(cut.removesuffix(ELLIPSIS))
        assert kept == graphemes(text)[: len(kept)]


def test_truncate_prefers_the_last_whole_word() -> None:
    assert truncate("eins zwei drei", lambda c: len(c) <= 11) == "eins zwei…"


def test_truncate_cuts_inside_a_single_long_word_only_when_it_must() -> None:
    assert truncate("Donaudampfschifffahrt", lambda c: len(c) <= 6) == "Donau…"


def test_a_headline_of_one_endless_grapheme_is_cut_not_refused() -> None:
    from publisher import roster
    from publisher.config import ChannelSettings, Settings
    from publisher.teasers import compose

    endless = Article(url="https://e.de/a", headline="e" + "\u0301" * 999, bullets=["x"])
    settings = Settings(channels={"x": ChannelSettings(type="x", dry_run=True)})
    teaser = compose(endless, roster.chosen(settings, ["x"]), settings)["x"]
    assert teaser.text[0] in ("e", "\u00e9") and teaser.length <= 280
