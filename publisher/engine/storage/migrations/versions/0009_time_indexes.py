"""indexes for the times the desk looks up: when a post is out, else due (with its state), for
the calendar's cells and, by channel, for a channel's free slots

Revision ID: 0009
Revises: 0008

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    moment = sa.text("coalesce(sent_at, due_at)")
    op.create_index("ix_posts_moment", "posts", [moment, "state"])
    op.create_index("ix_posts_channel_moment", "posts", ["channel", moment, "state"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_posts_channel_moment", table_name="posts")
    op.drop_index("ix_posts_moment", table_name="posts")
