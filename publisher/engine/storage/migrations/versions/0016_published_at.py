"""articles: when each was published, as a column, so that the archive is chosen by it

Revision ID: 0016
Revises: 0015

"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _published(data: object) -> datetime | None:
    """The publication time an article's stored JSON carries, if any."""
    stored = json.loads(data) if isinstance(data, str) else data
    found = stored.get("published_at") if isinstance(stored, dict) else None
    if not found:
        return None
    try:
        moment = datetime.fromisoformat(str(found).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    connection = op.get_bind()
    table = sa.table(
        "articles",
        sa.column("id", sa.Integer),
        sa.column("data", sa.JSON),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    for article_id, data in connection.execute(sa.select(table.c.id, table.c.data)).all():
        published = _published(data)
        if published is not None:
            connection.execute(
                table.update().where(table.c.id == article_id).values(published_at=published)
            )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("published_at")
