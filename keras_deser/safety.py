"""Safe mode: refuse configs that would run code or touch files, before any of it runs.

Off by default (Keras 2.9 behaviour).  Turn it on for a block with
``with keras_deser.safe_mode():`` (this thread), for the whole process with
``keras_deser.set_safe_mode(True)``, or with ``keras_deser.install(safe_mode=True)``
/ ``KERAS_DESER_INSTALL=safe``.  While it is on, every dict config reaching
keras_deser is audited (:func:`keras_deser.audit`) before anything is built,
and :class:`UnsafeConfigError` is raised, listing every refused spot with its
key path and reason.  The decision fails closed: what resolves neither to
the caller's own code nor to one of the release's built-ins known harmless
(:mod:`keras_deser.safe_policy`) is refused; so are bytecode in any
encoding, op layers calling anything but pure tensor computations, layer
arguments naming files, and configs beyond the size limits.  String
identifiers go through the same decision.  No config key ever causes an
import in keras_deser.  ``trusted=`` names or objects allow exactly what a
user needs.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Callable, Iterable, Iterator

from .auditing import AuditReport, Finding, check_name, check_node, walk

__all__ = ["UnsafeConfigError", "safe_mode", "set_safe_mode", "is_safe_mode", "trusted_objects"]


class UnsafeConfigError(ValueError):
    """Safe mode refused a config; ``report`` is the full audit."""

    def __init__(self, report: AuditReport):
        self.report = report
        lines = [f"  {f.path}: {f.name!s} {f.unsafe}" for f in report.unsafe]
        super().__init__(
            "keras_deser safe mode refused this config before running any of it:\n"
            + "\n".join(lines)
            + "\nPass trusted=[...] (names or objects) to allow exactly these."
        )


class _ThreadState(threading.local):
    """This thread's safe-mode blocks and the containers its current load walked."""

    def __init__(self) -> None:
        #: The ``trusted`` of every open ``safe_mode()`` block, innermost last.
        self.blocks: list[tuple[Any, ...]] = []
        #: ``id``s of the containers the current top-level call walked, and the
        #: containers themselves (held so that no id is reused meanwhile).
        self.covered: set[int] = set()
        self.held: list[Any] = []


class _SafeMode:
    """Process-wide safe-mode state: one object, its fields changed under its lock."""

    def __init__(self) -> None:
        self.on = False
        self.trusted: tuple[Any, ...] = ()
        self.open_blocks = 0
        self.lock = threading.Lock()
        self.listeners: list[Callable[[bool], None]] = []
        self.local = _ThreadState()

    @property
    def active(self) -> bool:
        """On for some thread (the hot path's switch)."""
        return self.on or self.open_blocks > 0

    def notify(self) -> None:
        active = self.active
        for listener in self.listeners:
            listener(active)


_STATE = _SafeMode()


def on_change(listener: Callable[[bool], None]) -> None:
    """Call ``listener(active)`` whenever safe mode may have turned on or off."""
    _STATE.listeners.append(listener)
    listener(_STATE.active)


def set_safe_mode(flag: bool, trusted: Iterable[Any] = ()) -> None:
    """Turn safe mode on or off for every thread; ``trusted`` names/objects."""
    with _STATE.lock:
        _STATE.on = bool(flag)
        _STATE.trusted = tuple(trusted) if flag else ()
    _STATE.notify()


def is_safe_mode() -> bool:
    """True when safe mode is on for the calling thread."""
    return _STATE.on or bool(_STATE.local.blocks)


def trusted_objects() -> tuple[Any, ...]:
    """Names and objects trusted for the calling thread."""
    trusted = list(_STATE.trusted)
    for entry in _STATE.local.blocks:
        trusted.extend(entry)
    return tuple(trusted)


@contextlib.contextmanager
def safe_mode(trusted: Iterable[Any] = ()) -> Iterator[None]:
    """Safe mode on for this thread inside the block (nests; adds trust)."""
    blocks = _STATE.local.blocks
    blocks.append(tuple(trusted))
    with _STATE.lock:
        _STATE.open_blocks += 1
    _STATE.notify()
    try:
        yield
    finally:
        blocks.pop()
        with _STATE.lock:
            _STATE.open_blocks -= 1
        _STATE.notify()


def _deserializer_codes() -> tuple[Any, ...]:
    module = sys.modules.get(__package__ + ".serialization")
    function = getattr(module, "deserialize_keras_object", None)
    code = getattr(function, "__code__", None)
    return (code,) if code is not None else ()


def _is_nested(caller: Any) -> bool:
    """True when a keras_deser deserialization call is running above ``caller``."""
    codes = _deserializer_codes()
    frame = caller.f_back
    while frame is not None:
        if frame.f_code in codes:
            return True
        frame = frame.f_back
    return False


def guard_config(config: dict[Any, Any] | str, module_objects: Any, custom_objects: Any) -> None:
    """Raise :class:`UnsafeConfigError` if this thread is safe and ``config`` is refused.

    A top-level call (no keras_deser deserialization running above it in
    this thread) walks the whole config once (:func:`keras_deser.audit`'s
    walk) and remembers the containers it walked.  A nested call reached
    while it runs (a layer of a model, a layer's activation) whose dict that
    walk covered checks only its own node, with its own ``module_objects``
    and ``custom_objects`` (:func:`keras_deser.auditing.check_node`); a
    nested dict the walk did not cover (built by upstream meanwhile) is
    walked in turn.  So each part of a config is walked once per load:
    linear in its size, however deep it is.
    """
    if not is_safe_mode():
        return
    trusted = trusted_objects()
    local = _STATE.local
    nested = _is_nested(sys._getframe(1))
    if nested and isinstance(config, dict) and id(config) in local.covered:
        refused = check_node(config, module_objects, custom_objects, trusted)
        if refused:
            raise UnsafeConfigError(AuditReport(refused))
        return
    if not nested:
        local.covered = set()
        local.held = []
    containers: list[Any] = []
    report = AuditReport(walk(config, module_objects, custom_objects, trusted, "config", containers))
    if report.unsafe:
        raise UnsafeConfigError(report)
    local.held.append(containers)
    local.covered.update(id(container) for container in containers)


def guard_name(name: Any, obj: Any, module_objects: Any = None, custom_objects: Any = None) -> None:
    """Refuse a string identifier whose object is not known harmless (see :func:`guard_config`)."""
    if not is_safe_mode():
        return
    reason = check_name(name, obj, module_objects, custom_objects, trusted_objects())
    if reason:
        raise UnsafeConfigError(AuditReport([Finding("config", str(name), None, "resolved", reason)]))


def forget() -> int | None:
    """Drop this thread's memory of the last top-level walk; returns how many containers it held."""
    local = _STATE.local
    count = len(local.covered)
    local.covered = set()
    local.held = []
    return count
