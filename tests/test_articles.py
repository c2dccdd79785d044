"""Article JSON and the text normalisation every importer applies."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.articles import (
    Article,
    ArticleError,
    article_from_json_text,
    article_from_mapping,
    normalise_text,
)


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


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_bidi_override_and_isolate_controls_are_removed(char: str) -> None:
    assert normalise_text(f"Kopf{char}txet") == "Kopftxet"


@pytest.mark.parametrize(
    "url", ["https://e.de/a\nFAKE LOG LINE", "https://e.de/a\r\nX: y", "https://e.de/a b"]
)
def test_urls_with_line_breaks_or_spaces_are_refused(url: str) -> None:
    with pytest.raises(ArticleError, match="not an http"):
        article_from_mapping({"url": url, "headline": "Kopf"})


def test_a_json_array_is_refused_as_not_an_article(tmp_path) -> None:
    from publisher.config import Settings
    from publisher.intake.sources import load_article

    path = tmp_path / "a.json"
    path.write_text('[{"url": "https://e.de/a", "headline": "Kopf"}]')
    with pytest.raises(ArticleError, match="must be an object"):
        load_article(str(path), Settings())


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(tmp_path) -> None:
    from publisher.config import FetchSettings, Settings
    from publisher.intake.sources import load_article

    path = tmp_path / "big.txt"
    path.write_text("Kopf\n\n" + "x" * 2_000)
    with pytest.raises(ArticleError, match="larger than 1,000 bytes"):
        load_article(str(path), Settings(fetch=FetchSettings(max_bytes=1_000)), url="https://e.de")


def test_an_html_file_in_its_declared_encoding_is_read(tmp_path) -> None:
    from publisher.config import Settings
    from publisher.intake.sources import load_article

    page = '<html><head><meta charset="windows-1252"><title>Grüße – „Zitat“</title></head></html>'
    path = tmp_path / "page.html"
    path.write_bytes(page.encode("windows-1252"))
    article = load_article(str(path), Settings(), url="https://e.de/a")
    assert article.headline == "Grüße – „Zitat“"


def test_a_url_longer_than_2048_characters_is_refused() -> None:
    with pytest.raises(ArticleError, match="url: longer than 2,048 characters"):
        article_from_mapping({"url": "https://e.de/" + "a" * 2100, "headline": "Kopf"})


def test_an_id_longer_than_200_characters_is_refused() -> None:
    with pytest.raises(ArticleError, match="id: longer than 200 characters"):
        article_from_mapping({"id": "x" * 201, "url": "https://e.de/a", "headline": "Kopf"})


def refusal(data: dict) -> ArticleError:
    with pytest.raises(ArticleError) as refused:
        article_from_mapping({"url": "https://e.de/1", "headline": "Schlagzeile"} | data)
    return refused.value


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("url", {"url": "https://e.de/1\udfff"}),
        ("image", {"image": "https://e.de/bild\udfff.jpg"}),
        ("image.alt", {"image": {"url": "https://e.de/b.jpg", "alt": "\udfff"}}),
        ("bullets.1", {"bullets": ["gut", "\ud800"]}),
    ],
)
def test_a_lone_surrogate_anywhere_is_refused_naming_its_field(field: str, data: dict) -> None:
    refused = refusal(data)
    assert refused.values["field"] == field and "not text" in str(refused)


def test_a_publication_date_past_the_last_day_there_is_is_refused() -> None:
    refused = refusal({"published_at": "9999-12-31T23:59:59-14:00"})
    assert refused.values["field"] == "published_at"


def test_a_publication_date_centuries_ahead_is_refused() -> None:
    assert refusal({"published_at": "2400-01-01T00:00:00+00:00"}).values["field"] == "published_at"


@pytest.mark.parametrize("bullets", [[["x"]], [{"a": 1}], [1, 2], {"a": "b"}])
def test_bullets_that_are_not_a_list_of_strings_are_refused(bullets: object) -> None:
    assert refusal({"bullets": bullets}).values["field"] == "bullets"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("headline", "h" * 1_001),
        ("kicker", "k" * 201),
        ("lead", "l" * 5_001),
        ("section", "s" * 201),
        ("language", "d" * 36),
    ],
)
def test_a_field_longer_than_any_article_has_is_refused(field: str, value: str) -> None:
    refused = refusal({field: value})
    assert refused.values["field"] == field and "longer than" in str(refused)


def test_more_bullets_than_a_teaser_could_hold_are_refused() -> None:
    assert "more than 20" in str(refusal({"bullets": [f"Punkt {n}" for n in range(21)]}))


def test_a_url_with_a_broken_host_is_refused_as_not_a_url() -> None:
    refused = refusal({"url": "http://[::1"})
    assert refused.values["field"] == "url" and "not an http(s) URL" in str(refused)


def test_json_nested_too_deeply_is_refused_as_not_an_article() -> None:
    with pytest.raises(ArticleError) as refused:
        article_from_json_text("[" * 100_000 + "]" * 100_000, "upload.json")
    assert refused.value.key == "not_an_article"


@pytest.mark.parametrize(
    ("written", "searched"),
    [("Müller", "muller"), ("Müller", "Mueller"), ("Straße", "strasse"), ("Élysée", "elysee")],
)
def test_search_folds_accents_case_and_german_spelling_out(written: str, searched: str) -> None:
    from publisher.articles import fold

    assert fold(searched) in fold(f"Herr {written} sagt")
