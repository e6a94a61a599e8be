"""What a command hands back: a :class:`Result`, or a :class:`CLIError`.

Commands compute; they print nothing.  :func:`keras_deser.cli.main` renders
a result as text or, with ``--json``, as one JSON document.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ..testing import jsonable

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "CLIError", "Result", "dump_json"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def dump_json(document: Any, sort_keys: bool = True) -> str:
    """The JSON text the command prints (one document, ends with a newline)."""
    return json.dumps(document, indent=1, sort_keys=sort_keys, default=jsonable) + "\n"


class CLIError(Exception):
    """A failure reported to the user: message, exit code and where.

    ``path`` is a key path in the config (:mod:`keras_deser.keypath`'s
    syntax) or, for an HDF5 attribute, where in the file.
    """

    def __init__(
        self,
        message: str,
        code: int = EXIT_FAILURE,
        file: str | None = None,
        path: str | None = None,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.file = file
        self.path = path
        self.hint = hint
        self.details = details  # extra JSON-able facts (safe mode: the unsafe findings)

    def as_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "message": self.message,
            "exit_code": self.code,
            "file": self.file,
            "path": self.path,
            "hint": self.hint,
        }
        if self.details:
            document.update(self.details)
        return document

    def render(self, command: str) -> str:
        where = ""
        if self.file:
            where += f"{self.file}: "
        if self.path:
            where += f"at {self.path}: "
        text = f"keras-deser {command}: {where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class Result:
    """A command's outcome: the ``--json`` document, the exit code, the text.

    ``document`` is exactly what ``--json`` prints (with ``"ok"`` added);
    ``facts`` holds what only the text shows; ``text`` renders the result.
    """

    def __init__(
        self,
        document: dict[str, Any],
        code: int,
        text: Callable[[Result], str],
        facts: dict[str, Any] | None = None,
    ) -> None:
        self.document = document
        self.code = code
        self.facts = facts or {}
        self._text = text

    @property
    def ok(self) -> bool:
        return self.code == EXIT_OK

    def render_text(self) -> str:
        return self._text(self)

    def render_json(self) -> str:
        document = {"ok": self.ok}
        document.update(self.document)
        return dump_json(document)
