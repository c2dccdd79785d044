"""`publisher articles import`: the back catalogue from a news sitemap, a sitemap index, a plain
sitemap (headlines from the pages), a feed and its older pages, or JSON lines, stored without
posting, never over what another source brought, bounded and resumable; resurfacing then knows
the archive."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from publisher.articles import Article, ArticleError
from publisher.config import ChannelSettings, FetchSettings, Settings
from publisher.engine.posts import queue
from publisher.engine.releases.archive import ArchiveImport, Imported
from publisher.engine.releases.resurface import resurface
from publisher.engine.storage.schema import articles, posts
from publisher.intake.archive import MOST_UNPACKED, read_listing
from publisher.sections import Resurface
from tests.conftest import LocalServer, Route, run_cli

BERLIN = ZoneInfo("Europe/Berlin")
NEWS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def news_sitemap(*numbers: int, published: str = "2026-10-01T08:00:00+02:00") -> bytes:
    urls = "".join(
        f"<url><loc>https://e.de/{n}</loc><news:news><news:publication><news:name>E</news:name>"
        f"<news:language>de</news:language></news:publication>"
        f"<news:publication_date>{published}</news:publication_date>"
        f"<news:title>Archiv {n}</news:title></news:news></url>"
        for n in numbers
    )
    return f'<?xml version="1.0"?><urlset {NEWS}>{urls}</urlset>'.encode()


def plain_sitemap(base: str, *numbers: int) -> bytes:
    urls = "".join(
        f"<url><loc>{base}/artikel/{n}</loc><lastmod>2026-09-0{n}</lastmod></url>" for n in numbers
    )
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()


@pytest.fixture
def newsroom(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        timezone="Europe/Berlin",
        channels={"fb": ChannelSettings(type="facebook", dry_run=True, slots=["09:00", "18:00"])},
        fetch=FetchSettings(allow_private_networks=True),
    )


def imported(
    engine: Engine,
    settings: Settings,
    source: str | Path,
    *,
    most: int = 1000,
    since: datetime | None = None,
) -> Imported:
    return ArchiveImport(engine, settings, most=most, since=since).run(str(source))


def stored(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(articles.c.url, articles.c.headline, articles.c.origin)
        ).all()
    return {row.url: (row.headline, row.origin) for row in rows}


def post_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(posts)).scalar_one()


def test_a_news_sitemaps_articles_are_stored_with_their_dates_and_not_posted(
    engine: Engine, newsroom: Settings, tmp_path: Path
) -> None:
    (tmp_path / "news.xml").write_bytes(news_sitemap(1, 2))
    done = imported(engine, newsroom, tmp_path / "news.xml")
    assert (done.stored, done.left_out) == (2, 0)
    assert stored(engine) == {
        "https://e.de/1": ("Archiv 1", "archive"),
        "https://e.de/2": ("Archiv 2", "archive"),
    }
    with engine.connect() as connection:
        published = connection.execute(select(articles.c.published_at)).scalars().all()
    assert published == [datetime(2026, 10, 1, 6, tzinfo=UTC)] * 2
    assert post_count(engine) == 0


def test_a_sitemap_index_brings_in_every_sitemap_it_names(
    engine: Engine, newsroom: Settings, server: LocalServer
) -> None:
    first = server.serve("/s1.xml", news_sitemap(1), "application/xml")
    second = server.serve("/s2.xml", gzip.compress(news_sitemap(2, 3)), "application/gzip")
    index = (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{first}</loc></sitemap><sitemap><loc>{second}</loc></sitemap>"
        "</sitemapindex>"
    )
    source = server.serve("/index.xml", index.encode(), "application/xml")
    done = imported(engine, newsroom, source)
    assert (done.stored, done.documents) == (3, 3)


def test_a_plain_sitemaps_headlines_are_read_from_the_pages(
    engine: Engine, newsroom: Settings, server: LocalServer
) -> None:
    for n in (1, 2):
        server.serve(f"/artikel/{n}", f"<html><head><title>Seite {n}</title></head><body>"
                     f"<article><h1>Aus dem Archiv {n}</h1><p>Text.</p></article></body></html>"
                     .encode())  # fmt: skip
    source = server.serve("/sitemap.xml", plain_sitemap(server.base, 1, 2), "application/xml")
    imported(engine, newsroom, source)
    assert {headline for headline, _ in stored(engine).values()} == {
        "Aus dem Archiv 1",
        "Aus dem Archiv 2",
    }


def test_an_import_never_replaces_what_the_cms_brought(
    engine: Engine, newsroom: Settings, tmp_path: Path
) -> None:
    cms = Article(id="cms-1", url="https://e.de/1", headline="Vom CMS")
    with engine.begin() as connection:
        queue.upsert_article(connection, cms, datetime.now(UTC), "cms")
    (tmp_path / "archive.jsonl").write_text(
        json.dumps({"url": "https://e.de/1", "headline": "Aus dem Archiv"}) + "\n"
    )
    done = imported(engine, newsroom, tmp_path / "archive.jsonl")
    assert (done.stored, done.known) == (0, 1)
    assert stored(engine)["https://e.de/1"] == ("Vom CMS", "cms")


def test_a_second_run_passes_over_what_the_first_stored_without_fetching_its_pages(
    engine: Engine, newsroom: Settings, server: LocalServer
) -> None:
    fetched: list[str] = []

    def counted(serve: Route) -> Route:
        def route(handler: BaseHTTPRequestHandler) -> None:
            fetched.append(handler.path)
            serve(handler)

        return route

    for n in (1, 2):
        page = f"<html><body><article><h1>Archiv {n}</h1></article></body></html>".encode()
        server.serve(f"/artikel/{n}", page)
        server.routes[f"/artikel/{n}"] = counted(server.routes[f"/artikel/{n}"])
    source = server.serve("/sitemap.xml", plain_sitemap(server.base, 1, 2), "application/xml")
    imported(engine, newsroom, source)
    again = imported(engine, newsroom, source)
    assert (again.stored, again.known, len(fetched)) == (0, 2, 2)


def test_the_limit_ends_a_run_and_the_next_run_goes_on_where_it_ended(
    engine: Engine, newsroom: Settings, tmp_path: Path
) -> None:
    (tmp_path / "news.xml").write_bytes(news_sitemap(1, 2, 3))
    first = imported(engine, newsroom, tmp_path / "news.xml", most=2)
    second = imported(engine, newsroom, tmp_path / "news.xml", most=2)
    assert (first.stored, second.stored, second.known) == (2, 1, 2)


def test_since_leaves_out_articles_published_before_it(
    engine: Engine, newsroom: Settings, tmp_path: Path
) -> None:
    (tmp_path / "news.xml").write_bytes(news_sitemap(1))
    since = datetime(2026, 11, 1, tzinfo=BERLIN)
    done = imported(engine, newsroom, tmp_path / "news.xml", since=since)
    assert (done.stored, done.older) == (0, 1)


def test_a_broken_json_line_is_left_out_naming_its_line(
    engine: Engine, newsroom: Settings, tmp_path: Path
) -> None:
    lines = [json.dumps({"url": "https://e.de/1", "headline": "Eins"}), "{nicht json", ""]
    (tmp_path / "archive.jsonl").write_text("\n".join(lines))
    done = imported(engine, newsroom, tmp_path / "archive.jsonl")
    assert done.stored == 1 and done.reasons == [f"{tmp_path / 'archive.jsonl'} line 2: not JSON "
                                                 "(Expecting property name enclosed in double "
                                                 "quotes)"]  # fmt: skip


def test_a_feed_and_its_older_pages_are_imported(
    engine: Engine, newsroom: Settings, server: LocalServer
) -> None:
    def atom(n: int, older: str = "") -> bytes:
        link = f'<link rel="prev-archive" href="{older}"/>' if older else ""
        return (
            f'<feed xmlns="http://www.w3.org/2005/Atom"><title>E</title><id>e</id>{link}'
            f"<updated>2026-10-0{n}T08:00:00Z</updated><entry><id>e{n}</id><title>Feed {n}</title>"
            f'<link href="https://e.de/{n}"/><updated>2026-10-0{n}T08:00:00Z</updated></entry>'
            "</feed>"
        ).encode()

    older = server.serve("/feed-1.xml", atom(1), "application/atom+xml")
    source = server.serve("/feed.xml", atom(2, older), "application/atom+xml")
    done = imported(engine, newsroom, source)
    assert (done.stored, done.documents) == (2, 2)


def test_an_imported_archive_article_resurfaces_by_its_publication_date(
    engine: Engine, newsroom: Settings, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    published = (now - timedelta(days=60)).isoformat()
    (tmp_path / "news.xml").write_bytes(news_sitemap(1, published=published))
    imported(engine, newsroom, tmp_path / "news.xml")
    rule = Resurface(name="evergreen", channels=("fb",))
    (turn,) = resurface(engine, newsroom.model_copy(update={"resurface": (rule,)}), now)
    assert turn.channel == "fb"


def test_a_gzipped_sitemap_larger_than_a_sitemap_may_be_is_refused() -> None:
    bomb = gzip.compress(b" " * (MOST_UNPACKED + 1))
    with pytest.raises(ArticleError, match="unpacked, more than 50 MB"):
        read_listing(bomb, "bomb.xml.gz", default_tz=BERLIN)


def test_a_sitemaps_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("geheim")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file://{secret}">]>'
        f"<urlset {NEWS}><url><loc>https://e.de/1</loc><news:news>"
        "<news:title>&x;</news:title></news:news></url></urlset>"
    ).encode()
    listing = read_listing(body, "s.xml", default_tz=BERLIN)
    assert all("geheim" not in (item.headline or "") for item in listing.items)


@settings(max_examples=200)
@given(st.binary(max_size=2000))
def test_any_document_is_a_listing_or_one_clear_refusal(body: bytes) -> None:
    try:
        read_listing(body, "x", default_tz=BERLIN)
    except ArticleError as exc:
        assert str(exc).startswith("x")


def test_the_command_says_what_it_stored(tmp_path: Path) -> None:
    (tmp_path / "news.xml").write_bytes(news_sitemap(1, 2))
    answer = run_cli("articles", "import", "news.xml", cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "stored 2 articles from 1 documents (0 already stored)"


def test_the_command_refuses_an_unreadable_source_in_one_line(tmp_path: Path) -> None:
    answer = run_cli("articles", "import", "fehlt.xml", cwd=tmp_path)
    assert answer.returncode == 2
    assert answer.stderr.strip().splitlines() == ["publisher: fehlt.xml: no such file"]
