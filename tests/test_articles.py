"""Article JSON and the text normalisation every importer applies."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.articles import Article, ArticleError, article_from_json_text, normalise_text


def test_normalise_decodes_entities_and_collapses_whitespace() -> None:
    assert normalise_text("  Tom &amp; Jerry\n\t im&nbsp;Kino ") == "Tom & Jerry im Kino"


def test_normalise_removes_soft_hyphens_and_control_characters() -> None:
    assert normalise_text("Bundes\u00adtags\u0007wahl\u200b") == "Bundestags wahl"


def test_normalise_composes_to_nfc() -> None:
    assert normalise_text("Mu\u0308nchen") == "München"


def test_normalise_keeps_zero_width_joiners_of_emoji_sequences() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert normalise_text(family) == family


@given(st.text())
def test_normalised_text_is_nfc_trimmed_and_free_of_controls(value: str) -> None:
    result = normalise_text(value)
    assert unicodedata.is_normalized("NFC", result)
    assert result == result.strip()
    assert "  " not in result
    assert "\u00ad" not in result
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in result)


def test_article_json_needs_only_url_and_headline() -> None:
    article = article_from_json_text('{"url": "https://e.de/a", "headline": "Hallo"}', "a.json")
    assert (article.url, article.headline, article.bullets) == ("https://e.de/a", "Hallo", ())


def test_article_json_drops_empty_bullets_and_normalises_them() -> None:
    article = Article(url="https://e.de/a", headline="H", bullets=["  eins ", "", " ", "zwei"])
    assert article.bullets == ("eins", "zwei")


def test_article_json_reports_where_the_json_is_broken() -> None:
    with pytest.raises(ArticleError, match=r"a.json: invalid JSON at line 2, column 1"):
        article_from_json_text('{"url": "https://e.de/a",\n}', "a.json")


def test_article_json_without_headline_names_the_field() -> None:
    with pytest.raises(ArticleError, match="headline: is required"):
        article_from_json_text('{"url": "https://e.de/a"}', "a.json")


def test_article_json_with_blank_headline_is_refused() -> None:
    with pytest.raises(ArticleError, match="headline: the headline is empty"):
        article_from_json_text('{"url": "https://e.de/a", "headline": " &nbsp; "}', "a.json")


def test_article_json_with_non_http_url_is_refused() -> None:
    with pytest.raises(ArticleError, match="not an http"):
        article_from_json_text('{"url": "ftp://e.de/a", "headline": "H"}', "a.json")


def test_article_json_time_needs_an_offset() -> None:
    with pytest.raises(ArticleError, match="published_at"):
        article_from_json_text(
            '{"url": "https://e.de/a", "headline": "H", "published_at": "2024-12-31T10:15:00"}',
            "a.json",
        )


def test_article_json_round_trips_through_the_contract() -> None:
    data = {
        "id": "42",
        "url": "https://e.de/a",
        "headline": "H",
        "kicker": "Politik",
        "lead": "L",
        "bullets": ["a", "b"],
        "image": {"url": "https://e.de/i.jpg", "alt": "Alt", "credit": "dpa"},
        "tags": ["t"],
        "language": "de",
        "published_at": "2024-12-31T10:15:00+01:00",
    }
    assert Article.model_validate(data).to_json() == data
