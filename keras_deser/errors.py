"""Errors that say what and where, without changing what Keras 2.9 raises.

A failure anywhere in a nested config keeps Keras 2.9's exception type and
message (``str(error)`` is unchanged); keras_deser adds PEP 678 notes
(``error.add_note``; ``__notes__`` before Python 3.11):

* the key path from the outermost config to the failing entry, e.g.
  ``config['config']['layers'][3]['config']['kernel_initializer']``;
* for an unknown name, "did you mean" suggestions from the names that were
  available (registry, ``custom_objects``, ``module_objects``).

Paths are rendered by :mod:`keras_deser.keypath`, the one syntax keras_deser
shows.  What the notes say is also readable as data: :func:`key_path` gives
the keys of the path (``('config', 'layers', 3)``) and :func:`unknown_name`
the kind and name of an unresolvable name (``('layer', 'MyLayer')``).

Configs nested deeper than Python's recursion limit raise
:class:`ConfigTooDeepError` (a ``ValueError``) instead of a
``RecursionError`` from deep inside keras_deser.
"""

from __future__ import annotations

import sys
from typing import Any, Iterable

from .keypath import path_text

__all__ = [
    "ConfigTooDeepError",
    "add_note",
    "annotate",
    "key_path",
    "mark_unknown",
    "note_suggestions",
    "unknown_name",
]

_CHAIN = "_keras_deser_chain"
_PATH_NOTE = "_keras_deser_path_note"
_UNKNOWN = "_keras_deser_unknown"
#: Nesting levels beyond which the path is not traced any further.
MAX_TRACED_LEVELS = 256
#: Containers searched, at most, to place one level inside the next.
_MAX_SEARCH = 100_000


class ConfigTooDeepError(ValueError):
    """The config is nested deeper than Python's recursion limit allows."""


def add_note(error: BaseException, text: str) -> None:
    """Attach ``text`` as a PEP 678 note, on any Python."""
    if hasattr(error, "add_note"):
        error.add_note(text)
        return
    notes = getattr(error, "__notes__", None)
    if not isinstance(notes, list):
        notes = []
        try:
            setattr(error, "__notes__", notes)  # noqa: B010 (before Python 3.11 BaseException declares no __notes__)
        except AttributeError:
            return
    notes.append(text)


def _replace_note(error: BaseException, old: str | None, new: str) -> None:
    notes = getattr(error, "__notes__", None)
    if isinstance(notes, list) and old in notes:
        notes[notes.index(old)] = new
    else:
        add_note(error, new)


def _locate(container: Any, target: Any) -> tuple[Any, ...] | None:
    """Key path from ``container`` to ``target`` (by identity; strings by value)."""
    by_value = isinstance(target, str)
    seen = set()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(container, ())]
    searched = 0
    while stack and searched < _MAX_SEARCH:
        node, parts = stack.pop()
        searched += 1
        items: list[tuple[Any, Any]]
        if isinstance(node, dict):
            if id(node) in seen:
                continue
            seen.add(id(node))
            items = list(node.items())
        elif isinstance(node, (list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            items = list(enumerate(node))
        else:
            continue
        for key, value in items:
            if value is target or (by_value and isinstance(value, str) and value == target):
                return parts + (key,)
        for key, value in reversed(items):
            if isinstance(value, (dict, list, tuple)):
                stack.append((value, parts + (key,)))
    return None


def _path(parts: Iterable[Any]) -> str:
    return path_text("config", parts, max_parts=None)


def key_path(error: BaseException) -> tuple[Any, ...] | None:
    """The keys from the outermost config to where ``error`` was raised, or None.

    Set by keras_deser while the error travels out of a nested
    deserialization: ``('config', 'layers', 3)`` for an error raised while
    deserializing ``config['config']['layers'][3]``, ``()`` for one raised
    while deserializing the outermost config itself (for an unknown class:
    its ``class_name``; an error raised in upstream code that keras_deser
    called is placed at the innermost object keras_deser was building).
    None when the error never passed through keras_deser or its place in
    the outer config could not be found.
    """
    state = getattr(error, "__dict__", None)
    chain = state.get(_CHAIN) if isinstance(state, dict) else None
    if not chain or chain[1] is None:
        return None
    return tuple(chain[1])


def mark_unknown(error: BaseException, kind: str, name: Any) -> None:
    """Record that ``error`` reports the unknown ``name`` of ``kind`` (never raises)."""
    try:
        error.__dict__[_UNKNOWN] = (str(kind), name)
    except (AttributeError, TypeError):
        return


def unknown_name(error: BaseException) -> tuple[str, Any] | None:
    """``(kind, name)`` of keras_deser's ``Unknown <kind>: <name>`` error, or None.

    ``kind`` is the ``printable_module_name`` the name was looked up as
    (``'layer'``, ``'object'`` ...), ``name`` the class or function name as
    the config wrote it.  Errors raised by upstream code have none.
    """
    state = getattr(error, "__dict__", None)
    found = state.get(_UNKNOWN) if isinstance(state, dict) else None
    return found if isinstance(found, tuple) else None


def annotate(error: BaseException, identifier: Any) -> None:
    """Record that ``error`` passed through the deserialization of ``identifier``.

    Called at every nesting level on the way out; each call extends the key
    path note.  Never raises.
    """
    if isinstance(error, ConfigTooDeepError):
        return
    try:
        state = error.__dict__
    except AttributeError:
        return
    try:
        chain = state.get(_CHAIN)
        if chain is None:
            state[_CHAIN] = [identifier, ()]
            return
        inner, parts = chain
        if inner is identifier or parts is None:
            return
        if len(parts) > MAX_TRACED_LEVELS * 4:
            chain[1] = None
            return
        found = _locate(identifier, inner)
        if found is None:
            chain[0], chain[1] = identifier, None
            text = f"keras_deser: raised inside an object built from {_path(())} (not found in its config)"
        else:
            parts = found + parts
            chain[0], chain[1] = identifier, parts
            text = f"keras_deser: raised while deserializing {_path(parts)}"
        _replace_note(error, state.get(_PATH_NOTE), text)
        state[_PATH_NOTE] = text
    except Exception:  # annotation must never hide the real error
        return


def note_suggestions(error: BaseException, name: Any, candidates: Iterable[Any]) -> None:
    """Add a "did you mean" note for the unknown ``name``."""
    try:
        import difflib

        names = sorted({key for key in candidates if isinstance(key, str)})
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6) if isinstance(name, str) else []
        if close:
            add_note(error, "keras_deser: did you mean " + ", ".join(repr(c) for c in close) + "?")
    except Exception:
        return


def too_deep() -> ConfigTooDeepError:
    """The error raised in place of a RecursionError from nesting."""
    return ConfigTooDeepError(
        f"Config nested too deeply: Python's recursion limit ({sys.getrecursionlimit()}) "
        "was reached while deserializing it"
    )
