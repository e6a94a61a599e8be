"""Safe mode: refuse configs that would run code, before any of it runs.

Off by default (Keras 2.9 behaviour).  Turn it on for a block with
``with keras_deser.safe_mode():`` (this thread), for the whole process with
``keras_deser.set_safe_mode(True)``, or with ``keras_deser.install(safe_mode=True)``
/ ``KERAS_DESER_INSTALL=safe``.  While it is on, every dict config reaching
keras_deser is audited (:func:`keras_deser.audit`) before anything is built,
and :class:`UnsafeConfigError` is raised, listing every unsafe spot with its
path, if the config holds:

* a Lambda layer or anything else carrying Python bytecode or a pickle;
* a factory: a callable that is not a class, which Keras 2.9 would call with
  arguments taken from the config;
* one of Keras's dangerous functions (downloading files, loading models,
  switching safety off) or anything from ``os``, ``subprocess``, ... .

String identifiers naming such functions are refused the same way.  No
config key ever causes an import in keras_deser, in safe mode or not.
``trusted=`` names or objects allow exactly what a user needs.
"""

import contextlib
import sys
import threading

from .audit import AuditReport, Finding, _walk, classify

__all__ = ["UnsafeConfigError", "safe_mode", "set_safe_mode", "is_safe_mode", "trusted_objects"]


class UnsafeConfigError(ValueError):
    """Safe mode refused a config; ``report`` is the full audit."""

    def __init__(self, report):
        self.report = report
        lines = [f"  {f.path}: {f.name!s} {f.unsafe}" for f in report.unsafe]
        super().__init__(
            "keras_deser safe mode refused this config before running any of it:\n"
            + "\n".join(lines)
            + "\nPass trusted=[...] (names or objects) to allow exactly these."
        )


_PROCESS = {"on": False, "trusted": ()}
_LOCAL = threading.local()
_ACTIVE_SCOPES = [0]
_LOCK = threading.Lock()
_LISTENERS = []


def _notify():
    active = _PROCESS["on"] or _ACTIVE_SCOPES[0] > 0
    for listener in _LISTENERS:
        listener(active)


def on_change(listener):
    """Call ``listener(active)`` whenever safe mode may have turned on or off."""
    _LISTENERS.append(listener)
    listener(_PROCESS["on"] or _ACTIVE_SCOPES[0] > 0)


def set_safe_mode(flag, trusted=()):
    """Turn safe mode on or off for every thread; ``trusted`` names/objects."""
    with _LOCK:
        _PROCESS["on"] = bool(flag)
        _PROCESS["trusted"] = tuple(trusted) if flag else ()
    _notify()


def is_safe_mode():
    """True when safe mode is on for the calling thread."""
    return _PROCESS["on"] or bool(getattr(_LOCAL, "stack", None))


def trusted_objects():
    """Names and objects trusted for the calling thread."""
    trusted = list(_PROCESS["trusted"])
    for entry in getattr(_LOCAL, "stack", ()):
        trusted.extend(entry)
    return tuple(trusted)


@contextlib.contextmanager
def safe_mode(trusted=()):
    """Safe mode on for this thread inside the block (nests; adds trust)."""
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    stack.append(tuple(trusted))
    with _LOCK:
        _ACTIVE_SCOPES[0] += 1
    _notify()
    try:
        yield
    finally:
        stack.pop()
        with _LOCK:
            _ACTIVE_SCOPES[0] -= 1
        _notify()


#: Audits remembered per thread, to skip re-auditing the nested parts of a
#: config while the top-level call that audited it as a whole still runs.
_MAX_REMEMBERED = 64


class _Audited:
    """A config audited as safe, with everything the audit walked."""

    __slots__ = ("module_objects", "custom_objects", "trusted", "containers", "ids")

    def __init__(self, module_objects, custom_objects, trusted, containers):
        self.module_objects = module_objects
        self.custom_objects = custom_objects
        self.trusted = trusted
        # The containers themselves are held, so no id below is reused while
        # this entry lives (until the next top-level call of this thread).
        self.containers = containers
        self.ids = {id(container) for container in containers}


def _same_trust(first, second):
    return len(first) == len(second) and all(a is b or a == b for a, b in zip(first, second))


def _deserializer_codes():
    module = sys.modules.get(__package__ + ".serialization")
    function = getattr(module, "deserialize_keras_object", None)
    code = getattr(function, "__code__", None)
    return (code,) if code is not None else ()


def _is_nested(caller):
    """True when a keras_deser deserialization call is running above ``caller``."""
    codes = _deserializer_codes()
    frame = caller.f_back
    while frame is not None:
        if frame.f_code in codes:
            return True
        frame = frame.f_back
    return False


def guard_config(config, module_objects, custom_objects):
    """Raise :class:`UnsafeConfigError` if this thread is safe and it is unsafe.

    A top-level call (no keras_deser deserialization running above it in
    this thread) audits the whole config (:func:`keras_deser.audit`) and
    forgets earlier audits; nested calls reached while it runs (a layer of a
    model, a passive-serialized value) skip the walk when an audit of this
    call already covered that very dict with the same ``module_objects``,
    ``custom_objects`` and trust, so safe mode stays linear in the size of
    a config however deep it is.  Nested parts reached with other
    ``module_objects`` (a layer's ``from_config`` loading its activation,
    say) are audited on their own.
    """
    if not is_safe_mode():
        return
    trusted = trusted_objects()
    caller = sys._getframe(1)
    entries = getattr(_LOCAL, "audited", None)
    if entries is None:
        entries = _LOCAL.audited = []
    if not _is_nested(caller):
        del entries[:]
    else:
        for entry in entries:
            if (
                id(config) in entry.ids
                and entry.module_objects is module_objects
                and entry.custom_objects is custom_objects
                and _same_trust(entry.trusted, trusted)
            ):
                return
    containers = []
    report = AuditReport(_walk(config, module_objects, custom_objects, trusted, "config", containers))
    if report.unsafe:
        raise UnsafeConfigError(report)
    entries.append(_Audited(module_objects, custom_objects, trusted, containers))
    del entries[:-_MAX_REMEMBERED]


def guard_name(name, obj):
    """Refuse a string identifier naming something dangerous."""
    if not is_safe_mode():
        return
    reason = classify(name, obj, trusted_objects())
    if reason:
        raise UnsafeConfigError(AuditReport([Finding("config", str(name), None, "resolved", reason)]))
