"""Sign-in throttling: failures per user and per address within a window, and a bound on how many
password hashes are computed at once (each takes 64 MiB)."""

from __future__ import annotations

import threading

from publisher.web.desk.guard import SigninGuard


def test_a_user_is_held_after_too_many_failures_and_free_after_the_window() -> None:
    guard = SigninGuard(per_user=3, per_address=100, window=60, concurrent=2)
    for second in range(3):
        guard.failed("ed", "10.0.0.1", now=float(second))
    assert guard.wait("ed", "10.0.0.2", now=10.0) > 0
    assert guard.wait("ed", "10.0.0.2", now=61.0) == 0


def test_an_address_is_held_after_too_many_failures_on_any_names() -> None:
    guard = SigninGuard(per_user=100, per_address=3, window=60, concurrent=2)
    for number in range(3):
        guard.failed(f"user{number}", "10.0.0.1", now=1.0)
    assert guard.wait("someone", "10.0.0.1", now=2.0) > 0
    assert guard.wait("someone", "10.0.0.9", now=2.0) == 0


def test_a_success_clears_the_users_failures() -> None:
    guard = SigninGuard(per_user=3, per_address=100, window=60, concurrent=2)
    guard.failed("ed", "10.0.0.1", now=1.0)
    guard.failed("ed", "10.0.0.1", now=2.0)
    guard.succeeded("ed")
    guard.failed("ed", "10.0.0.1", now=3.0)
    assert guard.wait("ed", "10.0.0.1", now=4.0) == 0


def test_no_more_hashes_run_at_once_than_allowed() -> None:
    guard = SigninGuard(per_user=100, per_address=100, window=60, concurrent=2)
    release = threading.Event()
    inside = []

    def hold() -> None:
        with guard.hashing(timeout=5) as admitted:
            inside.append(admitted)
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    while len(inside) < 2:
        pass
    with guard.hashing(timeout=0.05) as admitted:
        assert not admitted
    release.set()
    for thread in threads:
        thread.join()
    assert inside == [True, True]
