"""Who is at the desk: the signed-in user from the session cookie (or the reverse proxy's header,
when trusted), CSRF tokens for every form and API call, and the approver role."""

from __future__ import annotations

import hmac
import secrets
from ipaddress import ip_address, ip_network

from fastapi import Request
from sqlalchemy import Engine

from publisher.config import Settings
from publisher.web.proxies import PEER
from publisher.web.users import User, find_user, session_user


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


def require_approver(user: User) -> None:
    if not user.approver:
        raise Forbidden("approver_only")
