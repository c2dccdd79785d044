"""subscribers of fan-out channels (WhatsApp), and the statuses platforms report for a
delivery after it was sent

Revision ID: 0006
Revises: 0005

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "subscribers",
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("channel", "phone"),
    )
    op.create_index("ix_subscribers_state", "subscribers", ["channel", "state"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("status_error", sa.Text(), nullable=True))
        batch.create_index("ix_deliveries_remote", ["remote_id"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_remote")
        batch.drop_column("status_error")
        batch.drop_column("status_at")
        batch.drop_column("status")
    op.drop_index("ix_subscribers_state", table_name="subscribers")
    op.drop_table("subscribers")
