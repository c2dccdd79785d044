"""Where an article came from decides who may change it: what an editor brings (an upload, a
pasted page, a file on the command line) never replaces what the CMS or a feed sent, and no
update lifts an embargo by leaving the publication time out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from publisher import roster
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import ChannelSettings, Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.identity import Origin
from publisher.engine.posts.queue import UnknownArticle
from publisher.engine.releases.release import public_article, release, stored_article
from publisher.engine.storage.schema import posts

CMS = Article(id="cms-7", url="https://e.de/cms-7", headline="Die Fassung des CMS")
FORGED = Article(id="cms-7", url="https://attacker.example/", headline="Untergeschoben")


def newsroom(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, channels={"x": ChannelSettings(type="x", dry_run=True)}
    )


def texts(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(posts.c.text).order_by(posts.c.id)).scalars())


def test_an_editors_article_with_the_id_of_one_the_cms_sent_leaves_it_as_it_was(
    engine: Engine, database_url: str
) -> None:
    release(engine, newsroom(database_url), CMS, "webhook")
    with engine.begin() as connection:
        stored = queue.upsert_article(connection, FORGED, utcnow(), "editor")
    assert stored.kept and stored.article == CMS
    assert stored_article(engine, "cms-7") == CMS
    assert public_article(engine, "cms-7").url == "https://e.de/cms-7"


def test_queueing_an_editors_copy_of_a_cms_article_posts_the_cms_version(
    engine: Engine, database_url: str
) -> None:
    settings = newsroom(database_url)
    release(engine, settings, CMS, "webhook")
    queue.add(
        engine,
        settings,
        FORGED,
        roster.chosen(settings, ["x"]),
        When(),
        force=True,
        queued_by="test",
    )
    assert all("Die Fassung des CMS" in text for text in texts(engine))
    assert not any("attacker" in text for text in texts(engine))


def test_an_article_an_editor_brought_is_updated_by_the_cms(
    engine: Engine, database_url: str
) -> None:
    with engine.begin() as connection:
        queue.upsert_article(connection, FORGED, utcnow(), "editor")
    release(engine, newsroom(database_url), CMS, "webhook")
    assert stored_article(engine, "cms-7") == CMS


def test_an_editor_may_update_an_article_an_editor_brought(engine: Engine) -> None:
    first = Article(url="https://e.de/eigen", headline="Erste")
    with engine.begin() as connection:
        queue.upsert_article(connection, first, utcnow(), "editor")
        second = queue.upsert_article(
            connection, first.model_copy(update={"headline": "Zweite"}), utcnow(), "editor"
        )
    assert not second.kept and stored_article(engine, "https://e.de/eigen").headline == "Zweite"


@pytest.mark.parametrize("origin", ["cms", "editor"])
def test_an_update_without_a_publication_time_keeps_an_embargo(
    engine: Engine, database_url: str, origin: Origin
) -> None:
    embargoed = CMS.model_copy(update={"published_at": utcnow() + timedelta(hours=2)})
    with engine.begin() as connection:
        queue.upsert_article(connection, embargoed, utcnow(), origin)
        queue.upsert_article(connection, CMS, utcnow(), origin)
    with pytest.raises(UnknownArticle):
        public_article(engine, "cms-7")
    assert stored_article(engine, "cms-7").published_at == embargoed.published_at


def test_a_cms_update_with_an_earlier_publication_time_lifts_the_embargo(
    engine: Engine, database_url: str
) -> None:
    settings = newsroom(database_url)
    release(
        engine,
        settings,
        CMS.model_copy(update={"published_at": utcnow() + timedelta(hours=2)}),
        "webhook",
    )
    release(engine, settings, CMS.model_copy(update={"published_at": utcnow()}), "webhook")
    assert public_article(engine, "cms-7").headline == CMS.headline


def test_a_release_update_without_its_time_keeps_its_posts_held_to_the_embargo(
    engine: Engine, database_url: str
) -> None:
    settings = newsroom(database_url)
    later = utcnow() + timedelta(hours=2)
    release(engine, settings, CMS.model_copy(update={"published_at": later}), "webhook")
    release(engine, settings, CMS.model_copy(update={"headline": "Neu"}), "webhook")
    with engine.connect() as connection:
        due = connection.execute(select(posts.c.due_at)).scalar_one()
    assert due >= later
