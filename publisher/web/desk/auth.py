"""Who is at the desk: the signed-in user from the session cookie (or the reverse proxy's header,
when trusted), CSRF tokens for every form and API call, and the approver role; as FastAPI
dependencies (`DeskUser`, `CheckedForm`, `CheckedUpload`, `ApiUser`) that the desk's routes
declare."""

from __future__ import annotations

import hmac
import secrets
from ipaddress import ip_address, ip_network
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.types import Scope

from publisher.config import Settings
from publisher.engine.posts.users import User, find_user, session_user
from publisher.web.bodies import text_fields
from publisher.web.proxies import PEER

# Fields a desk form may have (a page of ticked posts, an article's texts for every channel).
FORM_FIELDS = 300


class SignedOut(Exception):
    """No user: pages answer with the sign-in page, the API with 401."""


class Forbidden(Exception):
    """A missing or wrong CSRF token, or an action beyond the user's role."""

    def __init__(self, message_key: str) -> None:
        super().__init__(message_key)
        self.message_key = message_key


def _from_trusted_proxy(request: Request, settings: Settings) -> bool:
    # The peer as it connected: the proxy itself, whatever client it forwards for.
    peer = request.scope.get(PEER) or (request.client.host if request.client else None)
    try:
        address = ip_address(peer or "")
    except ValueError:
        return False
    return any(address in ip_network(n, strict=False) for n in settings.desk.trusted_proxies)


def current_user(request: Request, engine: Engine, settings: Settings) -> User:
    """The user making this request: the proxy's sign-in header when it comes from a trusted
    proxy address (a user of the desk, with their role: the header admits nobody else), else
    the open session of the cookie. Looked up on every request, so removing a user or signing
    out takes effect at once."""
    header = settings.desk.trusted_user_header
    if header and request.headers.get(header) and _from_trusted_proxy(request, settings):
        name = request.headers[header].strip()
        user = find_user(engine, name)
        if user is None:
            raise Forbidden("not_a_desk_user")
        return user
    token = request.session.get("session")
    user = session_user(engine, token) if isinstance(token, str) else None
    if user is None:
        raise SignedOut
    return user


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("forbidden")


# How many forms a session remembers having carried out, against a reload sending one again.
REMEMBERED_FORMS = 20


def form_once() -> str:
    """A new form's own token: sent back with it, it is carried out once (`first_use`)."""
    return secrets.token_urlsafe(12)


def first_use(request: Request, once: str) -> bool:
    """Whether the form with token `once` is sent for the first time in this session (a page
    reloaded after a form sends it again); remembers it from now on."""
    used = request.session.get("used_forms")
    used = list(used) if isinstance(used, list) else []
    if once in used:
        return False
    request.session["used_forms"] = [*used, once][-REMEMBERED_FORMS:]
    return True


async def vouched(scope: Scope) -> bool:
    """Whether a request comes from a user of the desk (as `current_user` finds), asked before
    its body is read; when the database cannot tell, the route's own lookup answers."""
    request = Request(scope)
    state = request.app.state

    def is_user() -> bool:
        try:
            current_user(request, state.engine, state.settings)
        except (SignedOut, Forbidden):
            return False
        except SQLAlchemyError:
            return True
        return True

    return await run_in_threadpool(is_user)


# --- as the routes declare them --------------------------------------------------------------


def signed_in(request: Request) -> User:
    """The editor making this request, or `SignedOut`. A plain function: FastAPI runs it in its
    thread pool, so the lookup never holds up the event loop."""
    state = request.app.state
    user = current_user(request, state.engine, state.settings)
    # For the page's header, which every template shows.
    request.scope["desk_user"] = user
    return user


DeskUser = Annotated[User, Depends(signed_in)]


async def _form(request: Request, files: int) -> FormData:
    form = text_fields(await request.form(max_files=files, max_fields=FORM_FIELDS))
    check_csrf(request, str(form.get("csrf") or ""))
    return form


async def checked_form(request: Request, user: DeskUser) -> FormData:
    """A form post's fields (a page's worth, no file), after the signed-in user is known and its
    CSRF token is checked."""
    return await _form(request, files=0)


async def checked_upload(request: Request, user: DeskUser) -> FormData:
    """As `checked_form`, for the one form that takes a file (the intake)."""
    return await _form(request, files=1)


CheckedForm = Annotated[FormData, Depends(checked_form)]
CheckedUpload = Annotated[FormData, Depends(checked_upload)]


def api_user(request: Request, user: DeskUser) -> User:
    """The user of one of the desk's own JSON calls, whose CSRF token comes in a header."""
    check_csrf(request, request.headers.get("x-csrf-token"))
    return user


ApiUser = Annotated[User, Depends(api_user)]
