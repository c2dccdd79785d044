"""The one base of every error an editor can fix (a bad file, a time in the past, an unknown
channel, a locked database): its message is one sentence meant for them. Everything that is not
an EditorError is a bug, and the CLI, the bot and the desk never dress a bug up as a refusal."""

from __future__ import annotations


class EditorError(Exception):
    """Something an editor can put right; the message says what, in one line (the command line
    prints it). With a `key`, the desk and the bot tell it from the message catalogue in the
    editor's language, filled with `values`."""

    def __init__(self, message: str, *, key: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values
