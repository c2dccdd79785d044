"""bot_drafts, bot_waiting: the editors' bot's drafts and the texts it waits for, kept so that a
restart of the bot loses neither

Revision ID: 0018
Revises: 0017

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "bot_drafts",
        sa.Column("key", sa.String(16), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "bot_waiting",
        sa.Column("editor", sa.BigInteger(), primary_key=True),
        sa.Column("chat", sa.BigInteger(), primary_key=True),
        sa.Column("key", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("bot_waiting")
    op.drop_table("bot_drafts")
