"""How a running worker learns that another process changed the queue (a release through the
webhook, an editor at the desk or the command line), so that it looks at once instead of at its
next poll.

PostgreSQL: NOTIFY in the changing transaction, LISTEN in the worker. SQLite has no such thing:
a change is announced after its commit by a datagram to a socket beside the database file
(`publisher.db.wake`), which the worker listens on; `PRAGMA data_version`, polled every
`watch_interval`, remains the safety net when no datagram arrives."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, text

logger = logging.getLogger(__name__)

CHANGE_CHANNEL = "publisher_queue"
_PENDING = "publisher_wake"


def notify_change(connection: Connection) -> None:
    """Tell running workers the queue changed, once the caller's transaction commits."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"NOTIFY {CHANGE_CHANNEL}"))
    else:
        connection.info[_PENDING] = True


def wake_socket_path(engine: Engine) -> Path | None:
    """The socket a worker on this SQLite database listens on (None for other databases)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).expanduser().resolve().with_name(Path(database).name + ".wake")


def other_worker(engine: Engine) -> Path | None:
    """The wake socket of a worker already running on this SQLite database, if one is (None on
    other databases): SQLite takes one worker at a time."""
    path = wake_socket_path(engine)
    if path is None or not hasattr(socket, "AF_UNIX") or not path.exists():
        return None
    return path if _answers(path) else None


def announce_commits(engine: Engine) -> None:
    """Send the wake datagram after each commit that changed the queue (SQLite engines)."""
    path = wake_socket_path(engine)
    if path is None or not hasattr(socket, "AF_UNIX"):
        return
    address = str(path)

    @event.listens_for(engine, "rollback")
    def _forget(connection: Connection) -> None:
        connection.info.pop(_PENDING, None)

    # A failed transaction announces nothing; a committed one announces when its connection
    # returns to the pool, which is after the commit (the commit event fires before it).
    @event.listens_for(engine.pool, "checkin")
    def _send(dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_PENDING, False):
            with (
                contextlib.suppress(OSError),
                socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s,
            ):
                s.setblocking(False)
                s.sendto(b"w", address)


# Seconds before listening again after the database went away, doubling up to the last.
RELISTEN_FIRST = 0.5
RELISTEN_LAST = 5.0


class WakeListener:
    """The worker's ear for changes: PostgreSQL's LISTEN, or the SQLite wake socket; calls
    `on_wake` for each. Without either (another worker holds the socket, or the platform has
    none) it does nothing and the poll alone notices changes."""

    def __init__(self, engine: Engine, on_wake: Callable[[], None]) -> None:
        self.engine = engine
        self.path = wake_socket_path(engine)
        self.on_wake = on_wake
        self.sock: socket.socket | None = None
        self.listening: Any = None
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.engine.dialect.name == "postgresql":
            self._listen()
            target: Callable[[], None] = self._notifications
        elif self._bind():
            target = self._datagrams
        else:
            return
        self.thread = threading.Thread(target=target, name="wake", daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        """A connection of its own that LISTENs for the queue's changes."""
        self.listening = self.engine.raw_connection()
        driver = self.listening.driver_connection
        driver.autocommit = True
        driver.execute(f"LISTEN {CHANGE_CHANNEL}")

    def _bind(self) -> bool:
        if self.path is None or not hasattr(socket, "AF_UNIX"):
            return False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            if self.path.exists() and not _answers(self.path):
                self.path.unlink()
            sock.bind(str(self.path))
        except OSError as exc:
            sock.close()
            logger.info("no wake socket at %s (%s); polling only", self.path, exc.strerror)
            return False
        self.sock = sock
        return True

    def _datagrams(self) -> None:
        assert self.sock is not None
        while not self.stopped.is_set():
            try:
                self.sock.recv(16)
            except OSError:
                return
            self.on_wake()

    def _notifications(self) -> None:
        """Wake for each notification; when the database goes away (a restart, a cut), listen
        again as soon as it answers, waking once then for what may have changed meanwhile."""
        while not self.stopped.is_set():
            try:
                for _ in self.listening.driver_connection.notifies(timeout=0.5, stop_after=1):
                    self.on_wake()
            except Exception as exc:  # the connection went away: the poll carries on alone
                if self.stopped.is_set():
                    return
                logger.warning(
                    "listening for queue changes stopped (%s): listening again once the "
                    "database answers; the poll notices changes meanwhile",
                    type(exc).__name__,
                )
                self._listen_again()

    def _listen_again(self) -> None:
        with contextlib.suppress(Exception):
            self.listening.invalidate()
        wait = RELISTEN_FIRST
        while not self.stopped.wait(wait):
            try:
                self._listen()
            except Exception:  # still away: try again a little later
                wait = min(wait * 2, RELISTEN_LAST)
                continue
            logger.info("listening for queue changes again")
            self.on_wake()
            return

    def stop(self) -> None:
        self.stopped.set()
        if self.sock is not None:
            # A datagram of our own ends the blocked recv (shutdown does not, unconnected).
            with (
                contextlib.suppress(OSError),
                socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender,
            ):
                sender.sendto(b"x", str(self.path))
            if self.thread is not None:
                self.thread.join(2)
            self.sock.close()
            with contextlib.suppress(OSError):
                os.unlink(str(self.path))
            self.sock = None
        elif self.thread is not None:
            self.thread.join(2)
        if self.listening is not None:
            self.listening.close()


def _answers(path: Path) -> bool:
    """Whether a worker is bound to the socket at `path` (a stale file from a killed worker
    refuses the datagram)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


class ChangeWatcher:
    """The safety net on SQLite: `PRAGMA data_version` changes with every commit of another
    connection (PostgreSQL's notifications reach the WakeListener at once)."""

    def __init__(self, engine: Engine) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        self.connection = engine.raw_connection() if self.sqlite else None
        self._version = self._data_version()

    def _data_version(self) -> int:
        if self.connection is None or self.connection.driver_connection is None:
            return 0
        return int(self.connection.driver_connection.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        if self.connection is None:
            return False
        version = self._data_version()
        changed, self._version = version != self._version, version
        return changed

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
