"""Publish on release: an article arriving from the CMS webhook or a feed goes, by the desk's
rules, to its channels at the right time, once. An article that arrives again updates the
article and its posts not yet sent, and is posted again only where a rule says updates repost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, or_, select, update
from sqlalchemy.exc import IntegrityError

from publisher import roster
from publisher.articles import Article, fold, whole_number
from publisher.channels import ComposeError, Teaser
from publisher.clock import shown, utcnow
from publisher.config import Settings
from publisher.engine.lifecycle import (
    ALREADY_THERE,
    APPROVAL_AGAIN,
    ARTICLE_UPDATED,
    HOLDABLE,
    UPDATED,
    State,
    approval_withdrawn,
)
from publisher.engine.planning import planner
from publisher.engine.planning.besttime import learn_for
from publisher.engine.planning.slots import TimeError, When, after_quiet_hours
from publisher.engine.posts import queue
from publisher.engine.posts.followups import is_follow_up
from publisher.engine.posts.identity import Origin, origin_of
from publisher.engine.posts.queue import UnknownArticle
from publisher.engine.releases.correction import Correction, correct_posts
from publisher.engine.releases.rules import Routing, not_before_embargo, route
from publisher.engine.releases.withdrawal import Withdrawal, withdraw_posts
from publisher.engine.storage.rowids import is_row_id
from publisher.engine.storage.schema import articles, posts
from publisher.teasers import compose

logger = logging.getLogger(__name__)


def stored_article(engine: Engine, article_id: str) -> Article:
    """An article that arrived before (webhook, feed, queue), by its CMS id or its row number."""
    condition = articles.c.key == article_id
    row = whole_number(article_id)
    if row is not None and is_row_id(row):
        condition = or_(condition, articles.c.id == row)
    with engine.connect() as connection:
        data = connection.execute(select(articles.c.data).where(condition)).scalar()
    if data is None:
        raise UnknownArticle(
            f"no stored article {article_id!r}", key="unknown_article", article=article_id
        )
    return Article.model_validate(data)


def public_article(engine: Engine, key: str, now: datetime | None = None) -> Article:
    """A stored article as the public may see it, by its CMS id (or, for an article without
    one, its URL): only once it is published, and never once withdrawn. Row numbers are not
    accepted, so articles cannot be counted through; an embargoed or withdrawn article, and an
    editor's draft that names no publication time, are as unknown as a missing one."""
    now = now or utcnow()
    with engine.connect() as connection:
        row = connection.execute(
            select(articles.c.data, articles.c.origin).where(articles.c.key == key)
        ).first()
    article = Article.model_validate(row.data) if row is not None else None
    if (
        row is None
        or article is None
        or article.withdrawn
        or (article.published_at is not None and article.published_at > now)
        or (article.published_at is None and origin_of(row) == "editor")
    ):
        raise UnknownArticle(
            f"no stored article {key[:200]!r} that is published",
            key="unknown_article",
            article=key[:200],
        )
    return article


@dataclass(frozen=True)
class Released:
    """What a release did: posts queued, posts brought up to date, channels left alone."""

    queued: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    # When each channel's new post goes out (aware UTC).
    planned: dict[str, datetime] = field(default_factory=dict)
    # What withdrawing it did, when the CMS withdrew it.
    withdrawn: Withdrawal | None = None
    # What correcting it did, when the CMS sent it with a correction not sent before.
    corrected: Correction | None = None

    def to_json(self) -> dict[str, object]:
        answer: dict[str, object] = {
            "queued": self.queued,
            "updated": self.updated,
            "skipped": self.skipped,
            "planned": {name: due.isoformat() for name, due in self.planned.items()},
        }
        if self.withdrawn is not None:
            answer["withdrawn"] = self.withdrawn.to_json()
        if self.corrected is not None:
            answer["corrected"] = self.corrected.to_json()
        return answer


