"""Sign-in throttling: failures per user and per address make the next try wait longer and
longer (never a lockout), what is remembered stays bounded, and no more password hashes run at
once than allowed (each takes 64 MiB), without blocking the event loop while waiting."""

from __future__ import annotations

import time

import anyio

from publisher.web.desk.guard import MAX_NAME, SigninGuard, Throttle

STRICT = Throttle(free=3, first=2.0, longest=100.0)
LOOSE = Throttle(free=100, first=1.0, longest=1.0)


def test_a_user_waits_after_a_few_failures_and_is_free_after_the_window() -> None:
    guard = SigninGuard(per_user=STRICT, per_address=LOOSE, window=60)
    for second in range(3):
        guard.failed("ed", "10.0.0.1", now=float(second))
    assert guard.wait("ed", "10.0.0.2", now=3.0) > 0
    assert guard.wait("ed", "10.0.0.2", now=63.0) == 0


def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_its_ceiling() -> None:
    guard = SigninGuard(per_user=STRICT, per_address=LOOSE, window=10_000)
    waits = []
    for failure in range(10):
        guard.failed("ed", "10.0.0.1", now=float(failure))
        waits.append(guard.wait("ed", "10.0.0.1", now=float(failure)))
    assert waits == [0, 0, 2, 4, 8, 16, 32, 64, 100, 100]


def test_an_address_is_slowed_down_not_locked_out_after_failures_on_any_names() -> None:
    address = Throttle(free=3, first=1.0, longest=60.0)
    guard = SigninGuard(per_user=LOOSE, per_address=address, window=900)
    for number in range(50):
        guard.failed(f"user{number}", "10.0.0.1", now=1.0)
    assert 0 < guard.wait("someone", "10.0.0.1", now=1.0) <= 60
    assert guard.wait("someone", "10.0.0.1", now=61.0) == 0
    assert guard.wait("someone", "10.0.0.9", now=1.0) == 0


def test_a_success_clears_the_users_failures() -> None:
    guard = SigninGuard(per_user=STRICT, per_address=LOOSE, window=60)
    guard.failed("ed", "10.0.0.1", now=1.0)
    guard.failed("ed", "10.0.0.1", now=2.0)
    guard.succeeded("ed")
    guard.failed("ed", "10.0.0.1", now=3.0)
    assert guard.wait("ed", "10.0.0.1", now=4.0) == 0


def test_a_name_longer_than_any_user_has_is_not_remembered() -> None:
    guard = SigninGuard(per_user=STRICT, per_address=LOOSE, window=60)
    for number in range(20):
        guard.failed(f"{number}" + "x" * (MAX_NAME + 1), "10.0.0.1", now=1.0)
    assert len(guard) == 1  # the address alone


def test_failures_older_than_the_window_are_forgotten() -> None:
    guard = SigninGuard(per_user=STRICT, per_address=LOOSE, window=60)
    for number in range(100):
        guard.failed(f"name{number}", f"10.0.0.{number}", now=1.0)
    guard.failed("ed", "10.1.0.1", now=100.0)
    assert len(guard) == 2


def test_no_more_names_are_remembered_than_the_ceiling() -> None:
    guard = SigninGuard(per_user=STRICT, per_address=LOOSE, window=900, max_entries=50)
    for number in range(1_000):
        guard.failed(f"name{number}", "10.0.0.1", now=float(number) / 1_000)
    assert len(guard) <= 50
    assert guard.wait("name999", "10.0.0.9", now=1.0) == 0  # one failure: no wait yet


def test_a_flood_of_cheap_failures_never_wipes_out_a_running_penalty() -> None:
    guard = SigninGuard(per_user=STRICT, per_address=LOOSE, window=900, max_entries=100)
    for _ in range(8):
        guard.failed("anna", "10.9.9.9", now=1.0)
    penalty = guard.wait("anna", "10.9.9.8", now=2.0)
    for number in range(10_400):
        guard.failed(
            "anna" + "x" * (MAX_NAME + number % 3),
            f"10.0.{number // 20 % 256}.{number % 20}",
            now=2.0 + number / 1000,
        )
    assert penalty > 60 and guard.wait("anna", "10.9.9.8", now=13.0) > 40
    assert len(guard) <= 100


def test_no_more_hashes_run_at_once_than_allowed() -> None:
    async def main() -> list[bool]:
        guard = SigninGuard(concurrent=2)
        release = anyio.Event()
        admitted: list[bool] = []

        async def hold() -> None:
            async with guard.hashing(timeout=30) as inside:
                admitted.append(inside)
                await release.wait()

        async with anyio.create_task_group() as group:
            group.start_soon(hold)
            group.start_soon(hold)
            while len(admitted) < 2:
                await anyio.sleep(0.001)
            async with guard.hashing(timeout=0.05) as third:
                admitted.append(third)
            release.set()
        return admitted

    assert anyio.run(main) == [True, True, False]


def test_sign_ins_waiting_for_their_turn_let_the_running_ones_finish() -> None:
    async def main() -> list[bool]:
        guard = SigninGuard(concurrent=2)
        admitted: list[bool] = []

        async def sign_in() -> None:
            async with guard.hashing(timeout=2) as inside:
                admitted.append(inside)
                await anyio.to_thread.run_sync(time.sleep, 0.05)  # a hash, in a thread

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(sign_in)
        return admitted

    assert anyio.run(main) == [True] * 8
