"""A German newsroom's desk over HTTP: every time in the desk's own format (with its year when it
is not this year's), every count with German separators, channels by their labels, every
sentence in German and true to what happened."""

from __future__ import annotations

import html
from datetime import datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from publisher import roster
from publisher.articles import Article
from publisher.catalogue import moment
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.users import add_user
from publisher.engine.releases.release import release
from publisher.engine.releases.withdrawal import withdraw
from publisher.engine.storage.schema import articles, posts
from tests.desk_helpers import PASSWORD, serving, signed_in

ARTICLE = Article(
    id="cms-7", url="https://e.de/ratgeber/7", headline="Sieben Tipps", bullets=["Erstens"]
)


@pytest.fixture
def german(german_newsroom: Settings) -> Settings:
    return german_newsroom


@pytest.fixture
def desk(german_desk: TestClient) -> TestClient:
    return german_desk


def queued(
    engine: Engine,
    settings: Settings,
    at: datetime,
    *,
    approval: bool = False,
    channel: str = "x_main",
) -> int:
    (post_id,) = queue.add(
        engine,
        settings,
        ARTICLE,
        roster.chosen(settings, [channel]),
        When("at", at),
        force=True,
        queued_by="anna",
        approval=approval,
    )
    return post_id


def shown(page: str) -> str:
    return html.unescape(page)


def refusal(page: str) -> str:
    """What a page refuses, as the editor reads it."""
    return shown(page.split('class="error" role="alert">')[1].split("</p>")[0])


def test_a_post_next_year_shows_its_year(desk, engine, german) -> None:
    next_year = datetime.now(german.tz).year + 1
    at = datetime.combine(datetime(next_year, 1, 4).date(), time(10), german.tz)
    post_id = queued(engine, german, at)
    session, _ = signed_in(desk, "anna")
    page = shown(session.get(f"/posts/{post_id}").text)
    assert moment(at, german.tz, "de") in page and str(next_year) in moment(at, german.tz, "de")


def test_a_time_this_year_is_shown_without_its_year() -> None:
    tz = Settings(language="de").tz
    at = datetime.now(tz) + timedelta(minutes=5)
    assert str(at.year) not in moment(at, tz, "de")


def test_a_time_in_the_past_is_refused_in_the_desks_own_format(desk, engine, german) -> None:
    session, csrf = signed_in(desk, "anna")
    article = session.post(
        "/intake",
        data={"csrf": csrf},
        files={"file": ("a.json", b'{"url": "https://e.de/b", "headline": "Hallo"}')},
    )
    form = {"csrf": csrf, "include_x_main": "1", "timing": "at", "at": "2020-01-01T10:00"}
    answer = refusal(session.post(f"{article.url}/queue", data=form).text)
    past = moment(datetime(2020, 1, 1, 10, tzinfo=german.tz), german.tz, "de")
    assert answer == f"Nicht eingeplant: {past} liegt in der Vergangenheit."


def test_a_shift_into_the_past_is_refused_in_the_desks_own_format(desk, engine, german) -> None:
    post_id = queued(engine, german, utcnow() + timedelta(hours=1))
    session, csrf = signed_in(desk, "anna")
    form = {"csrf": csrf, "action": "shift", "post": [post_id], "hours": "-3"}
    answer = shown(session.post("/queue/bulk", data=form).text)
    said = answer.split('<ul class="left-alone">')[1].split("</ul>")[0]
    assert "liegt in der Vergangenheit" in said and "+00:00" not in said


def test_a_refused_text_names_its_channel_by_label_with_german_numbers(desk, german) -> None:
    session, csrf = signed_in(desk, "anna")
    article = session.post(
        "/intake",
        data={"csrf": csrf},
        files={"file": ("a.json", b'{"url": "https://e.de/c", "headline": "Hallo"}')},
    )
    form = {
        "csrf": csrf,
        "include_facebook": "1",
        "text_facebook": "a" * 70_000 + " https://e.de/c",
        "timing": "now",
    }
    answer = shown(session.post(f"{article.url}/queue", data=form).text)
    assert "Nicht eingeplant: Facebook: 70.015 Zeichen" in answer and "63.206" in answer


def test_an_unknown_article_is_said_in_german(desk) -> None:
    session, _ = signed_in(desk, "anna")
    answer = session.get("/articles/999999")
    assert answer.status_code == 404
    assert "Es gibt keinen gespeicherten Artikel" in shown(answer.text)


def test_saving_a_post_never_approved_does_not_say_it_was_approved(desk, engine, german) -> None:
    post_id = queued(engine, german, utcnow() + timedelta(hours=2), approval=True)
    session, csrf = signed_in(desk, "anna")
    form = {"csrf": csrf, "text": "Neuer Text https://e.de/ratgeber/7"}
    answer = shown(session.post(f"/posts/{post_id}/edit", data=form).text)
    assert "Text gespeichert" in answer and "war freigegeben" not in answer


def test_an_approved_post_saved_again_says_it_waits_for_approval_again(desk, engine, german):
    post_id = queued(engine, german, utcnow() + timedelta(hours=2), approval=True)
    verbs.approve(engine, post_id, "anna", seen=verbs.text_version(_text(engine, post_id)))
    session, csrf = signed_in(desk, "anna")
    form = {"csrf": csrf, "text": "Neuer Text https://e.de/ratgeber/7"}
    answer = shown(session.post(f"/posts/{post_id}/edit", data=form).text)
    assert "Er war freigegeben" in answer


