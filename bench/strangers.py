"""What strangers' connections cost the server: 60 uploads of 5 MB sent slowly without a session
(and 60 connections that send half a request head), against the desk served by uvicorn in this
process. Prints the process's memory before, while they are open, and after, and how many of
them the server had closed.

    .venv/bin/python bench/strangers.py
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from publisher.config import Settings
from publisher.engine.storage.store import open_engine
from publisher.web.app import create_app
from publisher.web.serving import HEAD_SECONDS, ServerThread

STRANGERS = 60
UPLOAD = 5_000_000
CHUNK = 64_000


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def closed(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        while connection.recv(65_536):
            pass
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True


def main() -> None:
    os.environ.setdefault("PUBLISHER_SESSION_SECRET", "bench-session-secret-0123456789")
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/bench.db"
    server = ServerThread(create_app(open_engine(url), Settings(database_url=url)), "127.0.0.1", 0)
    server.start()
    address = ("127.0.0.1", server.port)
    print(f"before: {resident_mb():.0f} MB")
    uploads = []
    for _ in range(STRANGERS):
        connection = socket.create_connection(address)
        connection.sendall(
            b"POST /intake HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
        )
        uploads.append(connection)
    halves = []
    for _ in range(STRANGERS):
        connection = socket.create_connection(address)
        connection.sendall(b"POST /intake HTTP/1.1\r\nHost: x\r\n")
        halves.append(connection)
    sent = 0
    while sent < UPLOAD:
        for connection in uploads:
            with contextlib.suppress(OSError):
                connection.sendall(f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n")
        sent += CHUNK
        time.sleep(0.05)
        if sent == CHUNK * 4:
            print(f"while {STRANGERS} uploads of 5 MB trickle in: {resident_mb():.0f} MB")
    time.sleep(HEAD_SECONDS + 1)
    print(f"after: {resident_mb():.0f} MB")
    print(f"uploads answered and closed by the server: {sum(map(closed, uploads))}/{STRANGERS}")
    print(
        f"half-sent heads closed after {HEAD_SECONDS:.0f} s: {sum(map(closed, halves))}/{STRANGERS}"
    )
    server.stop()


if __name__ == "__main__":
    main()
