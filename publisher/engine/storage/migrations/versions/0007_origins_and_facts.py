"""where an article came from (the CMS, a feed, an editor), when a reader last sent a keyword,
and what channels learned from their platforms (an instance's limits)

Revision ID: 0007
Revises: 0006

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=20), nullable=True))
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("keyword_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "channel_facts",
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("channel_facts")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("keyword_at")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("origin")
