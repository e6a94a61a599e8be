"""The loaded Keras's built-in objects, by the names its loaders resolve.

One table, shared by :func:`keras_deser.audit`, safe mode and the
``keras-deser`` command: the public classes and functions of the loaded
Keras's serializable modules (layers, initializers, regularizers,
constraints, activations, losses, metrics, optimizers, models, ...), each
also under its class's own name where the release's row says its loaders
resolve so (:mod:`keras_deser.safe_policy`), plus the Keras subclasses of
``Model`` and ``Layer`` that the public modules do not export
(``Functional``, ``TFOpLambda``).  Computed once per bound flavour; never
imports anything.
"""

from __future__ import annotations

import sys
from typing import Any

from . import _state
from .flavours import KERAS_NAMESPACES
from .safe_policy import CLASS_ONLY_GROUPS, HARMLESS_GROUPS, release_policy

__all__ = ["keras_builtins", "builtin_groups"]

_BUILTINS_CACHE: dict[str, dict[str, Any]] = {}
_GROUPS_CACHE: dict[str, dict[str, dict[str, Any]]] = {}

#: Every group the table reads, in the order names are first taken.
GROUPS = HARMLESS_GROUPS + CLASS_ONLY_GROUPS


def _root() -> Any:
    for package, namespace in KERAS_NAMESPACES:
        module = sys.modules.get(package)
        if module is not None:
            try:
                return getattr(module, namespace) if namespace else module
            except AttributeError:
                pass
    return None


def builtin_groups() -> dict[str, dict[str, Any]]:
    """``{group: {public name: object}}`` of the loaded Keras, or {} (cached per flavour)."""
    binding = _state.binding
    if binding.legacy_module is None:
        return {}
    cached = _GROUPS_CACHE.get(binding.flavour.name)
    if cached is not None:
        return cached
    root = _root()
    own_names = release_policy(binding.flavour.name).class_own_names
    groups: dict[str, dict[str, Any]] = {}
    for group in GROUPS if root is not None else ():
        module = root
        for part in group.split("."):
            module = getattr(module, part, None)
            if module is None:
                break
        if module is None:
            continue
        objects: dict[str, Any] = {}
        for key, value in list(vars(module).items()):
            if not key.startswith("_") and callable(value):
                objects.setdefault(key, value)
                if own_names and isinstance(value, type) and not value.__name__.startswith("_"):
                    objects.setdefault(value.__name__, value)
        groups[group] = objects
    _GROUPS_CACHE[binding.flavour.name] = groups
    return groups


def keras_builtins() -> dict[str, Any]:
    """Public objects of the loaded Keras's serializable modules, or {}."""
    binding = _state.binding
    if binding.legacy_module is None:
        return {}
    cached = _BUILTINS_CACHE.get(binding.flavour.name)
    if cached is not None:
        return cached
    objects: dict[str, Any] = {}
    for group_objects in builtin_groups().values():
        for key, value in group_objects.items():
            objects.setdefault(key, value)
    # Model classes the loaders know but the public modules do not export
    # (``Functional`` behind ``Model``), found as the Keras subclasses of the
    # public classes.
    for value in list(objects.values()):
        if isinstance(value, type) and value.__name__ in ("Model", "Layer"):
            _add_keras_subclasses(value, objects)
    _BUILTINS_CACHE[binding.flavour.name] = objects
    return objects


def _add_keras_subclasses(cls: type, objects: dict[str, Any]) -> None:
    package = (getattr(cls, "__module__", "") or "").split(".")[0]
    stack: list[type] = [cls]
    while stack:
        subclasses: list[type] = stack.pop().__subclasses__()
        for sub in subclasses:
            if (getattr(sub, "__module__", "") or "").split(".")[0] == package:
                if sub.__name__ not in objects and not sub.__name__.startswith("_"):
                    objects[sub.__name__] = sub
                stack.append(sub)
