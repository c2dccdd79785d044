"""Archive articles that deserve another turn (`[[resurface]]`): for each rule and channel, the
stored articles of the right sections, tags and age (the CMS's evergreen flag where the rule asks
for it), never one withdrawn, ranked by what their posts achieved, each at most `most_times`
and not again within `cooldown_days` on a channel; queued only into a free time within the next
day (never moving a queued post), under an approver where the channel asks for one, and marked
"resurface:NAME" as who queued it."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, ScalarSelect, func, select, type_coerce

from publisher import roster
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.learning import scorecard
from publisher.engine.lifecycle import RESURFACED, TO_GO, State
from publisher.engine.planning import planner
from publisher.engine.planning.besttime import learn_for
from publisher.engine.planning.slots import TimeError, When, after_quiet_hours
from publisher.engine.posts import queue
from publisher.engine.posts.queue import QueueError
from publisher.engine.storage.schema import UTCDateTime, articles, posts
from publisher.sections import Resurface

logger = logging.getLogger(__name__)

# How far ahead a resurfaced post may be placed: later, the next round finds a time.
WITHIN = timedelta(hours=24)
# A CMS sends an article again soon after it went out (a typo, a picture): only an update later
# than this after its last post counts as changed since.
UPDATE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Turn:
    """A post an archive article was given: the rule, the channel, the article, the post."""

    rule: str
    channel: str
    article: str
    post_id: int
    due: datetime


def candidates(engine: Engine, rule: Resurface, now: datetime) -> list[tuple[int, Article]]:
    """The stored articles a rule may resurface now, best first by what their posts achieved
    (interactions and the newsroom's own clicks added up), then newest first."""
    oldest, youngest = (
        now - timedelta(days=rule.max_age_days),
        now - timedelta(days=rule.min_age_days),
    )
    # Out since its publication, else since it was stored: an archive the CMS sends today with
    # its old publication times is old enough at once.
    out_since = func.coalesce(articles.c.published_at, articles.c.created_at)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                articles.c.id,
                articles.c.data,
                articles.c.created_at,
                articles.c.updated_at,
                type_coerce(_last_sent(), UTCDateTime).label("last_sent"),
            ).where(out_since >= oldest, out_since <= youngest)
        ).all()
    found = []
    for row in rows:
        article = Article.model_validate(row.data)
        out = article.published_at or row.created_at
        if article.withdrawn or not oldest <= out <= youngest or not rule.accepts(article):
            continue
        if row.last_sent is not None and row.updated_at > row.last_sent + UPDATE_GRACE:
            # Updated (a correction, say) since it last went out: not given another turn unread.
            continue
        found.append((row.id, article, out))
    earned: dict[str, int] = defaultdict(int)
    for item in scorecard.by_post(engine):
        metrics = item["metrics"]
        earned[item["article"]] += (metrics["clicks"] or 0) + (scorecard.engagement(metrics) or 0)
    found.sort(key=lambda f: (earned.get(f[1].id or f[1].url, 0), f[2]), reverse=True)
    return [(article_id, article) for article_id, article, _ in found]


def _last_sent() -> ScalarSelect[datetime]:
    """When the article (of the row at hand) last went out anywhere."""
    return (
        select(func.max(posts.c.sent_at))
        .where(posts.c.article_id == articles.c.id, posts.c.state == State.SENT)
        .correlate(articles)
        .scalar_subquery()
    )


def _may_go(engine: Engine, rule: Resurface, channel: str, article_id: int, now: datetime) -> bool:
    """Whether the article may have another turn on the channel: nothing of it waiting there,
    its last post there older than the cooldown, fewer turns than the rule allows."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.state, posts.c.due_at, posts.c.sent_at, posts.c.queued_by).where(
                posts.c.article_id == article_id, posts.c.channel == channel
            )
        ).all()
    if any(row.state in TO_GO for row in rows):
        return False
    last = max((row.sent_at or row.due_at for row in rows if row.state == State.SENT), default=None)
    if last is not None and now - last < timedelta(days=rule.cooldown_days):
        return False
    turns = sum(
        1
        for row in rows
        if row.queued_by == RESURFACED + rule.name and row.state != State.CANCELLED
    )
    return turns < rule.most_times


def _given_today(
    engine: Engine, settings: Settings, rule: Resurface, channel: str, now: datetime
) -> int:
    zone = settings.channel_tz(channel)
    day = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(posts)
            .where(
                posts.c.channel == channel,
                posts.c.queued_by == RESURFACED + rule.name,
                posts.c.state != State.CANCELLED,
                posts.c.due_at >= day,
                posts.c.due_at < day + timedelta(days=1),
            )
        ).scalar_one()


def resurface(engine: Engine, settings: Settings, now: datetime | None = None) -> list[Turn]:
    """One round: every rule gives each of its channels up to `per_day` archive articles a day,
    each in a free time within the next day."""
    now = now or utcnow()
    given: list[Turn] = []
    for rule in settings.resurface:
        ranked = candidates(engine, rule, now)
        for channel in rule.channels:
            room = rule.per_day - _given_today(engine, settings, rule, channel, now)
            for article_id, article in ranked:
                if room <= 0:
                    break
                if not _may_go(engine, rule, channel, article_id, now):
                    continue
                due = _free_time(engine, settings, channel, now)
                if due is None:
                    break
                try:
                    (post_id,) = queue.add(
                        engine, settings, article, roster.chosen(settings, [channel]),
                        When("at", due), force=True, queued_by=RESURFACED + rule.name, now=now,
                    )  # fmt: skip
                except QueueError as exc:
                    logger.info(
                        "resurface %s: %s not queued on %s: %s",
                        rule.name,
                        article.url,
                        channel,
                        exc,
                    )
                    continue
                given.append(Turn(rule.name, channel, article.id or article.url, post_id, due))
                room -= 1
    return given


def _free_time(engine: Engine, settings: Settings, channel: str, now: datetime) -> datetime | None:
    """The channel's next free time (its next free slot, else the best time its history knows
    of), `min_gap` from its other posts and out of its quiet hours, within the next day."""
    configured = settings.channels[channel]
    timing = When("next_slot") if configured.slots else When("best")
    learn_for(engine, settings, {channel: timing})
    zone = settings.channel_tz(channel)

    def quiet(_: str, due: datetime) -> datetime:
        return after_quiet_hours(due, configured.quiet_hours, zone)

    with engine.connect() as connection:
        try:
            due = planner.plan(connection, settings, channel, timing, now, quiet)
        except TimeError:
            return None
    return due if due - now <= WITHIN else None
