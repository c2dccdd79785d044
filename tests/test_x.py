"""X's text rules: weighted length exactly as twitter-text counts it."""

from __future__ import annotations

import re
import time

from hypothesis import given
from hypothesis import strategies as st
from twitter_text import parse_tweet
from twitter_text.regexp.emoji import emoji

from publisher.channels.x import X
from publisher.channels.x_length import EMOJI_RUN_CHARS, emoji_spans, weighted_length
from tests.strategies import article_text


@given(article_text)
def test_weighted_length_agrees_with_parse_tweet(text: str) -> None:
    assert weighted_length(text) == parse_tweet(text).weightedLength


def test_every_url_counts_23() -> None:
    assert weighted_length("a https://www.example.com/" + "x" * 100) == 2 + 23


def test_cjk_and_emoji_count_two() -> None:
    assert weighted_length("日本") == 4
    assert weighted_length("\U0001f468\u200d\U0001f469\u200d\U0001f467") == 2


@given(st.one_of(article_text, st.text(alphabet=st.sampled_from(sorted(EMOJI_RUN_CHARS)))))
def test_emoji_spans_agree_with_scanning_the_whole_text(text: str) -> None:
    assert emoji_spans(text) == [m.span() for m in emoji.finditer(text)]


def test_emoji_pattern_is_only_literal_code_points_and_ranges() -> None:
    # What makes scanning candidate runs only equivalent to scanning everything.
    assert re.fullmatch(r"(\\U[0-9a-fA-F]{8}|[|\[\]-])+", emoji.pattern)


def test_every_emoji_alternative_holds_a_non_ascii_code_point() -> None:
    for alternative in re.sub(r"\[[^\]]*\]", "[class]", emoji.pattern).split("|"):
        codes = [int(h, 16) for h in re.findall(r"\\U([0-9a-fA-F]{8})", alternative)]
        assert alternative == "[class]" or max(codes) >= 0x80
    for char_class in re.findall(r"\[([^\]]*)\]", emoji.pattern):
        codes = [int(h, 16) for h in re.findall(r"\\U([0-9a-fA-F]{8})", char_class)]
        assert min(codes) >= 0x80


def test_validate_flags_text_over_280() -> None:
    assert X().validate("a" * 281) == ["281 weighted characters, over the limit of 280"]


def test_validate_flags_characters_x_refuses() -> None:
    assert "refuses" in X().validate("a\ufffeb")[0]


def test_validate_accepts_a_normal_post() -> None:
    assert X().validate("Hallo Welt https://e.de") == []


def test_a_word_of_hundreds_of_dots_is_counted_as_text_in_one_pass() -> None:
    text = "http://" + "a." * 20_000
    started = time.process_time()
    assert weighted_length(text) == len(text)
    # twitter-text's URL pattern took 4 s for 800 labels, and grows with their square.
    assert time.process_time() - started < 2


def test_a_link_with_a_few_dots_still_counts_23() -> None:
    assert weighted_length("Lesen: https://www.news.de/a.b.c/v1.2.3/seite.html") == 7 + 23
