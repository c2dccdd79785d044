"""takedowns: a sent post to be taken down from its platform (its article was withdrawn), as a
job a worker claims, retries and records once; deliveries.action says what an attempt did
(NULL: it sent the post, "remove": it took the post down)

Revision ID: 0021
Revises: 0020

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "takedowns",
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(200)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text()),
    )
    op.create_index("ix_takedowns_state_due", "takedowns", ["state", "due_at"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("action", sa.String(20)))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("action")
    op.drop_index("ix_takedowns_state_due", "takedowns")
    op.drop_table("takedowns")
