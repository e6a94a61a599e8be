"""Regression testing against upstream Keras: one config, both loaders.

:func:`compare` runs a config through keras_deser and through the installed
Keras's own, unpatched, 4-argument ``deserialize_keras_object`` (also while
keras_deser is installed), each on its own deep copy, and compares the
outcomes: the result's class and ``get_config()``, or the exception's type
and message.  No pytest needed; the fixtures live in
:mod:`keras_deser.pytest_plugin`, registered as a pytest plugin.
"""

import copy
import difflib
import json
from typing import Any, NamedTuple

from . import _state
from .serialization import deserialize_keras_object

__all__ = ["Outcome", "Comparison", "upstream_function", "outcome_of", "compare", "assert_same"]


class Outcome(NamedTuple):
    """What one loader made of a config."""

    kind: str  # "result" or "error"
    type: str  # qualified class name of the result or of the exception
    detail: Any  # get_config() of the result (or its repr), or str(exception)

    def render(self):
        """Stable JSON text of the outcome, for diffs."""
        return json.dumps(self._asdict(), indent=2, sort_keys=True, default=repr)


class Comparison(NamedTuple):
    """Both outcomes and whether they agree."""

    same: bool
    ours: Outcome
    upstream: Outcome

    def diff(self):
        """A unified diff of the two outcomes ('' when the same)."""
        if self.same:
            return ""
        lines = difflib.unified_diff(
            self.upstream.render().splitlines(), self.ours.render().splitlines(),
            "upstream", "keras_deser", lineterm="",
        )
        return "\n".join(lines)


def upstream_function():
    """The bound Keras's own 4-argument function, never keras_deser's.

    Raises ``RuntimeError`` when no Keras is loaded.
    """
    from .installer import original_of

    module = _state.binding.legacy_module
    if module is None:
        raise RuntimeError("no TensorFlow or Keras is loaded: nothing upstream to compare with")
    return original_of(vars(module)["deserialize_keras_object"])


def _qualified(cls):
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', getattr(cls, '__name__', '?'))}"


def outcome_of(function, config, *args, **kwargs):
    """Call ``function(deepcopy(config), ...)`` and describe what happened."""
    try:
        result = function(copy.deepcopy(config), *args, **kwargs)
    except Exception as error:  # the outcome is the point
        return Outcome("error", _qualified(type(error)), str(error))
    get_config = getattr(result, "get_config", None)
    if callable(get_config) and not isinstance(result, type):
        try:
            detail = get_config()
        except Exception as error:
            detail = f"<get_config raised {type(error).__name__}: {error}>"
    else:
        detail = getattr(result, "__name__", None) or repr(result)
    return Outcome("result", _qualified(type(result)), json.loads(json.dumps(detail, sort_keys=True, default=repr)))


def compare(config, module_objects=None, custom_objects=None, printable_module_name="object", upstream=None):
    """Run ``config`` through keras_deser and upstream; return a :class:`Comparison`.

    ``upstream`` defaults to :func:`upstream_function`.  Each side gets its
    own deep copy of ``config``; ``module_objects`` and ``custom_objects``
    are shared.
    """
    upstream = upstream or upstream_function()
    args = (module_objects, custom_objects, printable_module_name)
    ours = outcome_of(deserialize_keras_object, config, *args)
    theirs = outcome_of(upstream, config, *args)
    return Comparison(ours == theirs, ours, theirs)


def assert_same(config, module_objects=None, custom_objects=None, printable_module_name="object", upstream=None):
    """:func:`compare`, raising ``AssertionError`` with the diff on a difference."""
    comparison = compare(config, module_objects, custom_objects, printable_module_name, upstream)
    if not comparison.same:
        raise AssertionError("keras_deser and upstream differ:\n" + comparison.diff())
    return comparison


