"""What the crash tests share: two `publisher run` workers killed with SIGKILL at random moments
and restarted while there is work, then stopped."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Callable


def kill_while_busy(
    start: Callable[[], subprocess.Popen],
    busy: Callable[[], bool],
    kills: int,
    seed: int,
    seconds: float,
    pause: tuple[float, float] = (0.2, 0.6),
) -> int:
    """Run two workers from `start`, kill one at random every `pause` seconds (at most `kills`
    times, restarting it) while `busy` and for at most `seconds`; stop both; how many kills."""
    rng = random.Random(seed)
    workers = [start(), start()]
    done = 0
    deadline = time.monotonic() + seconds
    try:
        while busy() and time.monotonic() < deadline:
            time.sleep(rng.uniform(*pause))
            if done < kills:
                victim = rng.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = start()
                done += 1
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    return done
