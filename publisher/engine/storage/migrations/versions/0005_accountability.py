"""who did what: approvals on posts (and whether a post needs one), an event per editor's
action, desk sessions that end on sign-out, spent webhook signatures shared by every instance,
and why a channel is paused

Revision ID: 0005
Revises: 0004

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("approval_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("channel_pauses") as batch:
        batch.add_column(sa.Column("cause", sa.String(length=20), nullable=True))
    op.create_table(
        "post_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_post_events_post", "post_events", ["post_id"])
    op.create_table(
        "desk_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_signatures",
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    op.create_index("ix_webhook_signatures_received", "webhook_signatures", ["received_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_webhook_signatures_received", table_name="webhook_signatures")
    op.drop_table("webhook_signatures")
    op.drop_table("desk_sessions")
    op.drop_index("ix_post_events_post", table_name="post_events")
    op.drop_table("post_events")
    with op.batch_alter_table("channel_pauses") as batch:
        batch.drop_column("cause")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("approval_required")
        batch.drop_column("approved_at")
        batch.drop_column("approved_by")
