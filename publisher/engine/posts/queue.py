"""The editorial queue: add an article's posts (now, at a time, in the next free slot, at the
best time, with the texts an editor wrote) in one transaction, all or nothing. When each goes
out is `publisher.engine.planning.planner`'s; the verbs on posts already queued are
`publisher.engine.posts.verbs`'."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, insert, select, update

from publisher.articles import Article, fold
from publisher.channels import Channel, Teaser
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.learning.clicks import keep_links
from publisher.engine.lifecycle import ALREADY_THERE, State, needs_approval
from publisher.engine.planning.besttime import learn_for
from publisher.engine.planning.planner import breaking_now, due_at, per_channel
from publisher.engine.planning.slots import When
from publisher.engine.posts import identity
from publisher.engine.posts.identity import Origin
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import articles, post_events, posts
from publisher.errors import EditorError
from publisher.teasers import compose


class QueueError(EditorError):
    """A queue command cannot be carried out; nothing was changed."""


class UnknownArticle(EditorError):
    """No stored article has this id."""


def not_withdrawn(article: Article) -> None:
    """Refuse to post an article that was withdrawn (a correction, a takedown)."""
    if article.withdrawn:
        raise QueueError(
            f"{article.url} was withdrawn: it is not posted again",
            key="article_withdrawn",
            url=article.url,
            headline=article.headline,
        )


class LinkMissing(QueueError):
    """An edited text no longer holds the article's link; an editor must confirm posting it."""


class TextsRefused(QueueError):
    """Texts an editor wrote for some channels cannot be posted: `problems` by channel (empty
    lists for the rest), `linkless` the channels whose text lost the article's link."""

    def __init__(self, problems: dict[str, list[str]], linkless: frozenset[str]) -> None:
        first = next(
            (f"{name}: {'; '.join(found)}" for name, found in problems.items() if found),
            f"{min(linkless, default='')}: the text no longer holds the article's link",
        )
        super().__init__(first)
        self.problems = problems
        self.linkless = linkless


def editor_texts(
    article: Article,
    channels: dict[str, Channel],
    teasers: dict[str, Teaser],
    texts: Mapping[str, str],
    without_link: frozenset[str] = frozenset(),
) -> dict[str, Teaser]:
    """The teasers with the texts an editor wrote in place of the composed ones, each checked
    by its channel's rules (TextsRefused says what is wrong where). Line ends as browsers send
    them (CRLF) are the same text."""
    problems: dict[str, list[str]] = {name: [] for name in teasers}
    linkless: set[str] = set()
    chosen = dict(teasers)
    for name, given in texts.items():
        if name not in teasers:
            continue
        text = given.replace("\r\n", "\n")
        if text == teasers[name].text:
            continue
        channel = channels[name]
        problems[name] = channel.validate(text, article)
        if drops_link(channel, text, teasers[name].link, article.url) and name not in without_link:
            linkless.add(name)
        chosen[name] = replace(teasers[name], text=text, length=channel.measure(text))
    if linkless or any(problems.values()):
        raise TextsRefused(problems, frozenset(linkless))
    return chosen


def record_event(
    connection: Connection,
    post_ids: Sequence[int],
    actor: str,
    action: str,
    now: datetime,
    detail: str | None = None,
    former: str | None = None,
) -> None:
    """Note who did what to these posts, in the caller's transaction; `former`: the state they
    were in, where an undo returns them to it (a cancel)."""
    if post_ids:
        connection.execute(
            insert(post_events),
            [
                {
                    "post_id": i,
                    "at": now,
                    "actor": actor,
                    "action": action,
                    "detail": detail,
                    "former_state": former,
                }
                for i in post_ids
            ],
        )


@dataclass(frozen=True)
class Stored:
    """An article in the store: its row id, the article as stored (the one given, or the one
    already there when the given one may not replace it: `kept`), and where the stored one
    came from (`origin`). `conflict`: an editor brought another article under its identity."""

    id: int
    article: Article
    kept: bool = False
    origin: str = "editor"
    conflict: bool = False
    # An update that changed what the stored article says (its posts' texts may be wrong now).
    changed: bool = False
    # The article as it was stored before this update (None: it is new, or was kept).
    before: Article | None = None


