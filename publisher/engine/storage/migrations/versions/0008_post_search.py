"""what the desk's search compares: each post's headline and text without accents or case

Revision ID: 0008
Revises: 0007

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from publisher.articles import fold

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("search", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT posts.id, articles.headline, posts.text FROM posts "
            "JOIN articles ON articles.id = posts.article_id"
        )
    ).all()
    if rows:
        connection.execute(
            sa.text("UPDATE posts SET search = :search WHERE id = :id"),
            [{"id": row.id, "search": fold(f"{row.headline} {row.text}")} for row in rows],
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("search")
