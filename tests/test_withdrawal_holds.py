"""A withdrawal holds until the CMS releases the article anew: pasted again at the desk, sent by a
feed or replayed to the webhook with a signature spelled otherwise, a withdrawn article is not
queued again; the desk shows it withdrawn (who, when, why) and offers no queueing, and the
widget no longer serves it (nor an editor's draft)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from publisher import actions, roster
from publisher.actions import Someone
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import ChannelSettings, DeskSettings, Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.users import add_user
from publisher.engine.releases.release import release, stored_article
from publisher.engine.storage.schema import posts
from publisher.web.signing import sign
from tests.desk_helpers import PASSWORD, serving, signed_in

SECRET = "whsec-withdrawal-test-93a1"
ADDRESS = "https://e.de/politik/rueckruf"
CMS = Article(id="cms-70", url=ADDRESS, headline="Minister tritt zurück", bullets=["Punkt"])
CHIEF = Someone("chefin", approver=True)


def newsroom(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        language="en",
        channels={"x_main": ChannelSettings(type="x", dry_run=True)},
        desk=DeskSettings(secure_cookies=False),
    )


def queued(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(posts).where(posts.c.state != "cancelled")
        ).scalar_one()


@pytest.fixture
def app(engine: Engine, database_url: str, monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", SECRET)
    add_user(engine, "ed", PASSWORD, "editor")
    with serving(engine, newsroom(database_url)) as client:
        yield client


def signed(article: Article, spelled: str = "") -> tuple[bytes, dict]:
    """The article as the CMS sends it, signed (`spelled`: with this after the signature)."""
    body = json.dumps(article.to_json()).encode()
    timestamp = int(time.time())
    headers = {
        "X-Publisher-Timestamp": str(timestamp),
        "X-Publisher-Signature": sign(SECRET, timestamp, body) + spelled,
        "Content-Type": "application/json",
    }
    return body, headers


def released(client: TestClient, article: Article, spelled: str = "") -> tuple[int, bytes, dict]:
    body, headers = signed(article, spelled)
    return client.post("/hooks/articles", content=body, headers=headers).status_code, body, headers


@pytest.mark.parametrize("trailing", ["\xa0", "\x85", "\x1c", " "])
def test_a_captured_release_replayed_after_a_withdrawal_does_not_bring_it_back(
    app, engine, trailing
) -> None:
    status, body, headers = released(app, CMS)
    assert status == 202 and queued(engine) == 1
    assert released(app, CMS.model_copy(update={"withdrawn": True}))[0] == 202
    headers["X-Publisher-Signature"] += trailing
    # As a client sends them on the wire: bytes, a no-break space as Latin-1.
    raw = {name: value.encode("latin-1") for name, value in headers.items()}
    replay = app.post("/hooks/articles", content=body, headers=raw)
    assert replay.status_code == 401 and queued(engine) == 0
    assert stored_article(engine, "cms-70").withdrawn


def test_a_withdrawn_article_pasted_again_at_the_desk_stays_withdrawn(app, engine) -> None:
    session, csrf = signed_in(app, "ed")
    body = b"# Minister tritt zurueck\n\nWorum es geht.\n"
    first = session.post(
        "/intake", data={"csrf": csrf, "url": ADDRESS}, files={"file": ("a.md", body)}
    )
    actions.withdraw_article(engine, newsroom("sqlite://"), ADDRESS, CHIEF, "falsch")
    again = session.post(
        "/intake", data={"csrf": csrf, "url": ADDRESS}, files={"file": ("a.md", body)}
    )
    assert again.url == first.url and stored_article(engine, ADDRESS).withdrawn
    form = {"csrf": csrf, "include_x_main": "1", "timing": "now"}
    refused = session.post(f"{again.url.path}/queue", data=form)
    assert refused.status_code == 422 and queued(engine) == 0


def test_the_desk_shows_a_withdrawn_article_with_who_when_and_why_and_no_queueing(
    app, engine
) -> None:
    release(engine, newsroom("sqlite://"), CMS, "webhook")
    actions.withdraw_article(engine, newsroom("sqlite://"), "cms-70", CHIEF, "Gegendarstellung")
    session, _ = signed_in(app, "ed")
    page = session.get("/articles/1").text
    assert "Withdrawn by chefin on" in page and "Reason: Gegendarstellung" in page
    assert "include_x_main" not in page and "Post again" not in page


def test_only_the_cms_lifts_a_withdrawal(engine, database_url) -> None:
    settings = newsroom(database_url)
    release(engine, settings, CMS, "webhook")
    actions.withdraw_article(engine, settings, "cms-70", CHIEF, "falsch")
    release(engine, settings, CMS.model_copy(update={"id": None}), "feed-news")
    with engine.begin() as connection:
        queue.upsert_article(connection, CMS, utcnow(), "editor")
    assert stored_article(engine, "cms-70").withdrawn and queued(engine) == 0
    release(engine, settings, CMS, "webhook")
    assert not stored_article(engine, "cms-70").withdrawn


def test_the_widget_forgets_a_withdrawn_article(app, engine) -> None:
    release(engine, newsroom("sqlite://"), CMS, "webhook")
    assert app.get("/widget/cms-70/meta").status_code == 200
    actions.withdraw_article(engine, newsroom("sqlite://"), "cms-70", CHIEF, "falsch")
    for path in ("/widget/cms-70/meta", "/widget/cms-70"):
        assert app.get(path).status_code == 404
    assert app.get("/widget/meta", params={"url": ADDRESS}).status_code == 404


def test_the_widget_does_not_serve_an_editors_draft(app, engine) -> None:
    draft = Article(url="https://e.de/entwurf", headline="Noch geheim", bullets=["x"])
    with engine.begin() as connection:
        queue.upsert_article(connection, draft, utcnow(), "editor")
    answer = app.get("/widget/meta", params={"url": draft.url})
    assert answer.status_code == 404 and "Noch geheim" not in answer.text


def test_the_webhook_answers_what_a_withdrawal_takes_down(app, engine, database_url) -> None:
    settings = newsroom(database_url)
    (post_id,) = queue.add(
        engine, settings, CMS, roster.chosen(settings, ["x_main"]), When(), queued_by="cms"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    body, headers = signed(CMS.model_copy(update={"withdrawn": True}))
    answer = app.post("/hooks/articles", content=body, headers=headers).json()
    assert answer["withdrawn"] == {
        "cancelled": [],
        "in_flight": [],
        "taking_down": [post_id],
        "kept": [],
        "cannot": [],
        "notices": [],
    }
