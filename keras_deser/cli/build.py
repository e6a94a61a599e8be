"""Building an object for the command: routing, safe mode, progress, failures.

:func:`build` calls a 4-argument deserializer on a copy of the config
inside the contexts the options ask for; :func:`failure` turns what it
raised into a :class:`~keras_deser.cli.result.CLIError` that names the file,
the key path (:func:`keras_deser.errors.key_path`) and, for an unknown
name, the name (:func:`keras_deser.errors.unknown_name`).
"""

from __future__ import annotations

import contextlib
import copy
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, ContextManager, TextIO

from .. import AuditReport, UnsafeConfigError
from .. import audit as audit_config
from ..errors import key_path, unknown_name
from ..installer import call_count, patched
from ..keypath import path_text
from ..safety import safe_mode, trusted_objects
from .configio import key_paths
from .result import CLIError

if TYPE_CHECKING:
    from .upstream import Upstream

__all__ = [
    "Routing",
    "describe_routing",
    "Progress",
    "build",
    "failure",
    "safe_context",
    "refuse_if_unsafe",
    "unsafe_error",
    "summarize",
    "printable_name",
]


def safe_context(enabled: bool) -> ContextManager[Any]:
    """``keras_deser.safe_mode()`` (this thread), or a no-op."""
    return safe_mode() if enabled else contextlib.nullcontext()


def unsafe_error(error: UnsafeConfigError, label: str) -> CLIError:
    """A :class:`CLIError` for an :class:`keras_deser.UnsafeConfigError`.

    The message is the error's own text, which names every unsafe key path
    (so no single ``path``); ``--json`` also gets the findings (``unsafe``).
    """
    report: AuditReport = error.report
    return CLIError(
        str(error),
        file=label,
        hint="run `keras-deser audit FILE` to see every name the config resolves; "
        "drop --safe only for files you trust",
        details={"unsafe": report.to_dict()["unsafe"]},
    )


def refuse_if_unsafe(
    config: dict[str, Any], label: str, module_objects: dict[str, Any] | None, custom_objects: dict[str, Any]
) -> None:
    """Raise what safe mode would raise for ``config``, without building it.

    Used before building with code that does not check safe mode itself
    (``verify``'s upstream side).
    """
    report = audit_config(copy.deepcopy(config), module_objects, custom_objects or None, trusted=trusted_objects())
    if report.unsafe:
        raise unsafe_error(UnsafeConfigError(report), label)


def printable_name(up: Upstream) -> str:
    """The ``printable_module_name`` of the outermost object: Keras loads layers."""
    return "layer" if up.available else "object"


class Routing:
    """Route nested deserializations through keras_deser while building.

    Uses ``keras_deser.patched()`` (install for the block, then uninstall;
    left installed if it already was) when a Keras is loaded and
    ``--no-patch`` was not given; otherwise only the top-level object goes
    through keras_deser (the model's own ``from_config`` then calls upstream
    for its layers).
    """

    def __init__(self, up: Upstream | None, enabled: bool) -> None:
        self.enabled = bool(enabled and up is not None and up.available)
        self.sites: list[str] = []
        self.calls: int | None = None
        self.error: str | None = None
        self._context: ContextManager[Any] | None = None
        self._start_calls = 0

    @property
    def mode(self) -> str:
        if self.enabled and self.error is None:
            return "installed"
        return "top-level"

    def __enter__(self) -> Routing:
        if not self.enabled:
            return self
        self._start_calls = call_count()
        try:
            self._context = patched()
            self.sites = list(self._context.__enter__() or ())
        except Exception as exc:  # cannot install: fall back to the top level
            self.error = f"{type(exc).__name__}: {exc}"
            self._context = None
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        if self._context is not None:
            self.calls = call_count() - self._start_calls
            context, self._context = self._context, None
            return context.__exit__(*exc)
        return False

    def as_dict(self) -> dict[str, Any]:
        """The ``routing`` facts of ``load --json``."""
        facts: dict[str, Any] = {"mode": self.mode, "sites": len(self.sites), "nested_calls": self.calls}
        if self.error:
            facts["error"] = self.error
        return facts


def describe_routing(facts: dict[str, Any]) -> str:
    """One line saying how the object was built, from :meth:`Routing.as_dict`."""
    if facts["mode"] == "installed":
        calls = f", {facts['nested_calls']} nested calls" if facts.get("nested_calls") is not None else ""
        return f"keras_deser throughout (installed for the build at {facts['sites']} sites{calls})"
    why = f"; install failed: {facts['error']}" if facts.get("error") else ""
    return f"keras_deser at the top level, upstream for nested objects{why}"


