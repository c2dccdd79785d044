"""The door of the newsroom's app: how much each path takes, who vouches for a request before its
body is read (the desk's session, the CMS's signature headers, Meta's signature header), and the
answers to a request refused there (too large, nobody vouching, too slow) in the words of whoever
sent it: JSON for scripts and hooks, a desk page for editors."""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import Headers
from starlette.types import Scope

from publisher.channels.whatsapp_events import SIGNATURE_HEADER as META_SIGNATURE_HEADER
from publisher.config import Settings
from publisher.web.desk import body_limit, message_page, too_large
from publisher.web.desk.auth import vouched
from publisher.web.paths import is_hook, speaks_json
from publisher.web.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, timely

logger = logging.getLogger(__name__)


class NewsroomDoor:
    """The `bodies.Door` of the app `create_app` makes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def limit(self, path: str) -> int:
        if is_hook(path):
            return self.settings.serve.max_body
        return body_limit(self.settings, path)

    def refuse(self, path: str, limit: int) -> Response:
        if speaks_json(path):
            return _refused(path, 413, f"the body is larger than {limit:,} bytes")
        return too_large(self.settings, limit)

    async def vouch(self, scope: Scope) -> Response | None:
        path = scope["path"]
        if is_hook(path):
            if self._signed(path, Headers(scope=scope)):
                return None
            return _refused(path, 401, "the request is not signed")
        if await vouched(scope):
            return None
        if speaks_json(path):
            return _refused(path, 401, "sign in first")
        return RedirectResponse("/signin", status_code=303)

    def slow(self, path: str) -> Response:
        if speaks_json(path):
            return _refused(path, 408, "the body paused or came too slowly")
        return message_page(self.settings, "body_too_slow", 408)

    def _signed(self, path: str, headers: Headers) -> bool:
        """Whether a hook's request carries its signature's headers, well formed and (the CMS's)
        timely; the signature itself is checked against the body once it is read."""
        if path != "/hooks/articles":
            return bool(headers.get(META_SIGNATURE_HEADER))
        try:
            timely(
                headers.get(TIMESTAMP_HEADER),
                headers.get(SIGNATURE_HEADER),
                window=self.settings.serve.replay_window,
            )
        except SignatureError:
            return False
        return True


def _refused(path: str, status: int, message: str) -> Response:
    logger.warning("request to %s refused (%d): %s", path, status, message)
    return JSONResponse({"error": message}, status_code=status)
