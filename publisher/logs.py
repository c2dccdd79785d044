"""Event logs: one line per event, readable text by default or JSON (`--log-format json`),
with UTC timestamps. Nothing logged ever carries a credential."""

from __future__ import annotations

import logging
import sys
import time

from pythonjsonlogger.json import JsonFormatter

from channels.base import redact

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _RedactingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes formatted records with every credential a channel has read replaced by "***",
    exception text included (libraries put tokens in URLs and messages)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send publisher's events, and the libraries' warnings, to stderr in the chosen format."""
    handler = _RedactingHandler(sys.stderr)
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    else:
        formatter = logging.Formatter(TEXT_FORMAT)
    formatter.converter = time.gmtime
    formatter.default_time_format = "%Y-%m-%dT%H:%M:%S"
    formatter.default_msec_format = "%s.%03dZ"
    handler.setFormatter(formatter)
    ours = logging.getLogger("publisher")
    ours.handlers[:] = [handler]
    ours.setLevel(level)
    ours.propagate = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
