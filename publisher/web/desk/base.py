"""What the desk's groups of pages take from the desk (its words, templates, database and who
is signed in), and where a form may send the editor back to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Engine

from publisher.config import Settings
from publisher.errors import EditorError


class Pages(Protocol):
    """What the overview takes from the desk: its words, its templates and who is signed in."""

    engine: Engine
    settings: Settings
    language: str
    channels: dict[str, Any]
    t: Callable[..., str]

    def render(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response: ...

    def user(self, request: Request) -> Any: ...

    def reason(self, refusal: EditorError) -> str: ...

    async def form_user(self, request: Request) -> Any: ...


def local_path(path: str) -> str:
    """Where to go after an action: a path of the desk's own, else the queue."""
    # A browser reads "/\\host" as "//host", another site.
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/queue"
