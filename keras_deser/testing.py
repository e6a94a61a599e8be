"""Regression testing against upstream Keras: one config, both loaders.

:func:`compare` runs a config through keras_deser and through the installed
Keras's own, unpatched, 4-argument ``deserialize_keras_object``, each on its
own deep copy, and compares the outcomes: the result's class and
``get_config()``, or the exception's type and message.  No pytest needed;
the fixtures live in :mod:`keras_deser.pytest_plugin`, registered as a
pytest plugin; ``keras-deser verify`` is this comparison on a file.

The upstream side is upstream throughout: while keras_deser is installed,
upstream's function would reach keras_deser again for every nested object
(a Functional's layers, a layer's initializers: the functions it calls are
patched), so it runs inside :func:`upstream_only`, with keras_deser taken
out of the loaded Keras and installed again afterwards.  The keras_deser
side runs as the process is: keras_deser throughout while installed (or
inside ``ours_context=keras_deser.patched()``), else keras_deser for the
outermost object and upstream for what that object's ``from_config`` builds.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import json
import re
import time
import warnings
from typing import Any, Callable, ContextManager, Iterator, NamedTuple

from . import _state
from .serialization import deserialize_keras_object

__all__ = [
    "Outcome",
    "Trial",
    "Comparison",
    "upstream_function",
    "upstream_only",
    "trial",
    "jsonable",
    "outcome_of",
    "compare",
    "assert_same",
]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class Outcome(NamedTuple):
    """What one loader made of a config."""

    #: ``"result"`` or ``"error"``.
    kind: str
    #: Qualified class name of the result or of the exception.
    type: str
    #: ``get_config()`` of the result (made JSON-able, see :func:`jsonable`),
    #: its ``__name__`` or ``repr``; or ``str(exception)``.
    detail: Any

    def render(self) -> str:
        """Stable JSON text of the outcome, for diffs."""
        return json.dumps(self._asdict(), indent=2, sort_keys=True, default=repr)


class Trial(NamedTuple):
    """One call of one loader: its :class:`Outcome` and what it returned or raised."""

    outcome: Outcome
    #: The object built, or the exception raised.
    value: Any
    #: Seconds the call took (the deep copy of the config not included).
    seconds: float


class Comparison(NamedTuple):
    """Both outcomes and whether they agree."""

    same: bool
    ours: Outcome
    upstream: Outcome
    #: The keras_deser side's :class:`Trial` (the object or exception, timing).
    ours_trial: Trial | None = None
    #: The upstream side's :class:`Trial`.
    upstream_trial: Trial | None = None

    def diff(self, upstream_label: str = "upstream", ours_label: str = "keras_deser") -> str:
        """A unified diff of the two outcomes ('' when the same)."""
        if self.same:
            return ""
        lines = difflib.unified_diff(
            self.upstream.render().splitlines(), self.ours.render().splitlines(),
            upstream_label, ours_label, lineterm="",
        )
        return "\n".join(lines)


def upstream_function() -> Callable[..., Any]:
    """The bound Keras's own 4-argument function, never keras_deser's.

    Raises ``RuntimeError`` when no Keras is loaded.
    """
    from .installer import original_of

    module = _state.binding.legacy_module
    if module is None:
        raise RuntimeError("no TensorFlow or Keras is loaded: nothing upstream to compare with")
    function: Callable[..., Any] = original_of(vars(module)["deserialize_keras_object"])
    return function


@contextlib.contextmanager
def upstream_only() -> Iterator[bool]:
    """Take keras_deser out of the loaded Keras for the block, if installed.

    Yields whether keras_deser was installed.  If it was, it is uninstalled
    for the block (sites something else re-patched are left as they are,
    silently) and installed again afterwards (``install(force=True)``: it was
    installed into this very release before).  Process-wide: other threads
    building meanwhile also get upstream.
    """
    from .installer import install, is_installed, uninstall

    was_installed = is_installed()
    if was_installed:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            uninstall()
    try:
        yield was_installed
    finally:
        if was_installed:
            install(force=True)


def _qualified(cls: Any) -> str:
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', getattr(cls, '__name__', '?'))}"


def jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it (the ``default`` of the outcome's encoder).

    Shapes and arrays by their ``as_list()``/``tolist()``; functions and
    classes as ``'<module.name>'``; anything else by its ``repr`` with memory
    addresses left out (two equal objects built apart then compare equal).
    """
    for attribute in ("as_list", "tolist"):
        method = getattr(value, attribute, None)
        if callable(method):
            try:
                return method()
            except Exception:
                pass
    name = getattr(value, "__name__", None)
    if isinstance(name, str) and callable(value):
        return f"<{getattr(value, '__module__', '?')}.{name}>"
    return _ADDRESS.sub("", repr(value))


