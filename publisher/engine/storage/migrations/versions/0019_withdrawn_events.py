"""post_events: a post cancelled by its article's withdrawal says so as its own event, with the
withdrawal's reason as its detail (it was a cancel whose detail read "was STATE; reason")

Revision ID: 0019
Revises: 0018

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENTS = sa.table(
    "post_events",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("detail", sa.Text),
    sa.column("former_state", sa.String),
)


def upgrade() -> None:
    """Upgrade schema."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_EVENTS.c.id, _EVENTS.c.detail).where(
            _EVENTS.c.action == "cancelled", _EVENTS.c.detail.like("was %; %")
        )
    ).all()
    for row in rows:
        connection.execute(
            _EVENTS.update()
            .where(_EVENTS.c.id == row.id)
            .values(action="withdrawn", detail=_reason(str(row.detail).split("; ", 1)[1]))
        )


def _reason(said: str) -> str | None:
    """The editor's words in what the cancel said: "the article was withdrawn (webhook)" has
    none, "the article was withdrawn by ed: Korrektur" has "Korrektur"."""
    if said.startswith("the article was withdrawn ("):
        return None
    if said.startswith("the article was withdrawn by "):
        return said.split(": ", 1)[1] if ": " in said else None
    return said or None


def downgrade() -> None:
    """Downgrade schema."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_EVENTS.c.id, _EVENTS.c.detail, _EVENTS.c.former_state).where(
            _EVENTS.c.action == "withdrawn"
        )
    ).all()
    for row in rows:
        connection.execute(
            _EVENTS.update()
            .where(_EVENTS.c.id == row.id)
            .values(action="cancelled", detail=f"was {row.former_state}; {row.detail or ''}")
        )
