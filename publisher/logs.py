"""Event logs: one line per event, readable text by default or JSON (`--log-format json`),
with UTC timestamps. Nothing logged ever carries a credential."""

from __future__ import annotations

import logging
import sys
import time

from publisher.channels.secrets import redact

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _RedactingHandler(logging.StreamHandler):
    """Writes formatted records with every credential a channel has read replaced by "***",
    exception text included (libraries put tokens in URLs and messages)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


# Line ends and other control characters, as written in a text log: escaped, never raw.
_CONTROL = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in (*range(0x20), 0x7F, 0x85, 0x2028, 0x2029)
}


class _OneLine(logging.Formatter):
    """Text lines whose message keeps to its line: what a client sent (a path with `%0a`, a
    header) is written with its line ends escaped, so it cannot forge a line of its own."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = record.message.translate(_CONTROL)
        return super().formatMessage(record)


def quiet_libraries() -> None:
    """Keep the libraries' chatter that carries credentials out of the log: httpx logs every
    request URL at INFO (a Bot API URL holds the bot token), tweepy logs request headers at
    DEBUG (an OAuth 2 token among them)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("tweepy").setLevel(logging.INFO)


# The format chosen by `setup_logging`, for what is told outside a log record (`tell`).
_chosen = "text"


def tell(message: str, level: int = logging.ERROR) -> None:
    """Tell the operator one line on stderr, as the log's format has it: the line as written in
    text, a JSON record like every other line in JSON (a fatal start error, where it serves)."""
    if _chosen == "json":
        logging.getLogger("publisher").log(level, message.removeprefix("publisher: "))
    else:
        print(message, file=sys.stderr)


def setup_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send publisher's events, and the libraries' warnings, to stderr in the chosen format."""
    global _chosen
    _chosen = log_format
    quiet_libraries()
    handler = _RedactingHandler(sys.stderr)
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        formatter: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    else:
        formatter = _OneLine(TEXT_FORMAT)
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