def release(
    engine: Engine,
    settings: Settings,
    article: Article,
    source: str,
    *,
    now: datetime | None = None,
    on_queued: Callable[[], None] | None = None,
    before: Callable[[Connection], None] | None = None,
) -> Released:
    """Queue `article` where the rules send it; `on_queued` wakes an in-process dispatcher;
    `before` runs first in the release's transaction (the webhook spends its signature there,
    so a release that is not stored leaves the signature unspent).

    One transaction: the article row is written first, which serialises two releases of the
    same article (a CMS retrying its webhook), so the second sees the first one's posts."""
    now = now or utcnow()
    # A withdrawn article goes nowhere: its posts not yet out are cancelled instead.
    routings = {} if article.withdrawn else {r.channel: r for r in route(article, source, settings)}
    # Composing is pure and the slowest part: done before the transaction opens. A channel whose
    # rules cannot carry this article (a link longer than its limit) is left out, not the rest.
    channels = roster.chosen(settings, list(routings)) if routings else {}
    teasers: dict[str, Teaser] = {}
    unfit: dict[str, str] = {}
    for name, channel in channels.items():
        try:
            teasers[name] = compose(article, {name: channel}, settings)[name]
        except ComposeError as exc:
            unfit[name] = str(exc)
    learn_for(
        engine,
        settings,
        {n: _timing(r.timing, r.delay, now, article) for n, r in routings.items()},
    )
    for attempt in range(2):
        try:
            with engine.begin() as connection:
                if before is not None:
                    before(connection)
                result = _release_in(
                    connection, settings, article, source, routings, teasers, unfit, now
                )
            break
        except IntegrityError:
            # Two first releases of one new article raced to insert it; the loser tries again
            # and now finds the winner's posts.
            if attempt:
                raise
    if result.queued and on_queued is not None:
        on_queued()
    logger.info(
        "released %s from %s: %d queued, %d updated",
        article.url,
        source,
        len(result.queued),
        len(result.updated),
        extra={"source": source, **result.to_json()},
    )
    return result


def _release_in(
    connection: Connection,
    settings: Settings,
    article: Article,
    source: str,
    routings: dict[str, Routing],
    teasers: dict[str, Teaser],
    unfit: dict[str, str],
    now: datetime,
) -> Released:
    origin: Origin = "cms" if source == "webhook" else "feed"
    stored = queue.upsert_article(connection, article, now, origin)
    if stored.kept:
        # The article came from a higher source (the CMS, an editor): a feed neither
        # replaces it nor releases it again.
        logger.warning(
            "%s from %s is the article %s brought (stored as %d): left as it is",
            article.url, source, stored.origin, stored.id,
        )  # fmt: skip
        why = f"the article came from the {stored.origin}; {source} does not release it again"
        return Released(skipped=dict.fromkeys(routings, why))
    # As stored: an embargo an update left out still holds.
    article_id, article = stored.id, stored.article
    if article.withdrawn:
        # The CMS says no reason: the post's history names the CMS as who withdrew it.
        return Released(withdrawn=withdraw_posts(connection, settings, article_id, "", source, now))
    existing: dict[str, set[str]] = {}
    for row in connection.execute(
        select(posts.c.channel, posts.c.state).where(posts.c.article_id == article_id)
    ):
        existing.setdefault(row.channel, set()).add(row.state)
    by = f"release:{source}"
    updated = _refresh(connection, settings, article, article_id, now, by)
    if stored.changed:
        _tell_edited(connection, settings, article_id, now, by)
    corrected = None
    if article.correction and (
        stored.before is None or stored.before.correction != article.correction
    ):
        # A correction the CMS had not sent before (a retried webhook sends it again).
        corrected = correct_posts(connection, settings, article_id, article.correction, source, now)
    skipped: dict[str, str] = dict(unfit)
    queued: list[int] = []
    planned: dict[str, datetime] = {}
    by_approval: dict[bool | None, list[str]] = {}
    for name, routing in routings.items():
        if name in unfit:
            continue
        states = existing.get(name, set()) & ALREADY_THERE
        reposting = routing.repost_updates and states == {State.SENT}
        if states and not reposting:
            skipped[name] = "already sent" if State.SENT in states else "already queued"
            continue
        timing = _timing(routing.timing, routing.delay, now, article)
        # Past this it would be refused anyway: the planning reads no further.
        latest = _out(article, now) + timedelta(hours=routing.max_wait)
        try:
            due = planner.plan(
                connection, settings, name, timing, now, _adjuster(settings, article, routings),
                latest,
            )  # fmt: skip
        except TimeError as exc:
            # Nothing of this channel is written: its time could not be planned.
            skipped[name] = str(exc)
            continue
        late = _too_late(due, routing.max_wait, article, now, settings.channel_tz(name))
        if late:
            skipped[name] = late
            continue
        planned[name] = due
        by_approval.setdefault(routing.approval, []).append(name)
    # One insertion for the channels sharing an approval rule: one event and one wake-up for
    # them all, not a round of statements per channel.
    for approval, names in by_approval.items():
        queued += queue.insert_posts(
            connection,
            settings,
            article_id,
            {name: teasers[name] for name in names},
            {name: When("at", planned[name]) for name in names},
            now=now,
            queued_by=f"release:{source}",
            approval=approval,
        )
    refused = {n: why for n, why in skipped.items() if n in unfit or n not in existing}
    if refused:
        logger.warning(
            "article %s not queued on %s",
            article.url,
            "; ".join(f"{name} ({why})" for name, why in refused.items()),
        )
    if not routings:
        logger.info("article %s: no rule sends it anywhere", article.url)
    return Released(queued, updated, skipped, planned, corrected=corrected)