def test_the_history_says_why_an_article_was_withdrawn(desk, engine, german) -> None:
    post_id = queued(engine, german, utcnow() + timedelta(hours=2))
    withdraw(engine, german, ARTICLE.id, "Rechtliche Prüfung", "anna")
    session, _ = signed_in(desk, "anna")
    page = shown(session.get(f"/posts/{post_id}").text)
    assert "zurückgezogen – anna: Rechtliche Prüfung" in page


def test_the_history_names_a_resurfacing_in_words(desk, engine, german) -> None:
    post_id = queued(engine, german, utcnow() + timedelta(hours=2))
    with engine.begin() as connection:
        from publisher.engine.storage.schema import post_events

        connection.execute(
            update(post_events)
            .where(post_events.c.post_id == post_id)
            .values(actor="resurface:ratgeber-archiv")
        )
    session, _ = signed_in(desk, "anna")
    page = shown(session.get(f"/posts/{post_id}").text)
    assert "resurface:" not in page and "ratgeber-archiv" in page


def test_a_whatsapp_posts_page_shows_the_template_readers_outside_the_window_get(
    desk, engine, german
) -> None:
    post_id = queued(engine, german, utcnow() + timedelta(hours=2), channel="wa")
    session, _ = signed_in(desk, "anna")
    page = shown(session.get(f"/posts/{post_id}").text)
    assert "Was Leser außerhalb des 24-Stunden-Fensters bekommen" in page
    assert "Neu bei News.de: <strong>Sieben Tipps</strong>" in page


def _text(engine: Engine, post_id: int) -> str:
    with engine.connect() as connection:
        return str(connection.execute(posts.select().where(posts.c.id == post_id)).one().text)


def test_an_approver_sees_what_changed_since_they_approved(desk, engine, german) -> None:
    post_id = queued(engine, german, utcnow() + timedelta(hours=2), approval=True)
    verbs.approve(engine, post_id, "anna", seen=verbs.text_version(_text(engine, post_id)))
    new = _text(engine, post_id).replace("Sieben Tipps", "Acht Tipps")
    verbs.edit(engine, german, post_id, new, by="ed")
    session, _ = signed_in(desk, "anna")
    page = shown(session.get(f"/posts/{post_id}").text)
    assert "Geändert seit der Freigabe durch anna" in page
    assert "<del>Sieben</del><ins>Acht</ins> Tipps" in page


def test_a_text_an_update_of_the_article_rewrote_stands_in_the_history(desk, engine, german):
    post_id = queued(engine, german, utcnow() + timedelta(hours=2))
    updated = ARTICLE.model_copy(update={"headline": "Acht Tipps (aktualisiert)"})
    release(engine, german.model_copy(update={"rules": ()}), updated, "webhook")
    session, _ = signed_in(desk, "anna")
    page = shown(session.get(f"/posts/{post_id}").text)
    assert "neu verfasst, da der Artikel aktualisiert wurde – CMS" in page


def test_an_edited_text_an_update_left_as_it_was_asks_to_be_checked(desk, engine, german):
    post_id = queued(engine, german, utcnow() + timedelta(hours=2))
    verbs.edit(
        engine, german, post_id, "Sieben Tipps, selbst getextet https://e.de/ratgeber/7", by="ed"
    )
    updated = ARTICLE.model_copy(update={"headline": "Acht Tipps (aktualisiert)"})
    release(engine, german.model_copy(update={"rules": ()}), updated, "webhook")
    session, _ = signed_in(desk, "anna")
    page = shown(session.get(f"/posts/{post_id}").text)
    assert "Artikel aktualisiert; dieser bearbeitete Text blieb, wie er war – CMS" in page
    assert "Schlagzeile jetzt: „Acht Tipps (aktualisiert)“" in page


def test_a_previews_account_is_the_one_the_channel_learned_it_posts_as(engine, german, monkeypatch):
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "anna", PASSWORD, "approver")
    learned = german.model_copy(
        update={"learned": {"x_main": {"account": "newsde", "account_name": "News.de"}}}
    )
    post_id = queued(engine, learned, utcnow() + timedelta(hours=2))
    with serving(engine, learned) as client:
        session, _ = signed_in(client, "anna")
        page = shown(session.get(f"/posts/{post_id}").text)
    assert '<b>News.de</b> <span class="pv-handle">@newsde</span>' in page


def test_queueing_a_withdrawn_article_is_refused_by_its_headline(desk, engine, german) -> None:
    queued(engine, german, utcnow() + timedelta(hours=2))
    withdraw(engine, german, ARTICLE.id, "Rechtliche Prüfung", "anna")
    session, csrf = signed_in(desk, "anna")
    with engine.connect() as connection:
        row = connection.execute(select(articles.c.id).where(articles.c.key == ARTICLE.id))
        article_id = row.scalar_one()
    form = {"csrf": csrf, "include_x_main": "1", "timing": "now"}
    answer = refusal(session.post(f"/articles/{article_id}/queue", data=form).text)
    assert "„Sieben Tipps“ wurde zurückgezogen" in answer and "https://" not in answer
