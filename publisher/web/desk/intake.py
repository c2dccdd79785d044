"""Taking in an article at the desk (a pasted URL, an uploaded file), the article's page with
each channel's teaser as its platform shows it, queueing it, and the live counts and previews
(`/api/measure`) and preview images the page asks for. Queue operations run in threads; a
refusal (a text over the limit, a time in the past, a post that already went out) is a message
on the page and changes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from publisher import actions
from publisher.articles import Article, ArticleError, check_http_url, pasted_address, whole_number
from publisher.catalogue import moment, number, problem, reach, unit
from publisher.channels import Channel
from publisher.clock import utcnow
from publisher.engine.audiences.subscribers import Reach
from publisher.engine.posts import desk_drafts, queue
from publisher.engine.posts.amendments import article_takedowns
from publisher.engine.posts.identity import recent_articles
from publisher.engine.posts.listings import list_posts
from publisher.engine.posts.queue import UnknownArticle
from publisher.engine.releases.release import stored_article
from publisher.engine.storage.rowids import is_row_id
from publisher.errors import EditorError
from publisher.intake.sources import article_from_document, document_text, load_article
from publisher.teasers import compose
from publisher.web.bodies import Measure
from publisher.web.desk.amendments import withdrawal_shown
from publisher.web.desk.auth import CheckedUpload, DeskUser, api_user, signed_in
from publisher.web.desk.base import Pages, RowId
from publisher.web.desk.images import PreviewImages, through_desk
from publisher.web.desk.turns import TAKE_TURN

# Pages fetched for intake at once; more wait their turn (each ends within [fetch] timeout).
FETCHES_AT_ONCE = 8
# The articles the intake page lists under its form, stored last.
RECENT = 20


@dataclass(frozen=True)
class Choices:
    """What an editor chose on an article's page, shown again as it was after a refusal:
    texts, the channels ticked (None: the default, all), the timing and its time."""

    texts: dict[str, str] = field(default_factory=dict)
    included: frozenset[str] | None = None
    # The next free slot unless an editor chooses otherwise: nothing goes out at once unasked.
    timing: str = "next_slot"
    at: str = ""
    without_link: frozenset[str] = frozenset()
    # Channels the article is already on that the editor asked to post it on again.
    again: frozenset[str] = frozenset()

    def fingerprint(self, times: Mapping[str, str] | None = None) -> str:
        """What an editor's confirmation is of: these channels, texts and timing, and the
        `times` each channel was shown. A form changed after it was confirmed, or a time that
        came out otherwise since, is asked about again."""
        chosen = sorted(self.included or ())
        content = [chosen, self.timing, self.at, sorted(self.without_link), sorted(self.again)]
        content += [[name, at] for name, at in sorted((times or {}).items())]
        content += [[n, self.texts.get(n, "")] for n in chosen]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]


# The timings an article's form offers.
TIMINGS = ("best", "next_slot", "now", "at")


def choices_from(form: Mapping[str, Any], channels: Mapping[str, Channel]) -> Choices:
    """What an article's form (or a draft of it) chose: the texts it holds, as the channels
    store them (a text it does not hold stays the composed one), the channels ticked, the
    timing and its time."""
    timing = str(form.get("timing") or "next_slot")
    return Choices(
        texts={
            n: c.from_editable(typed(form, f"text_{n}"))
            for n, c in channels.items()
            if f"text_{n}" in form
        },
        included=frozenset(n for n in channels if form.get(f"include_{n}")),
        timing=timing if timing in TIMINGS else "next_slot",
        at=str(form.get("at") or "").strip(),
        without_link=frozenset(n for n in channels if form.get(f"without_link_{n}")),
        again=frozenset(n for n in channels if form.get(f"again_{n}")),
    )


def _markup(html: str | None) -> Markup | None:
    """A channel's preview HTML (escaped by the channel) for a template, or nothing."""
    return Markup(html) if html is not None else None


def typed(form: Any, field: str) -> str:
    """What an editor typed in a form's text field, with the browser's line ends made `\n`."""
    return str(form.get(field) or "").replace("\r\n", "\n")


