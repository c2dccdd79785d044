"""post_events: the state a cancelled post was in, kept as data for restoring it

Revision ID: 0015
Revises: 0014

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The states a post could be cancelled from while cancels only wrote "was STATE[; reason]".
_FORMER = ("awaiting_approval", "queued", "failed", "uncertain")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("post_events") as batch:
        batch.add_column(sa.Column("former_state", sa.String(length=20), nullable=True))
    events = sa.table(
        "post_events",
        sa.column("action", sa.String),
        sa.column("detail", sa.Text),
        sa.column("former_state", sa.String),
    )
    for state in _FORMER:
        op.execute(
            events.update()
            .where(
                events.c.action == "cancelled",
                sa.or_(events.c.detail == f"was {state}", events.c.detail.like(f"was {state};%")),
            )
            .values(former_state=state)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("post_events") as batch:
        batch.drop_column("former_state")
