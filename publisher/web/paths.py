"""Which of the app's addresses speak JSON: those scripts, hooks and pages embedding the widget
call (and static files, which no editor reads as a page). Every answer given before or instead
of a route (a refusal at the door, a missing page, a malformed address, a sign-in asked for)
takes its form from here: JSON `{"error": ...}` for these, a page in the desk's words else."""

from __future__ import annotations

_JSON_PREFIXES = ("/api/", "/hooks/", "/widget", "/static/")


def speaks_json(path: str) -> bool:
    """Whether an answer to `path` is JSON rather than a desk page."""
    return path.startswith(_JSON_PREFIXES)


def is_hook(path: str) -> bool:
    """Whether `path` is a webhook's (signed by its sender, never signed in)."""
    return path.startswith("/hooks/")
