"""HTML article pages: every page of the shared corpus, with the values each page declares."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.articles import ArticleError
from publisher.intake.headlines import strip_site_suffix
from publisher.intake.htmlpage import article_from_html, decode_html
from tests.conftest import CORPUS

BERLIN = ZoneInfo("Europe/Berlin")

# headline, url, lead start, image start, kicker, published_at, language, first tag
EXPECTED = {
    "computerbase.de.htc.html": (
        "HTC Touch: Bald bei o2 als „Xda Nova“",
        "https://www.computerbase.de/2007-06/htc-touch-bald-bei-o2-als-xda-nova/",
        "Vor knapp zwei Wochen stellten Microsoft und HTC",
        "https://www.computerbase.de/img/logo-opengraph.png",
        None,
        "2007-06-19T09:40:00+02:00",
        "de",
        None,
    ),
    "dw.com.colonial.html": (
        "Berlin confronts Germany's colonial past with new initiative",
        "https://www.dw.com/en/berlin-confronts-germanys-colonial-past-with-new-initiative/a-52060881",
        "The German capital has launched a five-year project",
        "https://www.dw.com/image/43470564_304.jpg",
        None,
        None,
        "en",
        "Berlin",
    ),
    "franceculture.fr.idees.html": (
        "Prendre la parole",
        "https://www.franceculture.fr/emissions/le-journal-des-idees/"
        "le-journal-des-idees-emission-du-mardi-14-janvier-2020",
        "Grand débat national, Convention citoyenne pour le climat",
        "https://cdn.radiofrance.fr/s3/cruiser-production/2020/01/150d00b6",
        None,
        None,
        "fr",
        None,
    ),
    "futurezone.at.lyft.html": (
        "Uber-Konkurrent Lyft startet mit Waymo-Robotertaxis in USA",
        "https://futurezone.at/digital-life/uber-konkurrent-lyft-startet-mit-waymo-robotertaxis-in-usa/400487461",
        "Bereits in den kommenden Monaten will der Uber-Konkurrent",
        "https://image.futurezone.at/images/cfs_landscape_1232w_693h/3463759/46-134004200.jpg",
        None,
        "2019-05-08T05:30:23+00:00",
        "de",
        None,
    ),
    "heise.de.lithium.html": (
        "Lithium aus dem Schredder",
        "https://www.heise.de/newsticker/meldung/Lithium-aus-dem-Schredder-4451133.html",
        "Eine niedersächsische Firma hat die Wiederverwertung",
        "https://heise.cloudimg.io/bound/1200x1200/",
        None,
        "2019-06-20T07:30:00+02:00",
        "de",
        "Akkus",
    ),
    "phys.org.tool.html": (
        "Flint flake tool partially covered by birch tar adds to evidence of Neanderthal "
        "complex thinking",
        "https://phys.org/news/2019-10-flint-flake-tool-partially-birch.html",
        "A team of researchers affiliated with several institutions in The Netherlands",
        "https://scx2.b-cdn.net/gfx/news/hires/2016/neanderthal.png",
        None,
        "2019-10-22T09:30:34-04:00",
        "en",
        "Science",
    ),
    "reuters.com.parasite.html": (
        "'Parasite' scores historic upset at SAG awards, boosting Oscar chances",
        "https://www.reuters.com/article/us-awards-sag-idUSKBN1ZI0EH",
        'South Korean thriller "Parasite" was the upset winner',
        "https://static.reuters.com/resources/r/?m=02&d=20200120",
        "Media Industry",
        "2020-01-19T12:25:36+00:00",
        "en",
        "US",
    ),
    "scmp.com.playbook.html": (
        "Taiwanese President Tsai Ing-wen’s political playbook should be essential reading for "
        "Hong Kong leader Carrie Lam",
        "https://www.scmp.com/comment/opinion/article/3046526/"
        "taiwanese-president-tsai-ing-wens-political-playbook-should-be",
        "While both Tsai and Lam faced a challenging year",
        "https://cdn.i-scmp.com/sites/default/files/styles/1200x800/",
        "Opinion",
        "2020-01-20T10:00:08+08:00",
        "en",
        "Carrie Lam",
    ),
    "sueddeutsche.de.flixtrain.html": (
        "Flixbus attackiert Deutsche Bahn",
        "https://www.sueddeutsche.de/wirtschaft/bahn-flixbus-flixtrain-deutschlandtakt-fernverkehr-1.4445845",
        "Mehrere Bahn-Konkurrenten fürchten durch den geplanten Deutschlandtakt",
        "https://media-cdn.sueddeutsche.de/image/sz.1.3919259/1200x675",
        None,
        None,
        "de",
        "Bahn und Bus",
    ),
    "theverge.com.ios13.html": (
        "iOS 13 will fix the FaceTime eye contact problem",
        "https://www.theverge.com/2019/7/3/20680681/ios-13-beta-3-facetime-attention-correction-eye-contact",
        "Fake eye contact for improved intimacy",
        "https://cdn.vox-cdn.com/thumbor/",
        None,
        "2019-07-03T04:22:07-04:00",
        None,
        None,
    ),
}

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not beside the repo")


@needs_corpus
def test_every_corpus_page_has_expectations() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.html")) == sorted(EXPECTED)


@needs_corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_corpus_article_is_taken_for_a_homepage(name: str) -> None:
    page = decode_html((CORPUS / name).read_bytes())
    address = EXPECTED[name][1]
    article = article_from_html(page, source=name, base_url=address, article_only=True)
    assert article.headline == EXPECTED[name][0]


HOMEPAGE = (
    '<html><head><meta property="og:type" content="website">'
    '<meta property="og:title" content="news.de – Nachrichten"></head></html>'
)


def test_a_page_that_says_it_is_a_website_is_no_article_to_post() -> None:
    with pytest.raises(ArticleError, match="no article"):
        article_from_html(
            HOMEPAGE, source="x", base_url="https://news.de/politik/", article_only=True
        )


def test_a_sites_front_page_is_no_article_to_post() -> None:
    page = "<html><head><title>news.de</title></head></html>"
    with pytest.raises(ArticleError, match="no article"):
        article_from_html(page, source="x", base_url="https://news.de/", article_only=True)


def test_a_page_read_from_a_file_need_not_say_it_is_an_article() -> None:
    assert article_from_html(HOMEPAGE, source="x", url="https://news.de/a").headline


@needs_corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_page_gives_its_declared_values(name: str) -> None:
    headline, url, lead, image, kicker, published, language, tag = EXPECTED[name]
    page = decode_html((CORPUS / name).read_bytes())
    article = article_from_html(page, source=name, default_tz=BERLIN)
    assert article.headline == headline
    assert article.url == url
    assert article.lead.startswith(lead)
    assert article.image.url.startswith(image)
    assert article.kicker == kicker
    assert (article.published_at.isoformat() if article.published_at else None) == published
    assert article.language == language
    assert (article.tags[0] if article.tags else None) == tag


@pytest.mark.parametrize(
    ("title", "sites", "expected"),
    [
        (
            "Lithium aus dem Schredder | heise online",
            ["heise.de", "heise"],
            "Lithium aus dem Schredder",
        ),
        ("iOS 13 fix - The Verge", ["The Verge"], "iOS 13 fix"),
        ("Berlin | DW | 19.01.2020", ["DW.COM"], "Berlin"),
        (
            "Kopf: Unterzeile - Wirtschaft - Süddeutsche.de",
            ["Süddeutsche.de"],
            "Kopf: Unterzeile - Wirtschaft",
        ),
        ("Merz - Scholz: Duell im TV", ["news.de"], "Merz - Scholz: Duell im TV"),
    ],
)
def test_site_suffix_is_stripped_only_when_it_names_the_site(
    title: str, sites: list[str], expected: str
) -> None:
    assert strip_site_suffix(title, sites) == expected


def test_relative_canonical_is_resolved_against_the_page_address() -> None:
    page = '<html><head><title>T</title><link rel="canonical" href="/a/b"></head></html>'
    article = article_from_html(page, source="p", base_url="https://e.de/x/y?z=1")
    assert article.url == "https://e.de/a/b"


def test_page_without_article_metadata_is_refused() -> None:
    with pytest.raises(ArticleError, match="no article metadata"):
        article_from_html(
            "<html><body><p>Nur Text</p></body></html>", source="p", url="https://e.de"
        )


def test_page_without_any_url_asks_for_one() -> None:
    with pytest.raises(ArticleError, match="declares no URL"):
        article_from_html("<html><head><title>T</title></head></html>", source="p")


def test_entities_in_meta_tags_become_plain_text() -> None:
    page = '<html><head><meta property="og:title" content="Tom &amp;amp; Jerry"></head></html>'
    assert article_from_html(page, source="p", url="https://e.de").headline == "Tom & Jerry"


def test_page_in_latin1_is_decoded_by_its_meta_charset() -> None:
    page = '<html><head><meta charset="iso-8859-1"><title>Grüße</title></head></html>'
    text = decode_html(page.encode("iso-8859-1"))
    assert article_from_html(text, source="p", url="https://e.de").headline == "Grüße"


@given(st.text(max_size=300))
def test_any_markup_gives_an_article_or_one_clear_error(markup: str) -> None:
    try:
        article = article_from_html(
            f"<html><head>{markup}</head></html>", source="p", url="https://e.de"
        )
    except ArticleError as exc:
        assert "\n" not in str(exc)
    else:
        assert article.headline


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Die Schlagzeile › News.de", "Die Schlagzeile"),
        ("Die Schlagzeile » News.de", "Die Schlagzeile"),
        ("Die Schlagzeile · News.de", "Die Schlagzeile"),
        ("Die Schlagzeile: News.de", "Die Schlagzeile"),
        ("News.de - Die Schlagzeile", "Die Schlagzeile"),
        ("News.de » Die Schlagzeile", "Die Schlagzeile"),
        ("News.de: Die Schlagzeile", "Die Schlagzeile"),
    ],
)
def test_site_name_behind_or_before_any_separator_is_stripped(title: str, expected: str) -> None:
    page = (
        f'<html><head><title>{title}</title><meta property="og:site_name" content="News.de">'
        "</head></html>"
    )
    assert article_from_html(page, source="p", url="https://www.news.de/a").headline == expected


def test_the_section_beside_the_site_name_goes_with_it() -> None:
    page = (
        "<html><head><title>News.de | Politik | Die Schlagzeile</title>"
        '<meta property="og:site_name" content="News.de">'
        '<meta property="article:section" content="Politik"></head></html>'
    )
    assert article_from_html(page, source="p", url="https://www.news.de/a").headline == (
        "Die Schlagzeile"
    )


def test_the_articles_h1_wins_over_a_title_that_differs() -> None:
    page = (
        "<html><head><title>Startseite-Teaser: Alles zur Wahl</title>"
        '<meta property="og:title" content="Alles zur Wahl - jetzt lesen"></head>'
        '<body><header><h1><a href="/">Lokalblatt</a></h1></header>'
        "<article><h1>Merz gewinnt die Abstimmung im Bundestag</h1><p>Text.</p></article>"
        "</body></html>"
    )
    headline = article_from_html(page, source="p", url="https://e.de/a").headline
    assert headline == "Merz gewinnt die Abstimmung im Bundestag"


def test_json_ld_headline_wins_over_the_title() -> None:
    page = (
        '<html><head><title>SEO-Titel | Site</title><script type="application/ld+json">'
        '{"@type": "NewsArticle", "headline": "Die echte Schlagzeile"}</script></head></html>'
    )
    assert article_from_html(page, source="p", url="https://e.de/a").headline == (
        "Die echte Schlagzeile"
    )


def test_an_unreadable_date_is_left_out_not_a_refusal() -> None:
    page = (
        '<html><head><title>Kopf</title><meta property="article:published_time" '
        'content="gestern Abend"></head></html>'
    )
    article = article_from_html(page, source="p", url="https://e.de/a")
    assert (article.headline, article.published_at) == ("Kopf", None)


def test_a_date_without_offset_is_read_in_the_newsrooms_zone() -> None:
    page = (
        '<html><head><title>Kopf</title><meta property="article:published_time" '
        'content="2024-12-31T10:15:00"></head></html>'
    )
    article = article_from_html(page, source="p", url="https://e.de/a", default_tz=BERLIN)
    assert article.published_at.isoformat() == "2024-12-31T10:15:00+01:00"


def page_with(head: str = "", body: str = "") -> str:
    return (
        f"<html><head><title>Kopf</title><link rel=canonical href='https://e.de/a'>{head}"
        f"</head><body>{body}</body></html>"
    )


def test_a_tag_with_thousands_of_attributes_is_refused_before_it_is_parsed() -> None:
    attributes = " ".join(f"a{n}=x" for n in range(40_000))
    with pytest.raises(ArticleError) as refused:
        article_from_html(page_with(body=f"<div {attributes}>x</div>"), source="p")
    assert refused.value.key == "markup_too_complex"


def test_long_values_of_few_attributes_are_read_as_usual() -> None:
    picture = "<img src='data:image/png;base64," + "A" * 2_000_000 + "'>"
    words = "<meta name=keywords content='" + ", ".join(["Wort"] * 2_000) + "'>"
    assert article_from_html(page_with(words, picture), source="p").headline == "Kopf"


def test_a_canonical_link_to_another_site_is_not_the_fetched_pages_address() -> None:
    page = page_with().replace("https://e.de/a", "https://other.example/stored-article")
    article = article_from_html(page, source="p", base_url="https://attacker.example/page")
    assert article.url == "https://attacker.example/page"


def test_a_canonical_link_to_the_sites_own_other_host_is_the_address() -> None:
    page = page_with().replace("https://e.de/a", "https://www.news.de/politik/1")
    article = article_from_html(page, source="p", base_url="https://m.news.de/politik/1?amp")
    assert article.url == "https://www.news.de/politik/1"


def test_a_publication_date_beyond_any_plan_is_left_out() -> None:
    head = '<meta property="article:published_time" content="9999-12-31T23:59:59-14:00">'
    assert article_from_html(page_with(head), source="p").published_at is None


def test_a_description_as_long_as_an_article_is_no_lead() -> None:
    head = "<meta name=description content='" + "Satz. " * 2_000 + "'>"
    assert article_from_html(page_with(head), source="p").lead is None


def test_more_keywords_than_an_article_keeps_are_cut_to_the_first() -> None:
    head = "<meta name=keywords content='" + ", ".join(f"Wort{n}" for n in range(500)) + "'>"
    assert len(article_from_html(page_with(head), source="p").tags) == 100


THREE = "<ul><li>Eins</li><li>Zwei</li><li>Drei</li></ul>"


@pytest.mark.parametrize(
    "summary",
    [
        f"<h2>Das Wichtigste in Kürze</h2>{THREE}",
        f"<p><strong>Auf einen Blick:</strong></p>{THREE}",
        f"<h3>Key points</h3>{THREE.replace('ul>', 'ol>')}",
        f"<div class='box'><b>The essentials</b>{THREE}</div>",
        f"<aside class='article-summary'>{THREE}</aside>",
    ],
    ids=["heading", "label-paragraph", "ordered", "box-label", "summary-box"],
)
def test_a_pages_own_summary_list_becomes_the_teaser_bullets(summary: str) -> None:
    body = f"<article><h1>Kopf</h1>{summary}<p>Der Text.</p><ul><li>Andere</li></ul></article>"
    assert article_from_html(page_with(body=body), source="p").bullets == ("Eins", "Zwei", "Drei")


def test_a_list_under_no_summary_heading_gives_no_bullets() -> None:
    body = "<article><h1>Kopf</h1><h2>Mehr zum Thema</h2><ul><li>Link</li></ul></article>"
    assert article_from_html(page_with(body=body), source="p").bullets == ()


def test_a_long_list_under_a_summary_heading_is_no_summary() -> None:
    items = "".join(f"<li>Punkt {n}</li>" for n in range(30))
    body = f"<h2>Auf einen Blick</h2><ul>{items}</ul>"
    assert article_from_html(page_with(body=body), source="p").bullets == ()


HOSTILE_PAGE = "<html><head>{}</head><body><h1>Titel der Seite</h1><p>Ein Absatz.</p></body></html>"
LD = '<script type="application/ld+json">{{"@type": "NewsArticle", {}}}</script>'


@pytest.mark.parametrize(
    "head",
    [
        LD.format('"headline": "T", "image": {"url": {"a": 1}}'),
        LD.format('"headline": 5'),
        LD.format('"headline": {"x": 1}'),
        LD.format('"headline": "T", "articleSection": {"x": 1}'),
        LD.format('"headline": "T", "articleSection": 7'),
        '<meta property="og:image" content="http://[::1">',
        '<link rel="canonical" href="http://[::1">',
        '<meta property="og:url" content="http://[::1">',
    ],
)
def test_a_page_declaring_odd_values_is_read_without_them(head: str) -> None:
    page = HOSTILE_PAGE.format(head)
    article = article_from_html(page, source="upload", base_url="https://e.de/artikel/1")
    assert article.url == "https://e.de/artikel/1" and article.headline
