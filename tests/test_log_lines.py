"""The text log keeps one event to one line: what a client sent (a path with `%0a`) is written
with its line ends escaped, so no request can forge a line of the log."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from publisher.logs import setup_logging


@pytest.fixture
def text_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    written = io.StringIO()
    monkeypatch.setattr("sys.stderr", written)
    ours = logging.getLogger("publisher")
    saved = ours.handlers[:], ours.level, ours.propagate, logging.getLogger().handlers[:]
    setup_logging("text")
    yield written
    ours.handlers[:], ours.level, ours.propagate = saved[0], saved[1], saved[2]
    logging.getLogger().handlers[:] = saved[3]


def test_a_path_with_a_line_end_stays_on_its_line(text_log: io.StringIO) -> None:
    forged = "/widget/x\n2026-12-07T00:00:00.000Z INFO    publisher.release: released"
    logging.getLogger("publisher.web").warning("request to %s refused (404)", forged)
    lines = text_log.getvalue().splitlines()
    assert len(lines) == 1 and "\\x0a" in lines[0]