class Intake:
    """The intake page, the article page and the calls they make."""

    def __init__(self, desk: Pages) -> None:
        self.engine = desk.engine
        self.settings = desk.settings
        self.language = desk.language
        self.t = desk.t
        self.render = desk.render
        self.reason = desk.reason
        self.channels = desk.channels
        self.every_channel = desk.every_channel
        self.fetches = anyio.CapacityLimiter(FETCHES_AT_ONCE)
        self.images = PreviewImages(desk.settings)
        self.router = APIRouter(dependencies=[Depends(signed_in)])
        route = self.router.add_api_route
        route(
            "/", self.front, methods=["GET"], response_class=HTMLResponse, dependencies=[TAKE_TURN]
        )
        route("/articles/{article_id}", self.article, methods=["GET"], dependencies=[TAKE_TURN])
        route(
            "/api/measure",
            self.measure,
            methods=["POST"],
            dependencies=[Depends(api_user), TAKE_TURN],
        )
        # Fetching a page or an image waits for the intake's own threads, never for a turn: a
        # slow site would hold up every editor's pages.
        route("/intake", self.intake, methods=["POST"])
        route("/articles/{article_id}/image", self.article_image, methods=["GET"])

    def _existing(self, post: Mapping[str, Any], takedowns: Mapping[int, str]) -> dict[str, Any]:
        """One of the article's posts as its page lists it, with the channels of its platform
        it could be duplicated to and where its takedown stands (if its article was withdrawn
        after it went out)."""
        when = datetime.fromisoformat(post["sent_at"] or post["due_at"])
        same = [
            name
            for name, channel in self.channels.items()
            if channel.type == post["type"] and name != post["channel"]
        ]
        return {
            **post,
            "when": moment(when, self.settings.channel_tz(post["channel"]), self.language),
            "duplicate_to": same,
            "takedown": takedowns.get(post["id"]),
        }

    def _reach(self, whom: Reach | None) -> str | None:
        """Whom a subscribable channel's post reaches, as the desk says it."""
        return reach(whom.free_form, whom.template, self.language) if whom else None

    def front(self, request: Request) -> Response:
        """The intake page, as an address shows it (what it says after a refusal is never
        taken from the address)."""
        return self.intake_page(request)

    def intake_page(
        self, request: Request, error: str | None = None, status: int = 200
    ) -> Response:
        recent = recent_articles(self.engine, RECENT)
        return self.render(request, "intake.html.j2", {"recent": recent, "error": error}, status)

    async def intake(self, request: Request, form: CheckedUpload) -> Response:
        # Asynchronous, unlike the desk's other routes: a page fetched waits for one of the
        # intake's own few threads (`fetches`), never the threads every other page needs.
        url = str(form.get("url") or "").strip()
        upload = form.get("file")
        try:
            if isinstance(upload, UploadFile) and upload.filename:
                limit = self.settings.fetch.max_bytes
                raw = await upload.read(limit + 1)
                if len(raw) > limit:
                    message = self.t(
                        "upload_too_large", name=upload.filename, limit=number(limit, self.language)
                    )
                    return await run_in_threadpool(self.intake_page, request, message, 413)
                name = upload.filename
                # Decoded and parsed in a thread: nothing an editor uploads runs on the loop.
                article = await run_in_threadpool(
                    lambda: article_from_document(
                        document_text(raw, name),
                        source=name or "upload",
                        settings=self.settings,
                        url=url or None,
                    )
                )
            elif url:
                # Only an address on the web: `load_article` also reads files and standard
                # input, which are the server's, never an editor's.
                address = check_http_url(pasted_address(url))
                # Fetches wait for their own few threads: slow sites must not take the threads
                # every other page needs.
                article = await anyio.to_thread.run_sync(
                    load_article, address, self.settings, limiter=self.fetches
                )
            else:
                raise ArticleError("paste a URL or choose a file", key="paste_or_file")
            stored = await run_in_threadpool(self._store, article)
        except EditorError as exc:
            return await run_in_threadpool(self.intake_page, request, self.reason(exc))
        kept = ""
        if stored.conflict:
            kept = "?kept=other"
        elif stored.kept and stored.article != article:
            kept = "?kept=1"
        return RedirectResponse(f"/articles/{stored.id}{kept}", status_code=303)

    def _store(self, article: Article) -> queue.Stored:
        with self.engine.begin() as connection:
            return queue.upsert_article(connection, article, utcnow(), "editor")

    def _channels(self, names: list[str] | None = None) -> dict[str, Channel]:
        return {n: c for n, c in self.channels.items() if names is None or n in names}

    def article(
        self,
        request: Request,
        article_id: RowId,
        kept: str | None = None,
        again: str | None = None,
        to: str | None = None,
        text_of: int | None = None,
        *,
        user: DeskUser,
    ) -> Response:
        """An article's page; `kept` says an upload found the CMS's version stored ("1"), or
        another article under the address given ("other"), and that the stored one is shown.
        Deliberate repeats come here: `again` (post it on a channel it is already on) or `to` a
        channel with the text of post `text_of` (a duplicate)."""
        message = {"1": self.t("article_kept"), "other": self.t("article_other")}.get(kept or "")
        chosen = None
        draft = None
        if again in self.channels:
            chosen = Choices(included=frozenset({again}), again=frozenset({again}))
        elif to in self.channels:
            # A duplicate: posted again deliberately, on the post's own channel too.
            texts = self._text_of(article_id, text_of)
            chosen = Choices(
                included=frozenset({to}),
                texts={to: texts} if texts else {},
                again=frozenset({to}),
            )
        else:
            # What the editor left here (in this tab or another, before a session ended).
            draft = desk_drafts.kept(self.engine, user.name, article_id)
            if draft is not None:
                chosen = choices_from(draft.fields, self.channels)
        return self.article_page(
            request, article_id, chosen, message=message, draft=draft is not None
        )

    def _text_of(self, article_id: int, post_id: int | None) -> str | None:
        """The text of a post of this article (for a duplicate), if it is one."""
        if post_id is None or not is_row_id(post_id):
            return None
        found = list_posts(
            self.engine, self.settings, include_done=True, article_id=article_id, post_ids=[post_id]
        )
        return found[0]["text"] if found else None

    def article_page(
        self,
        request: Request,
        article_id: int,
        chosen: Choices | None = None,
        problems: dict[str, list[str]] | None = None,
        message: str | None = None,
        status: int = 200,
        confirm_link: frozenset[str] = frozenset(),
        confirm: dict[str, Any] | None = None,
        draft: bool = False,
    ) -> Response:
        """The article's page: each channel's teaser to edit and tick, and when to post; after
        a refusal with what the editor chose, and when asked to confirm (`confirm`), what would
        go where and when."""
        try:
            article = stored_article(self.engine, str(article_id))
        except UnknownArticle as exc:
            return self.render(request, "message.html.j2", {"message": self.reason(exc)}, 404)
        existing = list_posts(self.engine, self.settings, include_done=True, article_id=article_id)
        # A channel the article is already on is left unticked: posting again is deliberate.
        there = {p["channel"]: p for p in existing if p["state"] != "cancelled"}
        if chosen is None:
            included = frozenset(self.channels) - set(there)
            # Where every channel's history is long enough to learn from, its best time is
            # the default; otherwise the next free slot.
            learned = included and not actions.short_histories(
                self.engine, self.settings, sorted(included)
            )
            chosen = Choices(included=included, timing="best" if learned else "next_slot")
        channels = self._channels()
        teasers = compose(article, channels, self.settings)
        whom = actions.reach(self.engine, self.settings, list(teasers))
        cards = []
        for name, teaser in teasers.items():
            text = chosen.texts.get(name, teaser.text)
            channel = channels[name]
            cards.append(
                {
                    "name": name,
                    "platform": channel.display_name,
                    # As the editor types it (Telegram: **bold** and [text](url), not HTML).
                    "text": channel.editable(text),
                    # Channels escape what they put in a preview (tests/test_previews.py).
                    "preview": Markup(channel.preview(text, through_desk(article, article_id))),
                    "template": _markup(channel.template_preview(text, article)),
                    "length": channel.measure(text),
                    "limit": channel.limit_for(article),
                    "unit": unit(channel.unit, self.language, channel.display_name),
                    "problems": (problems or {}).get(name, []),
                    "confirm_link": name in confirm_link,
                    "included": chosen.included is None or name in chosen.included,
                    "without_link": name in chosen.without_link,
                    "reach": self._reach(whom.get(name)),
                    "there": there.get(name),
                    "again": name in chosen.again,
                }
            )
        withdrawal = withdrawal_shown(self.engine, self.settings, self.language, article_id)
        taken = article_takedowns(self.engine, article_id) if withdrawal else {}
        context = {
            "article": article,
            "article_id": article_id,
            "withdrawal": withdrawal,
            "cards": cards,
            "timing": chosen.timing,
            "horizon": number(self.settings.timing.horizon, self.language),
            "at": chosen.at,
            "confirm": confirm,
            "existing": [self._existing(post, taken) for post in existing],
            # Restored from what the editor left: said, with a way to start afresh.
            "draft": draft,
        }
        return self.render(request, "article.html.j2", context | {"message": message}, status)

    def measure(self, body: Measure) -> Response:
        """Length, limit and problems of a text by the channel's own rules (for live counters)."""
        if body.channel not in self.settings.channels:
            return JSONResponse({"error": f"unknown channel {body.channel!r}"}, status_code=400)
        channel = self.every_channel[body.channel]
        article = None
        if body.article_id is not None:
            try:
                article = stored_article(self.engine, str(body.article_id))
            except UnknownArticle:
                article = None
        text = channel.from_editable(body.text.replace("\r\n", "\n"))
        limit = channel.limit_for(article)
        length = channel.measure(text)
        answer: dict[str, Any] = {
            "length": length,
            "limit": limit,
            # As the desk writes numbers in the editor's language ("63.206").
            "length_shown": number(length, self.language),
            "limit_shown": number(limit, self.language),
            "unit": unit(channel.unit, self.language, channel.display_name),
            "problems": [problem(p, self.language) for p in channel.validate(text, article)],
        }
        if article is not None:
            # Safe HTML: channels escape what they put in a preview (tests/test_previews.py).
            row = whole_number(str(body.article_id))
            if row is not None and is_row_id(row):
                article = through_desk(article, row)
            answer["preview"] = channel.preview(text, article)
        return JSONResponse(answer)

    async def article_image(self, article_id: RowId) -> Response:
        """The article's image for the desk's previews, loaded by the desk (see `images`);
        asynchronous, as the image is fetched in one of the intake's own threads."""
        try:
            article = await run_in_threadpool(stored_article, self.engine, str(article_id))
        except UnknownArticle:
            article = None
        image = None
        if article is not None and article.image is not None:
            image = await anyio.to_thread.run_sync(
                self.images.get, str(article.image.url), limiter=self.fetches
            )
        if image is None:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        return Response(
            image.body,
            media_type=image.media_type,
            headers={
                "Cache-Control": "private, max-age=3600",
                "Content-Security-Policy": "default-src 'none'",
            },
        )
