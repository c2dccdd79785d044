"""How many of the desk's requests are worked on at once. The rest wait their turn on the event
loop, holding no thread: a calendar of thousands of posts takes the processor while it is drawn,
and the desk's pages may not crowd out the CMS webhook, which waits for no turn."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends

# Python runs one thread's code at a time, and the database shares the machine: with one page
# drawn at a time, a release through the webhook while four editors load a month of 10,000
# posts answers within 100 ms (bench/webhook_under_load.py); with two, it took 170 ms.
PAGES_AT_ONCE = 1


async def _turn() -> AsyncIterator[None]:
    yield


# One object for every route that declares it: FastAPI shares a `Depends`'s limit between
# them, and the turn is held until the route's function has returned (`scope="function"`).
TAKE_TURN = Depends(_turn, scope="function", max_concurrency=PAGES_AT_ONCE)
