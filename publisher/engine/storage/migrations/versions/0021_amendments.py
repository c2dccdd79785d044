"""amendments: what is done to a post after it went out, as jobs a worker claims, retries and
records once: taking it down (its article was withdrawn) or editing it (a correction);
deliveries.action says what an attempt did (NULL: it sent the post; "remove", "edit")

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
        "amendments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id"), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("text", sa.Text()),
        sa.Column("former", sa.Text()),
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
    op.create_index("ix_amendments_state_due", "amendments", ["state", "due_at"])
    op.create_index("ix_amendments_post", "amendments", ["post_id"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("action", sa.String(20)))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("action")
    op.drop_index("ix_amendments_post", "amendments")
    op.drop_index("ix_amendments_state_due", "amendments")
    op.drop_table("amendments")
