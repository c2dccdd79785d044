"""Withdrawing and correcting an article at the desk, in German: only an approver is offered
either, a first press asks and lists what becomes of each post (taken down, cancelled, edited,
answered under, left standing and why) while changing nothing, the answer does it, and the
post's page then says what was done."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from publisher import roster
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.releases.release import stored_article
from publisher.engine.storage.schema import amendments
from tests.desk_helpers import signed_in, state

ARTICLE = Article(id="cms-w", url="https://e.de/w/1", headline="Falsche Zahlen", bullets=["A"])


@pytest.fixture
def german(german_newsroom: Settings) -> Settings:
    return german_newsroom


@pytest.fixture
def desk(german_desk: TestClient) -> TestClient:
    return german_desk


@pytest.fixture
def posted(engine: Engine, german: Settings) -> Iterator[dict[str, int]]:
    """The article out on X and WhatsApp, and planned on Facebook for tomorrow."""
    ids = {}
    for name, when in (("x_main", When()), ("wa", When()), ("facebook", None)):
        at = When("at", utcnow() + timedelta(days=1)) if when is None else when
        (ids[name],) = queue.add(
            engine, german, ARTICLE, roster.chosen(german, [name]), at, queued_by="anna"
        )
    dispatcher = Dispatcher(engine, german)
    dispatcher.run_once()
    yield ids
    dispatcher.close()


def shown(page: str) -> str:
    return html.unescape(page)


def ask(session: TestClient, csrf: str, number: int, **form: str):
    return session.post(f"/articles/{number}/withdraw", data={"csrf": csrf, **form})


def correct(session: TestClient, csrf: str, **form: str):
    return session.post("/articles/1/correct", data={"csrf": csrf, **form})


def test_the_first_press_lists_what_becomes_of_each_post_and_changes_nothing(
    desk, engine, posted
) -> None:
    session, csrf = signed_in(desk, "anna")
    page = shown(ask(session, csrf, 1, said="Zahlen falsch").text)
    assert f"X Hauptkonto: Post {posted['x_main']} wird auf der Plattform gelöscht." in page
    assert f"WhatsApp: Post {posted['wa']} bleibt: Die Plattform lässt keine" in page
    assert f"Facebook: Post {posted['facebook']} ist noch nicht gesendet und wird" in page
    assert "Ja, zurückziehen" in page and not stored_article(engine, ARTICLE.id).withdrawn


def test_the_answer_withdraws_and_the_post_page_says_it_was_taken_down(
    desk, engine, german, posted
) -> None:
    session, csrf = signed_in(desk, "anna")
    answer = ask(session, csrf, 1, said="Zahlen falsch", confirm="yes")
    assert answer.url.path == "/articles/1" and "Zurückgezogen von anna" in shown(answer.text)
    assert state(engine, posted["facebook"]) == "cancelled"
    Dispatcher(engine, german).run_once()
    page = shown(session.get(f"/posts/{posted['x_main']}").text)
    assert "Auf der Plattform gelöscht am" in page and "veranlasst von anna" in page
    assert state(engine, posted["x_main"]) == "taken_down"


def test_keeping_the_posts_out_leaves_them_standing(desk, engine, german, posted) -> None:
    session, csrf = signed_in(desk, "anna")
    page = shown(ask(session, csrf, 1, keep_sent="1").text)
    assert f"X Hauptkonto: Post {posted['x_main']} bleibt stehen, wie gewählt." in page
    ask(session, csrf, 1, keep_sent="1", confirm="yes")
    Dispatcher(engine, german).run_once()
    assert state(engine, posted["x_main"]) == "sent"


def test_an_editor_who_is_no_approver_is_neither_offered_nor_allowed_it(
    desk, engine, posted
) -> None:
    session, csrf = signed_in(desk, "ed")
    assert "Artikel zurückziehen" not in shown(session.get("/articles/1").text)
    assert ask(session, csrf, 1, confirm="yes").status_code == 403
    assert not stored_article(engine, ARTICLE.id).withdrawn


def test_an_approver_is_offered_it_on_the_article_page(desk, posted) -> None:
    session, _ = signed_in(desk, "anna")
    assert "Artikel zurückziehen …" in shown(session.get("/articles/1").text)


def test_correcting_asks_first_with_what_becomes_of_each_post(desk, engine, posted) -> None:
    session, csrf = signed_in(desk, "anna")
    page = shown(correct(session, csrf, said="Die Zahl war 12.").text)
    assert "X Hauptkonto: Post" in page and "bekommt die Korrektur als Antwort darunter" in page
    assert f"Facebook: Post {posted['facebook']} ist noch nicht gesendet und wartet" in page
    assert "Die Korrektur: „Die Zahl war 12.“" in page
    assert state(engine, posted["facebook"]) == "queued"


def test_the_answer_corrects_and_the_reply_goes_out(desk, engine, german, posted) -> None:
    session, csrf = signed_in(desk, "anna")
    answer = correct(session, csrf, said="Die Zahl war 12.", confirm="yes")
    assert answer.url.path == "/articles/1"
    assert state(engine, posted["facebook"]) == "awaiting_approval"
    Dispatcher(engine, german).run_once()
    page = shown(session.get(f"/posts/{posted['x_main']}").text)
    assert "die Korrektur ging darunter hinaus" in page


def test_a_correction_without_a_note_is_refused_in_german(desk, engine, posted) -> None:
    session, csrf = signed_in(desk, "anna")
    answer = correct(session, csrf, said="  ")
    assert answer.status_code == 422 and "Was war falsch" not in shown(answer.text)
    assert "Eine Korrektur sagt, was falsch war" in shown(answer.text)


def test_an_editor_who_is_no_approver_cannot_correct(desk, engine, posted) -> None:
    session, csrf = signed_in(desk, "ed")
    assert correct(session, csrf, said="Falsch", confirm="yes").status_code == 403
    assert state(engine, posted["facebook"]) == "queued"


def test_a_post_held_by_a_correction_says_why_in_german(desk, engine, posted) -> None:
    session, csrf = signed_in(desk, "anna")
    correct(session, csrf, said="Die Zahl war 12.", confirm="yes")
    page = shown(session.get(f"/posts/{posted['facebook']}").text)
    assert "der Artikel wurde korrigiert; dieser Post wartet wieder auf eine Freigabe" in page


def test_the_log_names_a_takedown_in_german(desk, engine, german, posted) -> None:
    session, csrf = signed_in(desk, "anna")
    ask(session, csrf, 1, said="Zahlen falsch", confirm="yes")
    Dispatcher(engine, german).run_once()
    assert "Löschen: gelöscht" in shown(session.get("/log").text)


def test_a_refused_takedown_is_shown_and_tried_again_from_the_post_page(
    desk, engine, german, posted
) -> None:
    session, csrf = signed_in(desk, "anna")
    ask(session, csrf, 1, said="Zahlen falsch", confirm="yes")
    with engine.begin() as connection:
        connection.execute(
            update(amendments).values(state="failed", error="the platform refused it.")
        )
    page = shown(session.get(f"/posts/{posted['x_main']}").text)
    assert "Konnte nicht gelöscht werden: the platform refused it. Bitte von Hand" in page
    answer = session.post(f"/posts/{posted['x_main']}/amendment/retry", data={"csrf": csrf})
    assert answer.url.path == f"/posts/{posted['x_main']}"
    Dispatcher(engine, german).run_once()
    assert state(engine, posted["x_main"]) == "taken_down"
