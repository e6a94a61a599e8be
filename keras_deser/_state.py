"""The bound state every keras_deser function reads, resolved lazily.

Attributes such as ``registry`` or ``lookup`` do not exist until first read:
the module-level ``__getattr__`` (PEP 562) then detects the live Keras, binds
to it and stores the results as plain module attributes, so every later read
is an ordinary attribute lookup with no check on the hot path.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

from . import binding as _binding

#: The attributes this module serves: the binding itself, every field of
#: :class:`keras_deser.binding.Binding` and its shortcut properties.
FIELDS: tuple[str, ...] = ("binding",) + _binding.Binding._fields + tuple(
    name for name, value in vars(_binding.Binding).items() if isinstance(value, property)
)
_LOCK = threading.RLock()
_SUBSCRIBERS: list[Callable[[Any], None]] = []


def subscribe(callback: Callable[[Any], None]) -> None:
    """Call ``callback(this_module)`` after every binding (and now, if bound).

    For hot paths that keep references to bound state in their own globals
    (:mod:`keras_deser.serialization`): the one copy of the binding outside
    this module.
    """
    _SUBSCRIBERS.append(callback)
    if is_bound():
        callback(sys.modules[__name__])


def bind(flavour: Any = None) -> _binding.Binding:
    """Bind to ``flavour`` (a row or its name), or to what is loaded now."""
    with _LOCK:
        new = _binding.resolve(flavour)
        fields = {name: getattr(new, name) for name in FIELDS[1:]}
        fields["binding"] = new
        globals().update(fields)
        module = sys.modules[__name__]
        for callback in _SUBSCRIBERS:
            callback(module)
        return new


def is_bound() -> bool:
    """True once the state has been resolved."""
    return "binding" in globals()


def __getattr__(name: str) -> Any:
    if name in FIELDS:
        with _LOCK:
            if name not in globals():
                bind()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
