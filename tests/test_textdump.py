"""Text and Markdown article dumps shaped like the News.de sample."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.articles import ArticleError
from publisher.intake.textdump import article_from_text
from tests.conftest import SAMPLE

URL = "https://www.news.de/politik/857/assad/"
HEAD = "Eine Schlagzeile mit genug Wörtern für einen Titel"


@pytest.fixture(scope="module")
def sample():
    return article_from_text(SAMPLE.read_text(encoding="utf-8"), source="sample", url=URL)


def test_sample_kicker_is_the_first_short_line(sample) -> None:
    assert sample.kicker == "Politik"


def test_sample_headline_is_the_line_after_the_kicker(sample) -> None:
    assert sample.headline == (
        "Baschar al-Assad im Stich gelassen: Insider packt aus: "
        "Wladimir Putin ließ Vertrauten eiskalt hängen"
    )


def test_sample_lead_leaves_out_the_photo_credit(sample) -> None:
    assert sample.lead.startswith("Seinen früheren Vertrauten Baschar al-Assad")
    assert sample.lead.endswith("wie ein Insider behauptete.")


def test_sample_bullets_are_the_three_under_the_share_label(sample) -> None:
    assert sample.bullets == (
        "Syrien-Regime von Baschar al-Assad: Wie geht es nach dem Sturz weiter?",
        "Insider packt aus: Ließ Wladimir Putin seinen Vertrauten eiskalt hängen?",
        "Baschar al-Assad floh nach Russland, doch Kreml-Chef blockte Kontaktversuche ab",
    )


def test_sample_url_comes_from_the_option(sample) -> None:
    assert sample.url == URL


def test_quoted_lists_after_the_body_are_not_bullets() -> None:
    text = f'{HEAD}\n\nLead.\n\nText.\n\n  • "Ein Zitat."\n  • Kein Teaser\n'
    assert article_from_text(text, source="t", url=URL).bullets == ()


def test_a_list_right_after_the_lead_is_taken_without_a_label() -> None:
    text = f"{HEAD}\n\nLead.\n\n- eins\n- zwei\n\nText."
    assert article_from_text(text, source="t", url=URL).bullets == ("eins", "zwei")


def test_url_line_in_the_text_gives_the_link() -> None:
    text = f"{HEAD}\n\nURL: https://e.de/artikel\n\nLead."
    assert article_from_text(text, source="t").url == "https://e.de/artikel"


def test_markdown_heading_and_front_matter_are_read() -> None:
    text = (
        "---\nurl: https://e.de/md\nkicker: Sport\nlanguage: en\n---\n"
        "# The **big** match\n\nLead with a [link](https://x.y).\n\n* one\n* two\n"
    )
    article = article_from_text(text, source="t")
    assert (article.kicker, article.headline, article.lead, article.bullets, article.language) == (
        "Sport",
        "The big match",
        "Lead with a link.",
        ("one", "two"),
        "en",
    )


def test_dump_without_any_link_asks_for_url() -> None:
    with pytest.raises(ArticleError, match="pass --url"):
        article_from_text("Kopf\n\nLead.", source="t")


def test_dump_starting_with_a_list_is_refused() -> None:
    with pytest.raises(ArticleError, match="starts with a list"):
        article_from_text("- a\n- b", source="t", url=URL)


@given(st.text(max_size=400))
def test_any_text_gives_an_article_or_one_clear_error(text: str) -> None:
    try:
        article = article_from_text(text, source="t", url=URL)
    except ArticleError as exc:
        assert "\n" not in str(exc)
    else:
        assert article.headline


def test_a_line_then_a_paragraph_is_a_headline_and_a_lead() -> None:
    text = "Merz gewinnt\n\nDer CDU-Chef hat die Abstimmung im Bundestag klar gewonnen."
    article = article_from_text(text, source="t", url=URL)
    assert (article.kicker, article.headline) == (None, "Merz gewinnt")
    assert article.lead == "Der CDU-Chef hat die Abstimmung im Bundestag klar gewonnen."


def test_a_short_markdown_heading_is_the_headline_not_the_kicker() -> None:
    text = "# Merz gewinnt\n\nDer CDU-Chef hat gewonnen.\n\nMehr Text dazu."
    article = article_from_text(text, source="t", url=URL)
    assert (article.kicker, article.headline, article.lead) == (
        None,
        "Merz gewinnt",
        "Der CDU-Chef hat gewonnen.",
    )


def test_a_short_line_before_a_headline_and_lead_is_the_kicker() -> None:
    text = "Sport\n\nBayern verliert in Mainz\n\nDer Rekordmeister unterliegt 1:2."
    article = article_from_text(text, source="t", url=URL)
    assert (article.kicker, article.headline) == ("Sport", "Bayern verliert in Mainz")


def test_markdown_emphasis_becomes_plain_text() -> None:
    text = "# Ein *wichtiger* Tag\n\nDer _ganze_ Vorspann mit **Fett** und snake_case_name."
    article = article_from_text(text, source="t", url=URL)
    assert article.headline == "Ein wichtiger Tag"
    assert article.lead == "Der ganze Vorspann mit Fett und snake_case_name."


def test_a_markdown_list_under_a_heading_after_the_lead_is_the_bullets() -> None:
    text = (
        "# Merz gewinnt die Abstimmung\n\nDer Vorspann.\n\n## Das Wichtigste\n\n"
        "- Erster Punkt\n- Zweiter Punkt\n\nDer Text."
    )
    assert article_from_text(text, source="t", url=URL).bullets == ("Erster Punkt", "Zweiter Punkt")


def test_a_markdown_list_right_under_the_lead_line_is_the_bullets() -> None:
    text = "# Merz gewinnt die Abstimmung\n\nDer Vorspann.\n- Erster Punkt\n- Zweiter Punkt\n"
    article = article_from_text(text, source="t", url=URL)
    assert (article.lead, article.bullets) == ("Der Vorspann.", ("Erster Punkt", "Zweiter Punkt"))


STORM = (
    "# Sturm über dem Norden\n\n*Unwetter*\n\n"
    "Der Wetterdienst warnt vor Orkanböen an der Küste. Die Bahn stellt den Fernverkehr ein.\n\n"
    "- Orkanböen bis 140 km/h\n- Fernverkehr eingestellt\n- Schulen bleiben geschlossen\n"
)


def test_an_emphasised_word_under_the_heading_is_the_kicker_not_the_lead() -> None:
    article = article_from_text(STORM, source="md", url=URL)
    assert article.kicker == "Unwetter"
    assert article.lead.startswith("Der Wetterdienst warnt")
    assert article.bullets == (
        "Orkanböen bis 140 km/h",
        "Fernverkehr eingestellt",
        "Schulen bleiben geschlossen",
    )


def test_a_byline_between_headline_and_lead_is_neither() -> None:
    text = STORM.replace("*Unwetter*", "Von Anna Berger")
    article = article_from_text(text, source="md", url=URL)
    assert article.kicker is None and article.lead.startswith("Der Wetterdienst warnt")
    assert len(article.bullets) == 3


def test_a_short_lead_before_a_list_is_still_the_lead() -> None:
    article = article_from_text(
        "Die Bahn stellt den Verkehr im Norden ein\n\nKurz und knapp\n\n- eins\n- zwei\n",
        source="t",
        url=URL,
    )
    assert (article.lead, article.bullets) == ("Kurz und knapp", ("eins", "zwei"))
