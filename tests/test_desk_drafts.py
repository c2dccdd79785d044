"""Work at the desk is never lost: what an editor types on an article's page is kept as a draft
(per editor and article, shared by their tabs), a form sent after their session ended leads
back to its page after signing in, and the draft goes once the article is queued."""

from __future__ import annotations

import html
import re

from sqlalchemy import Engine, select

from publisher.engine.posts import desk_drafts
from publisher.engine.storage.schema import posts
from tests.desk_helpers import PASSWORD, fresh, signed_in, token

ARTICLE = b'{"id": "cms-d1", "url": "https://e.de/d/1", "headline": "Hallo Welt"}'
TYPED = "Eigener Text fuer X https://e.de/d/1"


def taken_in(desk, session, csrf) -> str:
    """The article's page address after an editor took it in."""
    answer = session.post(
        "/intake", data={"csrf": csrf}, files={"file": ("a.json", ARTICLE, "application/json")}
    )
    return answer.url.path


def keep(session, csrf, page: str, fields: dict[str, str]):
    return session.post(
        f"/api{page}/draft", json={"fields": fields}, headers={"X-CSRF-Token": csrf}
    )


def text_shown(page: str, channel: str) -> str:
    found = re.search(rf'<textarea id="text-{channel}"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(found.group(1))


def test_a_draft_kept_in_one_tab_is_on_the_article_page_in_another(desk) -> None:
    first, csrf = signed_in(desk, "ed")
    page = taken_in(desk, first, csrf)
    assert keep(first, csrf, page, {"text_x": TYPED, "include_x": "1"}).json() == {"kept": True}
    second, _ = signed_in(desk, "ed")
    shown = second.get(page).text
    assert text_shown(shown, "x") == TYPED and "Your draft is back" in shown


def test_another_editors_page_shows_none_of_someones_draft(desk) -> None:
    ed, csrf = signed_in(desk, "ed")
    page = taken_in(desk, ed, csrf)
    keep(ed, csrf, page, {"text_x": TYPED, "include_x": "1"})
    anna, _ = signed_in(desk, "anna")
    assert text_shown(anna.get(page).text, "x") != TYPED


def test_a_text_left_as_composed_is_not_kept_so_an_update_of_the_article_reaches_it(
    desk, engine: Engine
) -> None:
    ed, csrf = signed_in(desk, "ed")
    page = taken_in(desk, ed, csrf)
    composed = text_shown(ed.get(page).text, "x")
    keep(ed, csrf, page, {"text_x": composed, "include_x": "1", "text_telegram": TYPED})
    kept = desk_drafts.kept(engine, "ed", int(page.rsplit("/", 1)[1]))
    assert kept is not None and kept.fields == {"include_x": "1", "text_telegram": TYPED}


def test_queueing_the_article_lets_its_draft_go(desk, engine: Engine) -> None:
    ed, csrf = signed_in(desk, "ed")
    page = taken_in(desk, ed, csrf)
    keep(ed, csrf, page, {"text_x": TYPED, "include_x": "1"})
    form = {"csrf": csrf, "include_x": "1", "text_x": TYPED, "timing": "now"}
    queued = ed.post(f"{page}/queue", data=form)
    assert queued.status_code == 200, queued.text
    with engine.connect() as connection:
        assert connection.execute(select(posts.c.text)).scalars().all() != []
    assert "Your draft is back" not in ed.get(page).text


def test_discarding_the_draft_starts_the_page_afresh(desk) -> None:
    ed, csrf = signed_in(desk, "ed")
    page = taken_in(desk, ed, csrf)
    keep(ed, csrf, page, {"text_x": TYPED, "include_x": "1"})
    afresh = ed.post(f"{page}/draft/discard", data={"csrf": csrf})
    assert afresh.url.path == page and text_shown(afresh.text, "x") != TYPED


def test_a_form_sent_after_the_session_ended_leads_back_to_its_page(desk) -> None:
    ed, csrf = signed_in(desk, "ed")
    page = taken_in(desk, ed, csrf)
    keep(ed, csrf, page, {"text_x": TYPED, "include_x": "1"})
    other_tab = fresh(desk)
    other_tab.cookies = ed.cookies
    other_tab.post("/signout", data={"csrf": csrf})
    sent = ed.post(
        f"{page}/queue",
        data={"csrf": csrf, "include_x": "1", "text_x": TYPED, "timing": "now"},
        headers={"Referer": f"http://testserver{page}"},
    )
    assert sent.url.path == "/signin" and "Your session has ended" in sent.text
    again = ed.post(
        "/signin", data={"name": "ed", "password": PASSWORD, "csrf": token(sent.text),
                         "next": re.search(r'name="next" value="([^"]+)"', sent.text).group(1)},
    )  # fmt: skip
    assert again.url.path == page and text_shown(again.text, "x") == TYPED


def test_an_address_elsewhere_is_never_where_signing_in_leads(desk) -> None:
    session = fresh(desk)
    page = session.get("/signin?next=//evil.example/x").text
    assert 'name="next" value="/"' in page
