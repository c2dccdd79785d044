"""The server's door, over real sockets to uvicorn: a large body that nobody vouches for (no open
session, no signature) is answered before it is read; a body that pauses and a request head that
never ends close their connection; an editor's large upload still goes in."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests

from publisher.engine.posts.users import add_user
from publisher.web import bodies, serving
from tests.desk_helpers import PASSWORD, desk_settings, served, token

MEGABYTES = 5_000_000


@pytest.fixture
def door(engine, database_url, monkeypatch) -> Iterator[tuple[str, int]]:
    """The desk served by uvicorn, with an editor: its host and port."""
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", "whsec-door")
    monkeypatch.setattr(bodies, "BODY_PAUSE", 0.5)
    monkeypatch.setattr(serving, "HEAD_SECONDS", 0.5)
    add_user(engine, "ed", PASSWORD, "editor")
    with served(engine, desk_settings(database_url)) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


def connect(address: tuple[str, int]) -> socket.socket:
    connection = socket.create_connection(address)
    connection.settimeout(10)
    return connection


def answer_of(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65_536):
        received += chunk
    return received


def head(path: str, length: int, *extra: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {length}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_an_upload_of_megabytes_without_a_session_is_answered_before_it_is_sent(door) -> None:
    with connect(door) as connection:
        connection.sendall(head("/intake", MEGABYTES, "Content-Type: multipart/form-data; b=x"))
        answer = answer_of(connection)  # no byte of the body sent: the server closes
    assert answer.startswith(b"HTTP/1.1 303") and b"location: /signin" in answer.lower()


def test_a_signed_out_browser_sending_megabytes_is_led_to_the_sign_in_page_not_reset(
    door,
) -> None:
    base = f"http://{door[0]}:{door[1]}"
    page = requests.post(f"{base}/intake", files={"file": ("d.txt", b"x" * MEGABYTES)}, timeout=30)
    assert page.url == f"{base}/signin" and 'name="password"' in page.text


def test_a_body_without_a_length_and_without_a_session_is_read_no_further_than_a_form(
    door,
) -> None:
    with connect(door) as connection:
        connection.sendall(
            b"POST /intake HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
        )
        for _ in range(8):  # 80 KB, past what a stranger may send
            connection.sendall(b"2710\r\n" + b"x" * 10_000 + b"\r\n")
        answer = answer_of(connection)
    assert answer.startswith(b"HTTP/1.1 303")


def test_an_unsigned_hook_of_megabytes_is_refused_before_it_is_sent(door) -> None:
    with connect(door) as connection:
        connection.sendall(head("/hooks/articles", MEGABYTES, "Content-Type: application/json"))
        answer = answer_of(connection)
    assert answer.startswith(b"HTTP/1.1 401") and b"not signed" in answer


def test_a_body_that_pauses_is_answered_and_its_connection_closed(door) -> None:
    with connect(door) as connection:
        connection.sendall(head("/signin", 100, "Content-Type: application/x-www-form-urlencoded"))
        connection.sendall(b"name=ed")  # and then nothing more
        answer = answer_of(connection)
    assert answer.startswith(b"HTTP/1.1 408") and b"too slowly" in answer


@pytest.mark.parametrize("sent", [b"", b"POST /intake HTTP/1.1\r\nHost: x\r\n"])
def test_a_connection_that_sends_no_whole_request_head_is_closed(door, sent: bytes) -> None:
    with connect(door) as connection:
        connection.sendall(sent)
        assert answer_of(connection) == b""


def test_a_signed_in_editor_uploads_a_file_of_megabytes(door) -> None:
    base = f"http://{door[0]}:{door[1]}"
    session = requests.Session()
    form = session.get(f"{base}/signin", timeout=30).text
    signed = session.post(
        f"{base}/signin", data={"name": "ed", "password": PASSWORD, "csrf": token(form)}
    )
    text = b"# Ein langes Dossier\n\n" + b"Ein Absatz mit Worten.\n\n" * 100_000
    page = session.post(
        f"{base}/intake",
        data={"csrf": token(signed.text), "url": "https://e.de/dossier"},
        files={"file": ("d.txt", text)},
    )
    assert page.url.endswith("/articles/1") and "Ein langes Dossier" in page.text, page.text[-2500:]
