"""Fetching pasted URLs: real HTTP on 127.0.0.1, refused unless private networks are allowed."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler

import pytest

from publisher.intake.fetch import FetchError, FetchLimits, fetch
from tests.conftest import LocalServer

OPEN = FetchLimits(allow_private_networks=True, timeout=2.0)


def test_loopback_addresses_are_refused_by_default(server: LocalServer) -> None:
    url = server.serve("/a", b"<html></html>")
    with pytest.raises(FetchError, match="private or local address"):
        fetch(url)


def test_localhost_by_name_is_refused_by_default(server: LocalServer) -> None:
    url = server.serve("/a", b"<html></html>").replace("127.0.0.1", "localhost")
    with pytest.raises(FetchError, match="private or local address"):
        fetch(url)


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.1", "169.254.169.254", "[::1]"])
def test_private_and_link_local_addresses_are_refused(host: str) -> None:
    with pytest.raises(FetchError, match="private or local address"):
        fetch(f"http://{host}/latest/meta-data/")


def test_private_networks_can_be_allowed(server: LocalServer) -> None:
    url = server.serve("/a", b"<html>ok</html>")
    fetched = fetch(url, OPEN)
    assert (fetched.status, fetched.body) == (200, b"<html>ok</html>")


def test_body_over_the_size_cap_is_refused(server: LocalServer) -> None:
    url = server.serve("/big", b"x" * 200_000)
    with pytest.raises(FetchError, match="larger than 100,000 bytes"):
        fetch(url, FetchLimits(allow_private_networks=True, max_bytes=100_000))


def test_slow_server_times_out(server: LocalServer) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(1.5)
        handler.send_response(200)
        handler.end_headers()

    server.routes["/slow"] = slow
    with pytest.raises(FetchError, match="timed out"):
        fetch(server.base + "/slow", FetchLimits(allow_private_networks=True, timeout=0.5))


def test_redirect_loops_stop_at_the_limit(server: LocalServer) -> None:
    def loop(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", "/loop")
        # Without a length an HTTP/1.1 client reads the redirect's body until the socket closes.
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.routes["/loop"] = loop
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(server.base + "/loop", OPEN)


def test_non_http_schemes_are_refused() -> None:
    with pytest.raises(FetchError.__mro__[1], match="not an http"):
        fetch("file:///etc/passwd")


@pytest.mark.parametrize("host", ["[::127.0.0.1]", "[::ffff:127.0.0.1]", "[::10.0.0.1]"])
def test_ipv4_addresses_inside_ipv6_are_refused(host: str) -> None:
    with pytest.raises(FetchError, match="private or local address"):
        fetch(f"http://{host}/")


def test_a_server_trickling_bytes_is_cut_off_at_the_total_time_limit(server: LocalServer) -> None:
    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.2)

    server.routes["/trickle"] = trickle
    started = time.monotonic()
    with pytest.raises(FetchError, match="took longer than 1 s"):
        fetch(server.base + "/trickle", FetchLimits(allow_private_networks=True, timeout=1.0))
    # Left alone the trickle would take 20 s; the margin is for a busy machine.
    assert time.monotonic() - started < 5