def upsert_article(
    connection: Connection, article: Article, now: datetime, origin: Origin
) -> Stored:
    """Store the article under its one identity (`publisher.engine.posts.identity`). What a lower
    source brings never replaces what a higher one sent (the stored article is kept), nor does
    an editor's other article under the same identity; an update never drops a publication
    time still ahead (an embargo), and only the CMS lifts a withdrawal. An update locks the
    row, so releases of one article are serialised."""
    row = identity.find(connection, article, lock=True)

    def in_use(article_id: int) -> bool:
        found = select(posts.c.id).where(
            posts.c.article_id == article_id, posts.c.state != State.CANCELLED
        )
        return connection.execute(found.limit(1)).first() is not None

    if row is not None:
        stored = Article.model_validate(row.data)
        was = identity.origin_of(row)
        if identity.outranks(was, origin):
            return Stored(row.id, stored, kept=True, origin=was)
        if origin == was == "editor" and identity.conflicts(stored, article, in_use(row.id)):
            return Stored(row.id, stored, kept=True, origin=was, conflict=True)
        article = keep_embargo(stored, article, now)
        if stored.withdrawn and origin != "cms":
            article = article.model_copy(update={"withdrawn": True})
    values: dict[str, object] = {
        "url": article.url,
        "headline": article.headline,
        "data": article.to_json(),
        "published_at": article.published_at,
        "updated_at": now,
        "origin": origin,
    }
    if article.withdrawn != (row is not None and stored.withdrawn):
        # The CMS withdrew it, or released it anew.
        values |= withdrawal_marks(article.withdrawn, origin, None, now)
    if row is not None:
        # The CMS's id becomes the identity of an article first brought by its address.
        key = article.id if article.id and origin == "cms" else row.key
        connection.execute(
            update(articles).where(articles.c.id == row.id).values(key=key, **values)
        )
        changed = stored.to_json() != article.to_json()
        return Stored(row.id, article, origin=origin, changed=changed, before=stored)
    key = article.id or article.url
    inserted = connection.execute(insert(articles).values(key=key, created_at=now, **values))
    return Stored(new_id(inserted), article, origin=origin)


def withdrawal_marks(
    withdrawn: bool, by: str, reason: str | None, now: datetime
) -> dict[str, object]:
    """An article row's record of its withdrawal (who, why, when), or of none."""
    if not withdrawn:
        return {"withdrawn_by": None, "withdrawn_reason": None, "withdrawn_at": None}
    return {"withdrawn_by": by, "withdrawn_reason": reason or None, "withdrawn_at": now}


def stored_id(connection: Connection, article: Article) -> int | None:
    """The row of an article as stored (by its identity); None when it is not."""
    row = identity.find(connection, article)
    return None if row is None else int(row.id)


def keep_embargo(stored: Article, given: Article, now: datetime) -> Article:
    """`given`, with the stored publication time when that is still ahead and `given` has
    none: an embargo is lifted by a new time, never by leaving the time out."""
    embargoed = stored.published_at is not None and stored.published_at > now
    if embargoed and given.published_at is None:
        return given.model_copy(update={"published_at": stored.published_at})
    return given