class Progress:
    """Progress on stderr: notes, and a counter of layers built.

    Layers are counted as calls to a ``from_config`` of a ``Layer`` subclass
    (of any ``from_config`` with no Keras), seen through ``sys.setprofile``
    while the object is built; only active when enabled.
    """

    def __init__(
        self, enabled: bool, stream: TextIO | None = None, layer_base: type | None = None,
        total: int | None = None,
    ) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.layer_base = layer_base
        self.total = total
        self._tty = False
        self.count = 0
        self._seen_root = False
        self._last = 0.0
        self._start = 0.0
        self._previous: Any = None

    def note(self, text: str) -> None:
        if self.enabled:
            self.stream.write(f"keras-deser: {text}\n")
            self.stream.flush()

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if event != "call" or frame.f_code.co_name != "from_config":
            return
        if self.layer_base is not None:
            cls = frame.f_locals.get("cls")
            if not (isinstance(cls, type) and issubclass(cls, self.layer_base)):
                return
            caller = frame.f_back
            if caller is not None and caller.f_code.co_name == "from_config" and caller.f_locals.get("cls") is cls:
                return  # super().from_config of the same layer (Keras 3's Dense): one layer, counted once
        if not self._seen_root:  # the object being loaded is not one of its layers
            self._seen_root = True
            return
        self.count += 1
        now = time.perf_counter()
        if now - self._last >= (0.1 if self._tty else 2.0):
            self._last = now
            self._draw(now)

    def _draw(self, now: float, final: bool = False) -> None:
        of = f" of {self.total} listed at the top level" if self.total else ""
        text = f"keras-deser: built {self.count} layers{of}, {now - self._start:.1f}s"
        if self._tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        if self.enabled:
            try:
                self._tty = self.stream.isatty()
            except Exception:
                self._tty = False
            self._start = self._last = time.perf_counter()
            self._previous = sys.getprofile()
            sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            sys.setprofile(self._previous)
            self._draw(time.perf_counter(), final=True)


def _no_keras_hint(up: Upstream | None) -> str:
    if up is not None and up.skipped and not up.available:
        return (
            "TensorFlow/Keras was not imported (--no-keras): it is needed to build Keras layers; "
            "classes of your own can be given with --custom-objects module:attribute"
        )
    if up is not None and not up.available:
        return (
            "no TensorFlow/Keras is installed (or it failed to import): TensorFlow/Keras is needed to "
            "build Keras layers; classes of your own can be given with --custom-objects module:attribute"
        )
    return "give it with --custom-objects module:attribute (a dict of name to class, or the class itself)"


def _node_at(config: Any, parts: tuple[Any, ...]) -> Any:
    node = config
    for part in parts:
        try:
            node = node[part]
        except (LookupError, TypeError):
            return None
    return node


def failure(error: BaseException, config: dict[str, Any], label: str, up: Upstream | None) -> CLIError:
    """The :class:`CLIError` reporting ``error``, raised building ``config``.

    Where keras_deser's own loader raised it, the key path it recorded is
    the error's ``path``; an unknown name is reported as such, with the
    places the config uses it.
    """
    if isinstance(error, CLIError):
        return error
    if isinstance(error, UnsafeConfigError):
        return unsafe_error(error, label)
    parts = key_path(error)
    unknown = unknown_name(error)
    if unknown is not None:
        kind, name = unknown
        node = _node_at(config, parts) if parts is not None else None
        if isinstance(node, dict) and node.get("class_name") == name:
            parts = parts + ("class_name",) if parts is not None else None
        elif not (isinstance(node, str) and node == name):
            parts = None
        uses = key_paths(config, name)
        path = path_text("config", parts) if parts is not None else (uses[0] if uses else None)
        more = f" (used at {len(uses)} places)" if len(uses) > 1 else ""
        message = f"unknown {kind} {name!r}: no class or function of that name is registered or given{more}"
        return CLIError(message, file=label, path=path, hint=_no_keras_hint(up))
    path = path_text("config", parts) if parts else None
    return CLIError(f"building failed: {type(error).__name__}: {error}", file=label, path=path)


def build(
    function: Callable[..., Any],
    config: dict[str, Any],
    label: str,
    up: Upstream,
    custom_objects: dict[str, Any],
    printable: str,
    progress: Progress | None = None,
    safe: bool = False,
    routing: Routing | None = None,
) -> tuple[Any, float]:
    """Call ``function`` (a 4-argument deserializer) on a copy of ``config``.

    ``routing`` (a :class:`Routing`) is entered around the call, inside
    ``keras_deser.safe_mode()`` when ``safe``.  Returns ``(object, seconds)``;
    failures (a safe-mode refusal included) become :class:`CLIError`.
    """
    work = copy.deepcopy(config)
    try:
        with safe_context(safe), routing or contextlib.nullcontext(), progress or contextlib.nullcontext():
            start = time.perf_counter()
            obj = function(
                work,
                module_objects=up.layer_objects,
                custom_objects=custom_objects or None,
                printable_module_name=printable,
            )
            seconds = time.perf_counter() - start
    except Exception as exc:
        raise failure(exc, config, label, up) from None
    return obj, seconds


def summarize(obj: Any, seconds: float, config: dict[str, Any], label: str) -> dict[str, Any]:
    """What ``load`` reports of the object it built."""
    cls = type(obj)
    name = getattr(obj, "name", None)
    summary: dict[str, Any] = {
        "file": label,
        "class_name": config.get("class_name"),
        "class": f"{cls.__module__}.{getattr(cls, '__qualname__', cls.__name__)}",
        "name": name if isinstance(name, str) else None,
        "layers": None,
        "parameters": None,
        "seconds": round(seconds, 6),
        "keras_version": config.get("keras_version"),
    }
    layers = getattr(obj, "layers", None)
    if isinstance(layers, (list, tuple)):
        summary["layers"] = len(layers)
    count_params = getattr(obj, "count_params", None)
    if callable(count_params):
        try:
            summary["parameters"] = int(count_params())
        except Exception:  # an unbuilt model cannot count its weights
            pass
    return summary
