"""Credentials: read from the environment only, and remembered so that nothing a channel writes
(logs, delivery records, error messages) ever carries one."""

from __future__ import annotations

import os
import threading

from publisher.channels.base import ChannelError

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def secret(name: str, variable: str) -> str:
    """The credential in environment variable `variable`; remembered so that `redact` keeps it
    out of logs, delivery records and error messages. Raises an auth ChannelError if unset."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise ChannelError("auth", f"{name}: environment variable {variable} is not set")
    with _secrets_lock:
        _secrets.add(value)
    return value


def redact(text: str) -> str:
    """`text` with every credential a channel has read replaced by "***"."""
    for value in sorted(_secrets, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return text