def new_id(result: CursorResult[Any]) -> int:
    """The row id an INSERT made."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT answers with the row's key"
    return int(key[0])


def add(
    engine: Engine,
    settings: Settings,
    article: Article,
    channels: dict[str, Channel],
    timing: When | Mapping[str, When],
    *,
    force: bool = False,
    queued_by: str,
    now: datetime | None = None,
    approval: bool | None = None,
    texts: Mapping[str, str] | None = None,
    without_link: frozenset[str] = frozenset(),
    origin: Origin = "editor",
) -> list[int]:
    """Queue one post per channel for `article` at `timing` (one for all, or one per channel),
    all or nothing: refuses (queues nothing) if any channel already has a post of this article
    that is not cancelled, unless `force`, or if a text an editor wrote in `texts` breaks its
    channel's rules (or drops the link, unless the channel is in `without_link`), or if the
    article was withdrawn. `approval` overrides the channels' own setting."""
    now = now or utcnow()
    timing = (
        breaking_now(timing, article)
        if isinstance(timing, When)
        else {name: breaking_now(one, article) for name, one in timing.items()}
    )
    composed = compose(article, channels, settings)
    teasers = editor_texts(article, channels, composed, texts or {}, without_link)
    learn_for(engine, settings, per_channel(timing, channels))
    with engine.begin() as connection:
        stored = upsert_article(connection, article, now, origin)
        article_id = stored.id
        not_withdrawn(stored.article)
        if stored.conflict:
            raise QueueError(
                f"another article is stored under {article.url}: "
                f"{stored.article.headline[:120]!r}; check the address",
                key="article_other",
                url=article.url,
                headline=stored.article.headline,
            )
        if stored.article != article:
            # The CMS's version stays, and is what goes out.
            composed = compose(stored.article, channels, settings)
            teasers = editor_texts(stored.article, channels, composed, texts or {}, without_link)
        edited = frozenset(n for n in teasers if teasers[n].text != composed[n].text)
        if not force:
            existing = posts_of(connection, article_id, list(channels))
            if existing:
                channel, (post_id, state) = next(iter(existing.items()))
                raise QueueError(
                    f"this article is already queued for {channel} as post {post_id} ({state})",
                    key="already_queued",
                    channel=channel,
                    post=post_id,
                    state=state,
                )
        ids = insert_posts(
            connection,
            settings,
            article_id,
            teasers,
            timing,
            now=now,
            queued_by=queued_by,
            approval=approval,
            edited=edited,
        )
    return ids


def posts_of(
    connection: Connection, article_id: int, channels: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """The article's posts on these channels that keep it from being queued there again (all
    but cancelled ones): channel -> (post id, state), the newest of each."""
    found: dict[str, tuple[int, str]] = {}
    for row in connection.execute(
        select(posts.c.id, posts.c.channel, posts.c.state)
        .where(
            posts.c.article_id == article_id,
            posts.c.channel.in_(list(channels)),
            posts.c.state.in_(ALREADY_THERE),
        )
        .order_by(posts.c.id)
    ):
        found[row.channel] = (row.id, row.state)
    return found


def insert_posts(
    connection: Connection,
    settings: Settings,
    article_id: int,
    teasers: dict[str, Teaser],
    timing: When | Mapping[str, When],
    *,
    now: datetime,
    queued_by: str,
    approval: bool | None = None,
    edited: frozenset[str] = frozenset(),
) -> list[int]:
    """Insert one post per teaser in the caller's transaction and tell the workers; `edited`
    names the channels whose text an editor wrote (a CMS update leaves those alone)."""
    ids = []
    headline, url = connection.execute(
        select(articles.c.headline, articles.c.url).where(articles.c.id == article_id)
    ).one()
    keep_links(connection, settings, article_id, url, teasers, now)
    for name, teaser in teasers.items():
        try:
            chosen = timing if isinstance(timing, When) else timing[name]
            due = due_at(connection, settings, name, chosen, now)
        except ValueError as exc:
            raise QueueError(
                f"{name}: {exc}",
                key="no_slots" if not settings.channels[name].slots else None,
                channel=name,
            ) from None
        held = needs_approval(settings.channels[name].approval, approval)
        result = connection.execute(
            insert(posts).values(
                article_id=article_id,
                channel=name,
                channel_type=teaser.type,
                text=teaser.text,
                search=fold(f"{headline} {teaser.text}"),
                link=teaser.link,
                fields=dict(teaser.fields),
                state=State.AWAITING_APPROVAL if held else State.QUEUED,
                approval_required=held,
                due_at=due,
                attempts=0,
                retries=0,
                queued_by=queued_by,
                edited=name in edited,
                created_at=now,
                updated_at=now,
            )
        )
        ids.append(new_id(result))
    record_event(connection, ids, queued_by, "queued", now)
    notify_change(connection)
    return ids


def drops_link(channel: Channel, text: str, link: str, article_url: str) -> bool:
    """Whether an edited text has lost the article's link (tracked or plain) on a channel
    that posts the link in the text."""
    return not (channel.carries_link(text, link) or channel.carries_link(text, article_url))