def trial(function: Callable[..., Any], config: Any, *args: Any, **kwargs: Any) -> Trial:
    """Call ``function(deepcopy(config), ...)``; return a :class:`Trial`."""
    work = copy.deepcopy(config)
    start = time.perf_counter()
    try:
        result = function(work, *args, **kwargs)
    except Exception as error:  # the outcome is the point
        seconds = time.perf_counter() - start
        return Trial(Outcome("error", _qualified(type(error)), str(error)), error, seconds)
    seconds = time.perf_counter() - start
    get_config = getattr(result, "get_config", None)
    detail: Any
    if callable(get_config) and not isinstance(result, type):
        try:
            detail = get_config()
        except Exception as error:
            detail = f"<get_config raised {type(error).__name__}: {error}>"
    else:
        detail = getattr(result, "__name__", None) or repr(result)
    detail = json.loads(json.dumps(detail, sort_keys=True, default=jsonable))
    return Trial(Outcome("result", _qualified(type(result)), detail), result, seconds)


def outcome_of(function: Callable[..., Any], config: Any, *args: Any, **kwargs: Any) -> Outcome:
    """Call ``function(deepcopy(config), ...)`` and describe what happened."""
    return trial(function, config, *args, **kwargs).outcome


def compare(
    config: Any,
    module_objects: dict[str, Any] | None = None,
    custom_objects: dict[str, Any] | None = None,
    printable_module_name: str = "object",
    upstream: Callable[..., Any] | None = None,
    ours_context: ContextManager[Any] | None = None,
) -> Comparison:
    """Run ``config`` through upstream, then keras_deser; return a :class:`Comparison`.

    ``upstream`` defaults to :func:`upstream_function`; it runs inside
    :func:`upstream_only`, so nothing of it reaches keras_deser.  The
    keras_deser side runs inside ``ours_context`` when given (for example
    ``keras_deser.patched()``: keras_deser throughout; entering it is not
    timed).  Each side gets its own deep copy of ``config``;
    ``module_objects`` and ``custom_objects`` are shared.
    """
    upstream = upstream or upstream_function()
    args = (module_objects, custom_objects, printable_module_name)
    with upstream_only():
        theirs = trial(upstream, config, *args)
    with ours_context if ours_context is not None else contextlib.nullcontext():
        ours = trial(deserialize_keras_object, config, *args)
    return Comparison(ours.outcome == theirs.outcome, ours.outcome, theirs.outcome, ours, theirs)


def assert_same(
    config: Any,
    module_objects: dict[str, Any] | None = None,
    custom_objects: dict[str, Any] | None = None,
    printable_module_name: str = "object",
    upstream: Callable[..., Any] | None = None,
) -> Comparison:
    """:func:`compare`, raising ``AssertionError`` with the diff on a difference."""
    comparison = compare(config, module_objects, custom_objects, printable_module_name, upstream)
    if not comparison.same:
        raise AssertionError("keras_deser and upstream differ:\n" + comparison.diff())
    return comparison
