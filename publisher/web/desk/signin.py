"""Signing in and out of the desk: the sign-in form (throttled by `guard`, only a few password
hashes at once), a session opened and closed, and a word when the desk's cookies cannot work
over the address it was opened with."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from publisher.engine.posts.users import check_password, close_session, open_session
from publisher.web.bodies import text_fields
from publisher.web.desk.auth import check_csrf, checked_form
from publisher.web.desk.base import Pages, local_path
from publisher.web.desk.guard import MAX_NAME, SigninGuard

# How long a sign-in waits for its turn to hash before the server says it is busy.
HASHING_WAIT = 10.0
# Longer passwords are nobody's: they are refused without the cost of hashing them.
MAX_PASSWORD = 1_000


def signin_address(request: Request) -> str:
    """Where an editor found signed out is sent: the sign-in page, which leads back to the page
    they were on (for a form, the page it was sent from) and says that their session ended
    when they had one (signed out in another tab, or it ran out)."""
    if request.method == "GET":
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        sent_from = urlsplit(request.headers.get("referer", ""))
        back = sent_from.path + (f"?{sent_from.query}" if sent_from.query else "")
    query = {"next": after_signin(back)}
    # A form sent came from a page the editor had signed in for; a cookie of a closed session
    # was one too (signing out in another tab clears the cookie of every tab).
    if request.method != "GET" or isinstance(request.session.get("session"), str):
        query["ended"] = "1"
    return f"/signin?{urlencode(query)}"


def after_signin(address: str) -> str:
    """The desk's own page to go to after signing in (its front page for anything else)."""
    if not address or address.startswith(("/signin", "/signout")):
        return "/"
    return local_path(address) if local_path(address) == address else "/"


class SignIn:
    """The sign-in page and its form, and signing out."""

    def __init__(self, desk: Pages) -> None:
        self.desk = desk
        self.engine = desk.engine
        self.settings = desk.settings
        self.render = desk.render
        self.t = desk.t
        self.guard = SigninGuard()
        self.router = APIRouter()
        route = self.router.add_api_route
        route("/signin", self.page, methods=["GET"], response_class=HTMLResponse)
        route("/signin", self.form, methods=["POST"])
        # Signing out is a form like any other: a page elsewhere cannot sign an editor out.
        route("/signout", self.out, methods=["POST"], dependencies=[Depends(checked_form)])

    def _https_needed(self, request: Request) -> str | None:
        """Why signing in cannot work here: cookies only over HTTPS, asked for over HTTP (the
        browser would drop the session, and every sign-in would look expired)."""
        if self.settings.desk.secure_cookies is True and request.url.scheme != "https":
            return self.t("signin_https_needed")
        return None

    def page(self, request: Request) -> Response:
        ended = request.query_params.get("ended") == "1"
        context = {
            "error": self._https_needed(request),
            "next": after_signin(request.query_params.get("next", "")),
            "ended": self.t("signin_ended") if ended else None,
        }
        return self.render(request, "signin.html.j2", context)

    async def _again(self, request: Request, error: str, status: int, back: str = "/") -> Response:
        """The sign-in page again, saying why (drawn in a thread: it reads the database)."""
        context: dict[str, Any] = {"error": error, "next": back}
        return await run_in_threadpool(self.render, request, "signin.html.j2", context, status)

    async def form(self, request: Request) -> Response:
        # Asynchronous, unlike the desk's other routes: a sign-in waits its turn to hash
        # without taking one of the threads.
        form = text_fields(await request.form(max_files=0, max_fields=4))
        back = after_signin(str(form.get("next") or ""))
        needed = self._https_needed(request)
        if needed:
            return await self._again(request, needed, 400, back)
        check_csrf(request, str(form.get("csrf") or ""))
        name, password = str(form.get("name") or ""), str(form.get("password") or "")
        address = request.client.host if request.client else "?"
        wait = self.guard.wait(name, address)
        if wait > 0:
            message = (
                self.t("signin_wait_seconds", seconds=math.ceil(wait))
                if wait < 60
                else self.t("signin_throttled", minutes=math.ceil(wait / 60))
            )
            return await self._again(request, message, 429, back)
        user = None
        if len(name) <= MAX_NAME and len(password) <= MAX_PASSWORD:
            async with self.guard.hashing(timeout=HASHING_WAIT) as admitted:
                if not admitted:
                    message = self.t("signin_busy")
                    return await self._again(request, message, 503, back)
                user = await run_in_threadpool(check_password, self.engine, name, password)
        if user is None:
            self.guard.failed(name, address)
            return await self._again(request, self.t("signin_failed"), 401, back)
        self.guard.succeeded(name)
        token = await run_in_threadpool(
            open_session, self.engine, user, self.settings.desk.session_hours
        )
        request.session.clear()
        request.session["session"] = token
        return RedirectResponse(back, status_code=303)

    def out(self, request: Request) -> Response:
        token = request.session.get("session")
        if isinstance(token, str):
            close_session(self.engine, token)
        request.session.clear()
        return RedirectResponse("/signin", status_code=303)
