"""Adding a platform is adding its module: a channel module nobody else knows about is composed,
delivered by the engine, offered in the share bar and previewed by the desk."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import Engine

import publisher.channels
from publisher import roster
from publisher.articles import Article
from publisher.channels import forget_registry, platform_types
from publisher.clock import utcnow
from publisher.config import ChannelSettings, DeskSettings, Settings, WidgetSettings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.teasers import compose
from publisher.web.widget import render_widget
from tests.engine_helpers import post

PIGEON = '''
"""Carrier pigeon: a platform made up for this test."""

from urllib.parse import quote

from publisher.channels.base import Channel, Outgoing, Receipt

SENT: list[str] = []


class Pigeon(Channel):
    type = "pigeon"
    display_name = "Brieftaube"
    order = 50
    icon = "M2 12h20"
    preview_css = ".pv-pigeon{border:2px dashed #777}"
    limit = 120
    unit = "characters"

    def measure(self, text):
        return len(text)

    def share_url(self, headline, teaser):
        return "https://pigeon.example/share?text=" + quote(teaser.text)

    def preview(self, text, article):
        return f'<div class="pv-pigeon">{self.preview_html(text)}</div>'

    def send(self, message: Outgoing) -> Receipt:
        SENT.append(message.text)
        return Receipt(remote_id=f"pigeon-{len(SENT)}")
'''
ARTICLE = Article(
    id="cms-1", url="https://www.news.de/a/1", headline="Schlagzeile", bullets=["Erster Punkt"]
)


@pytest.fixture
def pigeon(tmp_path: Path) -> Iterator[object]:
    (tmp_path / "pigeon.py").write_text(textwrap.dedent(PIGEON))
    publisher.channels.__path__.append(str(tmp_path))
    forget_registry()
    try:
        yield importlib.import_module("publisher.channels.pigeon")
    finally:
        publisher.channels.__path__.remove(str(tmp_path))
        sys.modules.pop("publisher.channels.pigeon", None)
        forget_registry()


def newsroom(database_url: str = "sqlite://") -> Settings:
    return Settings(
        database_url=database_url,
        language="en",
        channels={"tauben": ChannelSettings(type="pigeon")},
        widget=WidgetSettings(platforms=("pigeon", "x"), follow={"pigeon": "https://p.example"}),
        desk=DeskSettings(secure_cookies=False),
    )


def test_a_new_platform_is_composed_by_default(pigeon) -> None:
    assert "pigeon" in platform_types()
    teaser = compose(ARTICLE, roster.resolve(Settings(), None), Settings())["pigeon"]
    assert teaser.text.startswith("Schlagzeile") and teaser.limit == 120


def test_a_new_platform_is_delivered_by_the_engine(
    pigeon, engine: Engine, database_url: str
) -> None:
    settings = newsroom(database_url)
    (post_id,) = queue.add(
        engine, settings, ARTICLE, roster.chosen(settings, ["tauben"]), When(), queued_by="test"
    )
    Dispatcher(engine, settings).run_once()
    assert post(engine, post_id).state == "sent"
    assert [post(engine, post_id).text] == pigeon.SENT


def test_a_new_platform_is_offered_in_the_share_bar_and_the_follow_box(pigeon) -> None:
    widget = lxml.html.fragment_fromstring(render_widget(ARTICLE, newsroom()), create_parent="div")
    (button,) = widget.cssselect("a.pub-pigeon")
    assert button.get("href").startswith("https://pigeon.example/share?text=Schlagzeile")
    assert "Share on Brieftaube" in button.text_content()
    assert button.cssselect("path")[0].get("d") == "M2 12h20"
    assert widget.cssselect("a.pub-follow-pigeon")[0].text == "Brieftaube"


def test_a_new_platform_is_previewed_by_the_desk(pigeon, engine: Engine, monkeypatch) -> None:
    from publisher.engine.posts.users import add_user
    from tests.desk_helpers import serving, signed_in

    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", "correct horse battery", "editor")
    with engine.begin() as connection:
        article_id = queue.upsert_article(connection, ARTICLE, utcnow(), "cms").id
    with serving(engine, newsroom()) as desk:
        session, _ = signed_in(desk, "ed")
        page = lxml.html.fromstring(session.get(f"/articles/{article_id}").text)
        styles = session.get("/channels.css").text
    (card,) = page.cssselect("section.card[data-channel=tauben]")
    assert card.cssselect(".pv-pigeon")[0].text_content().startswith("Schlagzeile")
    assert ".pv-pigeon{border:2px dashed #777}" in styles
