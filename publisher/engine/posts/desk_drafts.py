"""The desk's drafts: what an editor chose and typed on an article's page before queueing it,
kept in the database as they type (per editor and article, so every tab of theirs shares it and
a session that ends loses nothing), and let go once the article is queued or they discard it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, and_, delete, select

from publisher.clock import utcnow
from publisher.engine.storage.schema import desk_drafts, upsert


@dataclass(frozen=True)
class DeskDraft:
    """An article page's fields as the editor left them, and when."""

    fields: dict[str, str]
    updated_at: datetime


def keep(engine: Engine, editor: str, article_id: int, fields: dict[str, str]) -> None:
    """Keep the editor's fields for the article, replacing what was kept."""
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            upsert(connection, desk_drafts)
            .values(editor=editor, article_id=article_id, fields=fields, updated_at=now)
            .on_conflict_do_update(
                index_elements=["editor", "article_id"],
                set_={"fields": fields, "updated_at": now},
            )
        )


def kept(engine: Engine, editor: str, article_id: int) -> DeskDraft | None:
    """The editor's draft of the article, or None."""
    with engine.connect() as connection:
        row = connection.execute(
            select(desk_drafts.c.fields, desk_drafts.c.updated_at).where(_of(editor, article_id))
        ).first()
    return None if row is None else DeskDraft(dict(row.fields), row.updated_at)


def let_go(engine: Engine, editor: str, article_id: int) -> None:
    """Forget the editor's draft of the article (queued, or discarded)."""
    with engine.begin() as connection:
        connection.execute(delete(desk_drafts).where(_of(editor, article_id)))


def _of(editor: str, article_id: int) -> ColumnElement[bool]:
    return and_(desk_drafts.c.editor == editor, desk_drafts.c.article_id == article_id)
