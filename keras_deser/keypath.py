"""Key paths: where in a config something is, in one syntax.

Every path keras_deser shows (audit findings, safe-mode refusals, error
notes, the command's messages) is rendered here, as Python subscripts from
a root name: ``config['config']['layers'][3]['class_name']``.  Paths are
built incrementally as links ``(parent, key, depth, head)`` so that a walk
of ``n`` nested levels renders each path in ``O(MAX_PATH_PARTS)``; paths
longer than :data:`MAX_PATH_PARTS` keys have their middle elided.
"""

from __future__ import annotations

import reprlib
from typing import Any, Iterable, Optional, Tuple

#: One key of a path, linked to the path of its parent:
#: ``(parent, key, depth, head)``; ``None`` is the root itself.
Link = Optional[Tuple[Any, Any, int, Tuple[Any, ...]]]

__all__ = ["MAX_PATH_PARTS", "Link", "link", "render", "path_text", "short_repr", "display_name"]

#: Paths longer than this many keys are shown with the middle elided.
MAX_PATH_PARTS = 64
_HEAD_PARTS = 8

_SHORT = reprlib.Repr()
_SHORT.maxlevel = 3
_SHORT.maxstring = 80
_SHORT.maxother = 80


def short_repr(value: Any) -> str:
    """``repr(value)``, bounded in size and depth (never a RecursionError)."""
    if type(value) in (str, int, bool, type(None)) and not (isinstance(value, str) and len(value) > 200):
        return repr(value)
    try:
        return _SHORT.repr(value)
    except Exception:  # a broken __repr__ must not stop an audit
        return f"<{type(value).__name__}>"


def display_name(name: Any) -> str:
    """The name as a finding shows it: strings as they are, others bounded."""
    return name if isinstance(name, str) else short_repr(name)


def path_text(root: str, parts: Iterable[Any], max_parts: int | None = MAX_PATH_PARTS) -> str:
    """``root['a'][3]`` from ``['a', 3]``.

    The middle of paths longer than ``max_parts`` keys is elided (None:
    never; error notes show the whole path keras_deser traced).
    """
    parts = list(parts)
    if max_parts is not None and len(parts) > max_parts:
        tail = max_parts - _HEAD_PARTS
        elided = len(parts) - max_parts
        return (
            root
            + "".join(f"[{short_repr(part)}]" for part in parts[:_HEAD_PARTS])
            + f"...<{elided} keys>..."
            + "".join(f"[{short_repr(part)}]" for part in parts[-tail:])
        )
    return root + "".join(f"[{short_repr(part)}]" for part in parts)


# Key paths are built as links ``(parent, key, depth, head)``: ``head`` holds
# the first _HEAD_PARTS keys, so a path renders in O(MAX_PATH_PARTS) however
# deep the config is (an audit of n nested levels stays linear).


def link(parent: Link, key: Any) -> Link:
    """The path of ``parent`` extended by ``key``."""
    if parent is None:
        return (None, key, 1, (key,))
    depth = parent[2] + 1
    head = parent[3] + (key,) if depth <= _HEAD_PARTS else parent[3]
    return (parent, key, depth, head)


def render(root: str, link: Link, *more: Any) -> str:
    """The text of the path ``link`` (then the keys ``more``) from ``root``."""
    depth = link[2] if link is not None else 0
    total = depth + len(more)
    if total <= MAX_PATH_PARTS:
        parts = []
        while link is not None:
            parts.append(link[1])
            link = link[0]
        parts.reverse()
        return path_text(root, parts + list(more))
    tail_size = MAX_PATH_PARTS - _HEAD_PARTS
    tail = list(more)
    while link is not None and len(tail) < tail_size:
        tail.insert(0, link[1])
        link = link[0]
    head = list(link[3]) if link is not None else []
    elided = total - len(head) - len(tail)
    return (
        root
        + "".join(f"[{short_repr(part)}]" for part in head)
        + f"...<{elided} keys>..."
        + "".join(f"[{short_repr(part)}]" for part in tail)
    )
