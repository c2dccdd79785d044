"""The database tables: articles, posts (one per article and channel), deliveries (one per attempt),
paused channels and what sent posts achieved (measurements). Times are stored in UTC, whatever
the machine's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; SQLite keeps naive UTC text that sorts right."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; times must carry a zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

# The largest id an Integer column holds on every supported database (PostgreSQL's int4): a
# number beyond it names no row, and is answered as such rather than sent to the database.
articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(2048), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("headline", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Who sent it: "cms" (the webhook), "feed" or "editor" (desk, bot, command line). An
    # editor's upload never replaces what the CMS or a feed sent. Unknown for older rows.
    Column("origin", String(20)),
    # Who withdrew it (an editor, or "webhook" for the CMS), when and why; none while it stands.
    Column("withdrawn_by", String(200)),
    Column("withdrawn_reason", Text),
    Column("withdrawn_at", UTCDateTime),
    # When the article was published (its JSON's `published_at`): the archive is chosen by it.
    Column("published_at", UTCDateTime),
    # An article is found by its address too (publisher.engine.posts.identity); hashed, as an
    # address may be longer than a B-tree entry allows on PostgreSQL.
    Index("ix_articles_url", "url", postgresql_using="hash"),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("channel_type", String(50), nullable=False),
    Column("text", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("fields", JSON, nullable=False),
    Column("state", String(20), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("retries", Integer, nullable=False, default=0),
    Column("queued_by", String(200), nullable=False),
    Column("edited", Boolean, nullable=False, default=False),
    Column("worker", String(200)),
    Column("lease_until", UTCDateTime),
    Column("remote_id", String(200)),
    Column("permalink", Text),
    Column("error_class", String(50)),
    Column("error", Text),
    Column("sent_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Fan-out channels: recipients still owed this post; NULL means every configured recipient
    # not yet sent to.
    Column("pending", JSON),
    # Whether an approver must let the post go out, and who did; an edit afterwards clears the
    # approval and makes one required again.
    Column("approval_required", Boolean, nullable=False, default=False),
    Column("approved_by", String(200)),
    Column("approved_at", UTCDateTime),
    # The headline and text as the desk's search compares them (articles.fold).
    Column("search", Text),
    Index("ix_posts_state_due", "state", "due_at"),
    Index("ix_posts_channel_state", "channel", "state"),
    Index("ix_posts_article_channel", "article_id", "channel"),
    # When a post is out, else due (where the calendar shows it and the time it takes from its
    # channel): a calendar's cells and a channel's free slots are found among a few days'
    # posts rather than the whole history, without reading the rows.
    Index("ix_posts_moment", text("coalesce(sent_at, due_at)"), "state"),
    Index("ix_posts_channel_moment", "channel", text("coalesce(sent_at, due_at)"), "state"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", Integer, ForeignKey("posts.id"), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("outcome", String(20), nullable=False),
    Column("remote_id", String(200)),
    Column("permalink", Text),
    Column("error_class", String(50)),
    Column("error", Text),
    Column("latency_ms", Integer),
    Column("payload", JSON, nullable=False),
    Column("recipient", String(64)),
    # What the platform reported later about a message (WhatsApp: sent, delivered, read,
    # failed with its error code), by the webhook, and when.
    Column("status", String(20)),
    Column("status_at", UTCDateTime),
    Column("status_error", Text),
    # What the attempt did: NULL sent the post; "remove" took it down, "edit" corrected it
    # (engine/delivery/amendments.py).
    Column("action", String(20)),
    Index("ix_deliveries_post", "post_id"),
    Index("ix_deliveries_remote", "remote_id"),
    Index("ix_deliveries_channel_started", "channel", "started_at"),
    Index("ix_deliveries_started", "started_at"),
)

# What is done to a post after it went out, as a job a worker claims (state due -> working,
# under a lease), retries with backoff, and ends done or failed (the platform refused; an editor
# looks): "remove" takes it down (its article was withdrawn), "edit" gives it `text` in place of
# `former` (a correction). A post's jobs run one at a time, oldest first.
amendments = Table(
    "amendments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", Integer, ForeignKey("posts.id"), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("text", Text),
    Column("former", Text),
    Column("state", String(20), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("worker", String(200)),
    Column("lease_until", UTCDateTime),
    # Who asked (an editor, or the CMS's source), why, and when.
    Column("requested_by", String(200), nullable=False),
    Column("reason", Text),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # The platform's reason, when it refused.
    Column("error", Text),
    Index("ix_amendments_state_due", "state", "due_at"),
    Index("ix_amendments_post", "post_id"),
)

channel_pauses = Table(
    "channel_pauses",
    metadata,
    Column("channel", String(200), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("paused_at", UTCDateTime, nullable=False),
    # Set for a platform's rate limit: the pause ends by itself then. Unset: until resumed.
    Column("until", UTCDateTime),
    # What an editor has to do about it: credentials, settings, permissions, rate_limit, editor.
    Column("cause", String(20)),
)

# Every editor's action on a post (queued, edited, approved, cancelled, retried, marked sent):
# who, when, and what it was about.
post_events = Table(
    "post_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", Integer, ForeignKey("posts.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(30), nullable=False),
    Column("detail", Text),
    # The state the post was in before, where an undo returns it there (a cancel's restore).
    Column("former_state", String(20)),
    Index("ix_post_events_post", "post_id"),
)

# Signed-in desk sessions: the cookie carries a random token, the table its hash. Signing out
# deletes the row, so an old cookie is worth nothing afterwards.
desk_sessions = Table(
    "desk_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Webhook signatures already used, within the replay window, for every instance of the HTTP side.
webhook_signatures = Table(
    "webhook_signatures",
    metadata,
    Column("signature", String(100), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_webhook_signatures_received", "received_at"),
)

feeds = Table(
    "feeds",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("url", Text, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("polled_at", UTCDateTime),
    Column("ok_at", UTCDateTime),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("backoff_until", UTCDateTime),
)

# Items a feed has shown, by guid (else link), so that a restart never releases them again.
feed_items = Table(
    "feed_items",
    metadata,
    Column("feed", String(200), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
)

# Editors of the web desk. Without a password hash a user can only come in through the
# reverse proxy's sign-in header.
users = Table(
    "users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("password_hash", Text),
    Column("role", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)


# A fan-out channel's subscribers (WhatsApp): each number's state (subscribed, unsubscribed,
# unreachable), how and when consent was given, when they last wrote (the 24-hour window), and
# how many messages in a row could not be delivered to them.
subscribers = Table(
    "subscribers",
    metadata,
    Column("channel", String(200), primary_key=True),
    Column("phone", String(20), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("source", Text, nullable=False),
    Column("consented_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("last_message_at", UTCDateTime),
    Column("failures", Integer, nullable=False, default=0),
    # When the reader's keyword that decided their state was sent: a keyword sent earlier (a
    # webhook retried or replayed) never undoes a later one.
    Column("keyword_at", UTCDateTime),
    Index("ix_subscribers_state", "channel", "state"),
)

# The newest Telegram update each bot (by its username) acted on: Telegram delivers an update
# again when its confirmation was lost (a crash), and the bot acts on it once.
bot_updates = Table(
    "bot_updates",
    metadata,
    Column("bot", String(200), primary_key=True),
    Column("update_id", BigInteger, nullable=False),
    Column("handled_at", UTCDateTime, nullable=False),
)

# The bot's drafts (an article on its way to the queue, as JSON), by the key their buttons carry,
# and the editors whose next message in a chat is a draft's new text for a channel.
bot_drafts = Table(
    "bot_drafts",
    metadata,
    Column("key", String(16), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
# What an editor chose and typed on an article's page, not yet queued: the form's fields.
desk_drafts = Table(
    "desk_drafts",
    metadata,
    Column("editor", String(200), primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), primary_key=True),
    Column("fields", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
bot_waiting = Table(
    "bot_waiting",
    metadata,
    Column("editor", BigInteger, primary_key=True),
    Column("chat", BigInteger, primary_key=True),
    Column("key", String(16), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("since", UTCDateTime, nullable=False),
)

# What a channel learned from its platform (a Mastodon instance's limits), used in place of the
# built-in defaults wherever the configuration does not set them.
channel_facts = Table(
    "channel_facts",
    metadata,
    Column("channel", String(200), primary_key=True),
    Column("facts", JSON, nullable=False),
    Column("learned_at", UTCDateTime, nullable=False),
)

# What each sent post achieved, as its network counted it, at the points the engine measures
# (engine/learning/results.py): one row per post and point, kept as history.
measurements = Table(
    "measurements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", Integer, ForeignKey("posts.id"), nullable=False),
    Column("channel", String(200), nullable=False),
    # "1h", "24h", "7d" after it went out, or "first" for one taken before the first of them.
    Column("point", String(10), nullable=False),
    Column("measured_at", UTCDateTime, nullable=False),
    # The normalised numbers (channels.METRICS, null where not offered) and the network's own.
    Column("metrics", JSON, nullable=False),
    Column("raw", JSON, nullable=False),
    UniqueConstraint("post_id", "point", name="uq_measurements_post_point"),
    Index("ix_measurements_channel_measured", "channel", "measured_at"),
)


# The newsroom's redirect links (`[tracking] redirect_base`): where each code leads. One code per
# article and channel; written when a post carrying it is queued, never changed, so a link
# already posted keeps working whatever happens to the configuration.
links = Table(
    "links",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("target", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The latest numbers a platform pushed for a sent post (Telegram's reaction counts), replaced by
# newer ones as they come; the measuring rounds take them from here.
pushed_results = Table(
    "pushed_results",
    metadata,
    Column("post_id", Integer, ForeignKey("posts.id"), primary_key=True),
    Column("metrics", JSON, nullable=False),
    Column("raw", JSON, nullable=False),
    # When the platform counted them (an update that arrives late changes nothing).
    Column("heard_at", UTCDateTime, nullable=False),
)

# A channel's results from before the install (`publisher stats import`): what each past post
# earned, by when it went out; learned from like the posts sent here.
imported_results = Table(
    "imported_results",
    metadata,
    Column("channel", String(200), primary_key=True),
    Column("sent_at", UTCDateTime, primary_key=True),
    # First-party clicks and the network's interactions; null where the file has none.
    Column("clicks", Integer),
    Column("engagement", Integer),
    Column("imported_at", UTCDateTime, nullable=False),
)

# Clicks on a redirect link, counted per hour. Nothing about the reader is kept.
link_clicks = Table(
    "link_clicks",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("hour", UTCDateTime, primary_key=True),
    Column("clicks", Integer, nullable=False),
)


def upsert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` in the connection's dialect, which can say what a row that is
    already there does (`on_conflict_do_nothing`, `on_conflict_do_update`)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
