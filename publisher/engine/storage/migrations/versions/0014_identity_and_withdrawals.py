"""articles: found by their address as well as their id; who withdrew one, when and why

Revision ID: 0014
Revises: 0013

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("withdrawn_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    # A hash index: an address may be longer than a B-tree entry allows on PostgreSQL.
    op.create_index("ix_articles_url", "articles", ["url"], postgresql_using="hash")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_articles_url", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("withdrawn_at")
        batch.drop_column("withdrawn_reason")
        batch.drop_column("withdrawn_by")
