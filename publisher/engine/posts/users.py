"""Editors of the web desk: add, list, remove, and check a password. Passwords are hashed with
argon2 (argon2-cffi); the hash alone is stored. Roles: editor (queue, edit) and approver (also
approve, pause and resume channels)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select, update

from publisher.clock import utcnow
from publisher.engine.storage.schema import desk_sessions, users
from publisher.errors import EditorError

Role = Literal["editor", "approver"]
ROLES: tuple[Role, ...] = ("editor", "approver")
MIN_PASSWORD = 10
_hasher = PasswordHasher()


class UserError(EditorError):
    """A user cannot be added, removed or found; the message says why."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    @property
    def approver(self) -> bool:
        return self.role == "approver"


def add_user(engine: Engine, name: str, password: str | None, role: Role) -> User:
    """Add (or update) a user; without a password, only the proxy's sign-in header admits them.
    Updating one ends every session they have open: a password reset after a leak must lock
    out whoever holds the old one's session, and a changed role takes effect at once."""
    name = name.strip()
    if not name or len(name) > 200:
        raise UserError("a user name is 1 to 200 characters")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    hashed = _hasher.hash(password) if password is not None else None
    with engine.begin() as connection:
        exists = connection.execute(select(users.c.name).where(users.c.name == name)).first()
        values = {"password_hash": hashed, "role": role}
        if exists:
            connection.execute(update(users).where(users.c.name == name).values(values))
            connection.execute(delete(desk_sessions).where(desk_sessions.c.user == name))
        else:
            connection.execute(insert(users).values(name=name, created_at=utcnow(), **values))
    return User(name, role)


def list_users(engine: Engine) -> list[dict[str, str | bool]]:
    with engine.connect() as connection:
        rows = connection.execute(select(users).order_by(users.c.name)).all()
    return [{"name": r.name, "role": r.role, "password": r.password_hash is not None} for r in rows]


def remove_user(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        if connection.execute(delete(users).where(users.c.name == name)).rowcount == 0:
            raise UserError(f"no user {name!r}")
        connection.execute(delete(desk_sessions).where(desk_sessions.c.user == name))


def _session_id(token: str) -> str:
    # Only a hash is stored: the database alone does not let anyone take over a session.
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(engine: Engine, user: User, hours: float) -> str:
    """A new signed-in session for `user`; the returned token goes into the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(delete(desk_sessions).where(desk_sessions.c.expires_at < now))
        connection.execute(
            insert(desk_sessions).values(
                id=_session_id(token),
                user=user.name,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return token


def session_user(engine: Engine, token: str) -> User | None:
    """The user of a session that is still open, else None."""
    with engine.connect() as connection:
        row = connection.execute(
            select(users.c.name, users.c.role)
            .join(desk_sessions, desk_sessions.c.user == users.c.name)
            .where(desk_sessions.c.id == _session_id(token), desk_sessions.c.expires_at > utcnow())
        ).first()
    return User(row.name, row.role) if row else None


def close_session(engine: Engine, token: str) -> None:
    """End a session: every copy of its cookie is worthless from now on."""
    with engine.begin() as connection:
        connection.execute(delete(desk_sessions).where(desk_sessions.c.id == _session_id(token)))


def find_user(engine: Engine, name: str) -> User | None:
    with engine.connect() as connection:
        row = connection.execute(select(users).where(users.c.name == name)).first()
    return User(row.name, row.role) if row else None


def check_password(engine: Engine, name: str, password: str) -> User | None:
    """The user, if the password is theirs; None otherwise (same answer for unknown names)."""
    with engine.connect() as connection:
        row = connection.execute(select(users).where(users.c.name == name)).first()
    stored = row.password_hash if row else None
    try:
        # Unknown names are checked against a dummy hash too, so timing does not tell them apart.
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return User(row.name, row.role) if row and stored else None


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password of anyone")
