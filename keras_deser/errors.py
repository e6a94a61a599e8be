"""Errors that say what and where, without changing what Keras 2.9 raises.

A failure anywhere in a nested config keeps Keras 2.9's exception type and
message (``str(error)`` is unchanged); keras_deser adds PEP 678 notes
(``error.add_note``; ``__notes__`` before Python 3.11):

* the key path from the outermost config to the failing entry, e.g.
  ``config['config']['layers'][3]['config']['kernel_initializer']``;
* for an unknown name, "did you mean" suggestions from the names that were
  available (registry, ``custom_objects``, ``module_objects``).

Configs nested deeper than Python's recursion limit raise
:class:`ConfigTooDeepError` (a ``ValueError``) instead of a
``RecursionError`` from deep inside keras_deser.
"""

import sys

__all__ = ["ConfigTooDeepError", "add_note", "annotate", "note_suggestions"]

_CHAIN = "_keras_deser_chain"
_PATH_NOTE = "_keras_deser_path_note"
#: Nesting levels beyond which the path is not traced any further.
MAX_TRACED_LEVELS = 256
#: Containers searched, at most, to place one level inside the next.
_MAX_SEARCH = 100_000


class ConfigTooDeepError(ValueError):
    """The config is nested deeper than Python's recursion limit allows."""


def add_note(error, text):
    """Attach ``text`` as a PEP 678 note, on any Python."""
    if hasattr(error, "add_note"):
        error.add_note(text)
        return
    notes = getattr(error, "__notes__", None)
    if not isinstance(notes, list):
        notes = []
        try:
            error.__notes__ = notes
        except AttributeError:
            return
    notes.append(text)


def _replace_note(error, old, new):
    notes = getattr(error, "__notes__", None)
    if isinstance(notes, list) and old in notes:
        notes[notes.index(old)] = new
    else:
        add_note(error, new)


def _locate(container, target):
    """Key path from ``container`` to ``target`` (by identity; strings by value)."""
    by_value = isinstance(target, str)
    seen = set()
    stack = [(container, ())]
    searched = 0
    while stack and searched < _MAX_SEARCH:
        node, parts = stack.pop()
        searched += 1
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


def _path(parts):
    return "config" + "".join(f"[{part!r}]" for part in parts)


def annotate(error, identifier):
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


def note_suggestions(error, name, candidates):
    """Add a "did you mean" note for the unknown ``name``."""
    try:
        import difflib

        names = sorted({key for key in candidates if isinstance(key, str)})
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6) if isinstance(name, str) else []
        if close:
            add_note(error, "keras_deser: did you mean " + ", ".join(repr(c) for c in close) + "?")
    except Exception:
        return


def too_deep():
    """The error raised in place of a RecursionError from nesting."""
    return ConfigTooDeepError(
        f"Config nested too deeply: Python's recursion limit ({sys.getrecursionlimit()}) "
        "was reached while deserializing it"
    )
