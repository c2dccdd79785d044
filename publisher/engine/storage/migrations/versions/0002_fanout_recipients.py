"""fan-out recipients: one delivery per recipient, and the recipients a post still owes

Revision ID: 0002
Revises: 0001

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("recipient", sa.String(length=64), nullable=True))
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("pending", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("pending")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("recipient")