def _refresh(
    connection: Connection,
    settings: Settings,
    article: Article,
    article_id: int,
    now: datetime,
    by: str,
) -> list[int]:
    """Re-compose the article's posts that have not gone out and that no editor has edited
    (not the ones that follow up on a post: a correction's reply, a notice to readers). An
    approved post whose text changes waits for approval again: the approver approved the old."""
    rows = connection.execute(
        select(
            posts.c.id, posts.c.channel, posts.c.due_at, posts.c.text, posts.c.link,
            posts.c.state, posts.c.approved_at, posts.c.fields,
        ).where(
            posts.c.article_id == article_id,
            posts.c.state.in_(HOLDABLE),
            posts.c.edited.is_(False),
            posts.c.channel.in_(list(settings.channels)),
        )
    ).all()  # fmt: skip
    for row in rows:
        if is_follow_up(row.fields):
            continue
        channel = roster.configured(settings, row.channel)
        teaser = compose(article, {row.channel: channel}, settings)[row.channel]
        values: dict[str, object] = {
            "text": teaser.text,
            "search": fold(f"{article.headline} {teaser.text}"),
            "link": teaser.link,
            "fields": dict(teaser.fields),
            # A publication time moved into the future moves the embargo with it.
            "due_at": not_before_embargo(row.due_at, article),
            "updated_at": now,
        }
        changed = (teaser.text, teaser.link) != (row.text, row.link)
        if changed:
            # Every new text stands in the post's history; an approved one waits again.
            again = row.approved_at is not None
            if again:
                values.update(approval_withdrawn(row.state))
            detail = APPROVAL_AGAIN if again else None
            queue.record_event(connection, [row.id], by, UPDATED, now, detail)
        connection.execute(update(posts).where(posts.c.id == row.id).values(values))
    return [row.id for row in rows]


def _tell_edited(
    connection: Connection, settings: Settings, article_id: int, now: datetime, by: str
) -> None:
    """Note in the history of the article's open posts an editor wrote themselves that the
    article changed: their text stays as written, and may now say something the article no
    longer does."""
    ids = (
        connection.execute(
            select(posts.c.id).where(
                posts.c.article_id == article_id,
                posts.c.state.in_(HOLDABLE),
                posts.c.edited.is_(True),
                posts.c.channel.in_(list(settings.channels)),
            )
        )
        .scalars()
        .all()
    )
    queue.record_event(connection, list(ids), by, ARTICLE_UPDATED, now)


def _too_late(
    due: datetime, max_wait: float, article: Article, now: datetime, zone: ZoneInfo
) -> str | None:
    """Why a post planned for `due` is not queued: it would go out more than `max_wait` hours
    after the article is out (released, or published when that is later); None when in time."""
    if due - _out(article, now) <= timedelta(hours=max_wait):
        return None
    return (
        f"the first free time is {shown(due, zone)} at the earliest, more than {max_wait:g} "
        "hours after the article is out"
    )


def _out(article: Article, now: datetime) -> datetime:
    """When the article is out: released now, or published when that is later."""
    return max(now, article.published_at or now)


def _timing(mode: str, delay: int, now: datetime, article: Article) -> When:
    if mode == "best":
        return planner.breaking_now(When("best"), article)
    if mode == "next_slot":
        return When("next_slot")
    if mode == "delay":
        return When("at", now + timedelta(minutes=delay))
    return When("now")


def _adjuster(
    settings: Settings, article: Article, routings: dict[str, Routing]
) -> Callable[[str, datetime], datetime]:
    def adjust(channel: str, due: datetime) -> datetime:
        due = not_before_embargo(due, article)
        if routings[channel].ignore_quiet_hours:
            return due
        quiet = settings.channels[channel].quiet_hours
        return after_quiet_hours(due, quiet, settings.channel_tz(channel))

    return adjust
