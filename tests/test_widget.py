"""The share widget and link-preview tags: every link and its parameters, escaping in every
context (HTML text, attribute, URL parameter), RTL text, labels, the follow box, and the routes
that serve them with caching headers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from publisher import roster
from publisher.articles import Article, ArticleError, article_from_mapping
from publisher.clock import utcnow
from publisher.config import ConfigError, Settings, WidgetSettings, load_settings
from publisher.engine.posts.queue import upsert_article
from publisher.teasers import compose
from publisher.web.widget import render_meta, render_widget
from tests.desk_helpers import serving

pytestmark = pytest.mark.one_database

ARTICLE = Article(
    id="cms-5",
    url="https://www.news.de/politik/5/?ref=home",
    headline='Putin & Assad: "Wir bleiben" <script>alert(1)</script>',
    lead="Ein Insider packt aus.",
    bullets=["Erster Punkt", "Zweiter Punkt"],
    kicker="Politik",
    tags=["Syrien", "Russland"],
    image={"url": "https://img.news.de/5.jpg", "width": 1200, "height": 630, "alt": "Putin"},
    published_at="2024-12-31T10:15:00+01:00",
)
FOLLOW = {
    "whatsapp": "https://whatsapp.com/channel/0029Va",
    "facebook": "https://www.facebook.com/newsde",
    "x": "https://x.com/newsde",
}


def newsroom(language: str = "de", **widget) -> Settings:
    return Settings(
        language=language, widget=WidgetSettings(outlet="News.de", follow=FOLLOW, **widget)
    )


def page(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html, create_parent="div")


def share(html: str, platform: str) -> tuple[str, dict[str, str]]:
    (link,) = page(html).cssselect(f"a.pub-{platform}")
    href = link.get("href")
    parts = urlsplit(href)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return f"{parts.scheme}:{parts.netloc}{parts.path}" if parts.netloc else parts.scheme, query


def teaser(platform: str, settings: Settings):
    return compose(ARTICLE, roster.resolve(settings, [platform]), settings)[platform]


def test_whatsapp_link_carries_headline_and_tracked_link() -> None:
    settings = newsroom()
    where, query = share(render_widget(ARTICLE, settings), "whatsapp")
    link = teaser("whatsapp", settings).link
    assert where == "https:wa.me/"
    assert query == {"text": f"{ARTICLE.headline} {link}"}
    assert "utm_source=whatsapp" in link


def test_x_link_carries_the_x_teaser_text() -> None:
    settings = newsroom()
    where, query = share(render_widget(ARTICLE, settings), "x")
    assert where == "https:x.com/intent/post"
    assert query == {"text": teaser("x", settings).text}


def test_facebook_and_telegram_links_carry_their_tracked_links() -> None:
    settings = newsroom()
    html = render_widget(ARTICLE, settings)
    where, query = share(html, "facebook")
    assert (where, query) == (
        "https:www.facebook.com/sharer/sharer.php",
        {"u": teaser("facebook", settings).link},
    )
    where, query = share(html, "telegram")
    assert where == "https:t.me/share/url"
    assert query == {"url": teaser("telegram", settings).link, "text": ARTICLE.headline}


def test_email_link_has_subject_lead_and_link() -> None:
    where, query = share(render_widget(ARTICLE, newsroom()), "email")
    assert where == "mailto"
    assert query["subject"] == ARTICLE.headline
    assert query["body"].startswith("Ein Insider packt aus.\n\nhttps://www.news.de/politik/5/")
    assert "utm_source=email" in query["body"]


def test_every_href_is_https_or_mailto() -> None:
    hrefs = [a.get("href") for a in page(render_widget(ARTICLE, newsroom())).iter("a")]
    assert hrefs and all(h.startswith(("https://", "mailto:")) for h in hrefs)


def test_headline_markup_is_text_never_elements() -> None:
    tree = page(render_widget(ARTICLE, newsroom()))
    assert len(tree.cssselect("script")) == 1  # the widget's own enhancement script
    (native,) = tree.cssselect("button.pub-native")
    assert native.get("data-title") == ARTICLE.headline


def test_meta_tags_escape_quotes_and_markup() -> None:
    tree = lxml.html.fragment_fromstring(render_meta(ARTICLE, newsroom()), create_parent="head")
    tags = {(m.get("property") or m.get("name")): m.get("content") for m in tree.iter("meta")}
    assert tags["og:title"] == ARTICLE.headline
    assert tags["og:url"] == ARTICLE.url
    assert tags["og:type"] == "article"
    assert tags["og:description"] == "Ein Insider packt aus."
    assert (tags["og:image"], tags["og:image:width"], tags["og:image:height"]) == (
        "https://img.news.de/5.jpg",
        "1200",
        "630",
    )
    assert tags["article:published_time"] == "2024-12-31T10:15:00+01:00"
    assert tags["article:section"] == "Politik"
    assert tags["twitter:card"] == "summary_large_image"
    assert [m.get("content") for m in tree.iter("meta") if m.get("property") == "article:tag"] == [
        "Syrien",
        "Russland",
    ]


def test_rtl_text_survives_and_the_styles_follow_the_writing_direction() -> None:
    arabic = ARTICLE.model_copy(update={"headline": "بوتين والأسد: «نحن باقون»"})
    html = render_widget(arabic, newsroom())
    _, query = share(html, "telegram")
    assert query["text"] == "بوتين والأسد: «نحن باقون»"
    style = page(html).cssselect("style")[0].text
    assert "left" not in style and "right" not in style


def test_labels_follow_the_configured_language() -> None:
    german = page(render_widget(ARTICLE, newsroom("de")))
    english = page(render_widget(ARTICLE, newsroom("en")))
    assert german.cssselect("h2")[0].text == "Artikel teilen"
    assert english.cssselect("h2")[0].text == "Share article"
    assert "Auf WhatsApp teilen" in german.cssselect("a.pub-whatsapp")[0].text_content()


def test_follow_box_names_the_outlet_and_its_profiles() -> None:
    box = page(render_widget(ARTICLE, newsroom())).cssselect("aside.pub-follow")[0]
    assert box.cssselect("p")[0].text == "Folgen Sie News.de schon bei WhatsApp, Facebook oder X?"
    assert [a.get("href") for a in box.iter("a")] == list(FOLLOW.values())


def test_no_follow_box_without_profiles() -> None:
    settings = Settings(widget=WidgetSettings(outlet="News.de"))
    assert not page(render_widget(ARTICLE, settings)).cssselect("aside")


def test_javascript_urls_never_become_articles() -> None:
    with pytest.raises(ArticleError):
        article_from_mapping({"url": "javascript:alert(1)", "headline": "x"})


def test_follow_links_must_be_http(tmp_path) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text('[widget.follow]\nx = "javascript:alert(1)"\n')
    with pytest.raises(ConfigError, match="not an http"):
        load_settings(config)


@given(headline=st.text(min_size=1, max_size=120).filter(lambda t: t.strip()))
def test_any_headline_round_trips_through_every_context(headline: str) -> None:
    try:
        article = ARTICLE.model_copy(update={"headline": headline})
        article = article_from_mapping(article.to_json())
    except ArticleError:
        return
    html = render_widget(article, newsroom())
    tree = page(html)
    assert len(tree.cssselect("a")) == 8 and len(tree.cssselect("script")) == 1
    _, query = share(html, "telegram")
    assert query["text"] == article.headline
    assert tree.cssselect("button.pub-native")[0].get("data-title") == article.headline


@pytest.fixture
def served(engine: Engine, database_url: str) -> Iterator[TestClient]:
    """The app serving the widget of one stored article, called in-process."""
    with engine.begin() as connection:
        upsert_article(connection, ARTICLE, utcnow(), "cms")
    settings = newsroom().model_copy(update={"database_url": database_url})
    with serving(engine, settings) as client:
        yield client


def test_served_widget_has_caching_headers_and_revalidates(served) -> None:
    first = served.get("/widget/cms-5")
    assert first.status_code == 200 and "text/html" in first.headers["content-type"]
    assert first.headers["cache-control"] == "public, max-age=300"
    again = served.get("/widget/cms-5", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_served_meta_tags(served) -> None:
    response = served.get("/widget/cms-5/meta")
    assert response.status_code == 200
    assert '<meta property="og:url" content="https://www.news.de/politik/5/?ref=home">' in (
        response.text
    )


def test_unknown_article_is_404_with_json(served) -> None:
    response = served.get("/widget/nope")
    assert response.status_code == 404 and "no stored article" in response.json()["error"]


def test_an_embargoed_article_is_not_served_and_not_cached(engine, served) -> None:
    future = datetime.now(UTC) + timedelta(hours=2)
    embargoed = ARTICLE.model_copy(update={"id": "cms-6", "published_at": future})
    with engine.begin() as connection:
        upsert_article(connection, embargoed, utcnow(), "cms")
    for path in ("/widget/cms-6", "/widget/cms-6/meta"):
        response = served.get(path)
        assert response.status_code == 404
        assert response.headers["cache-control"] == "no-store"
        assert "Putin" not in response.text


def test_articles_are_not_served_by_their_row_number(served) -> None:
    assert served.get("/widget/1").status_code == 404


def test_an_article_without_a_cms_id_is_served_by_its_url(engine, served) -> None:
    plain = ARTICLE.model_copy(update={"id": None, "url": "https://www.news.de/sport/7/"})
    with engine.begin() as connection:
        upsert_article(connection, plain, utcnow(), "cms")
    response = served.get("/widget", params={"url": plain.url})
    assert response.status_code == 200 and "Artikel teilen" in response.text


def test_a_huge_number_is_404_not_an_error(served) -> None:
    response = served.get(f"/widget/{'9' * 40}")
    assert response.status_code == 404


def test_the_meta_tags_of_an_article_without_a_cms_id_are_served_by_its_url(engine, served) -> None:
    plain = ARTICLE.model_copy(update={"id": None, "url": "https://www.news.de/sport/8/"})
    with engine.begin() as connection:
        upsert_article(connection, plain, utcnow(), "cms")
    response = served.get("/widget/meta", params={"url": plain.url})
    assert response.status_code == 200 and 'content="https://www.news.de/sport/8/"' in response.text


def test_a_profile_on_another_network_shows_the_name_it_is_given() -> None:
    podcast = {"podcast": {"url": "https://news.de/podcast", "name": "Podcast"}}
    html = render_widget(ARTICLE, Settings(widget=WidgetSettings(outlet="News.de", follow=podcast)))
    assert page(html).cssselect("a.pub-follow-podcast")[0].text == "Podcast"


def test_a_profile_on_an_unknown_network_without_a_name_is_a_config_error(tmp_path) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text('[widget.follow]\npodcast = "https://news.de/podcast"\n')
    with pytest.raises(ConfigError, match="podcast: give the network's name"):
        load_settings(config)


def test_a_share_button_for_a_channel_without_share_link_is_a_config_error(tmp_path) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text('[widget]\nplatforms = ["x", "webhook"]\n')
    with pytest.raises(ConfigError, match="'webhook' has no share link"):
        load_settings(config)


def test_the_new_networks_share_links_carry_their_tracked_links() -> None:
    settings = newsroom(platforms=["bluesky", "threads", "linkedin"])
    html = render_widget(ARTICLE, settings)
    where, query = share(html, "bluesky")
    assert where == "https:bsky.app/intent/compose"
    assert query["text"].endswith(teaser("bluesky", settings).link)
    where, query = share(html, "threads")
    assert where == "https:www.threads.net/intent/post"
    assert "utm_source=threads" in query["text"]
    where, query = share(html, "linkedin")
    assert (where, query) == (
        "https:www.linkedin.com/sharing/share-offsite/",
        {"url": teaser("linkedin", settings).link},
    )


def test_mastodon_shares_through_the_newsrooms_own_instance(tmp_path) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text(
        '[widget]\noutlet = "News.de"\nplatforms = ["mastodon"]\n'
        '[channels.mastodon]\ntype = "mastodon"\ninstance = "https://social.news.de"\n'
    )
    settings = load_settings(config)
    where, query = share(render_widget(ARTICLE, settings), "mastodon")
    assert where == "https:social.news.de/share"
    assert query["text"].startswith(ARTICLE.headline)


def test_a_newsroom_that_chose_no_share_buttons_gets_the_usual_four_and_email() -> None:
    assert WidgetSettings().platforms == ("whatsapp", "facebook", "x", "telegram", "email")
