"""What the desk's groups of pages take from the desk (its words, templates, database and who
is signed in), where a form may send the editor back to, and the days an address may name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from publisher.clock import FIRST_DAY, LAST_DAY
from publisher.config import Settings
from publisher.engine.storage.rowids import MAX_ROW_ID
from publisher.errors import EditorError
from publisher.web.desk.auth import signed_in
from publisher.web.desk.turns import TAKE_TURN
from publisher.web.desk.words import Words

# A post's or an article's number in an address: a number no row can have is no page.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


class Pages(Protocol):
    """What the overview takes from the desk: its words, its templates and who is signed in."""

    engine: Engine
    settings: Settings
    language: str
    channels: dict[str, Any]
    every_channel: dict[str, Any]
    t: Callable[..., str]

    def render(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response: ...

    def reason(self, refusal: EditorError) -> str: ...

    @property
    def words(self) -> Words: ...


class PageGroup:
    """A group of the desk's pages for signed-in editors: the desk it belongs to, the queue's
    database, the newsroom's settings, and the router its routes go on (each request signed in
    and taking its turn)."""

    def __init__(self, desk: Pages) -> None:
        self.desk = desk
        self.engine = desk.engine
        self.settings = desk.settings
        self.router = APIRouter(dependencies=[Depends(signed_in), TAKE_TURN])


def local_path(path: str) -> str:
    """Where to go after an action: a path of the desk's own, else the queue."""
    # A browser reads "/\\host" as "//host", another site.
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/queue"


def day_in_address(text: str | None) -> date | None:
    """The day an address names (`?day=2026-12-01`, `?start=…`), or None when it names none
    the desk can show: not a date, or so far out that the days around it are not there."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None
