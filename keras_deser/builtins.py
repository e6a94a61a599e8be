"""The loaded Keras's built-in objects, by the names its loaders resolve.

One table, shared by :func:`keras_deser.audit`, safe mode and the
``keras-deser`` command: the public classes and functions of the loaded
Keras's serializable modules (layers, initializers, regularizers,
constraints, activations, losses, metrics, optimizers, models), each also
under its class's own name, plus the Keras subclasses of ``Model`` and
``Layer`` that the public modules do not export (``Functional``).  Computed
once per bound flavour; never imports anything.
"""

import sys

from . import _state
from .flavours import KERAS_NAMESPACES

__all__ = ["keras_builtins"]

_BUILTINS_CACHE = {}


def keras_builtins():
    """Public objects of the loaded Keras's serializable modules, or {}."""
    binding = _state.binding
    if binding.legacy_module is None:
        return {}
    cached = _BUILTINS_CACHE.get(binding.flavour.name)
    if cached is not None:
        return cached
    roots = []
    for package, namespace in KERAS_NAMESPACES:
        module = sys.modules.get(package)
        if module is not None:
            try:
                roots.append(getattr(module, namespace) if namespace else module)
            except AttributeError:
                pass
    objects = {}
    for root in roots[:1]:
        for group in ("layers", "initializers", "regularizers", "constraints", "activations",
                      "losses", "metrics", "optimizers", "models"):
            module = getattr(root, group, None)
            if module is None:
                continue
            for key, value in vars(module).items():
                if not key.startswith("_") and (callable(value)):
                    objects.setdefault(key, value)
                    # The loaders look classes up in their module's globals, by
                    # the class's own name: TF 1.15 exports GlorotUniform only as
                    # ``glorot_uniform`` yet loads ``'GlorotUniform'`` configs.
                    if isinstance(value, type) and not value.__name__.startswith("_"):
                        objects.setdefault(value.__name__, value)
    # Model classes the loaders know but the public modules do not export
    # (``Functional`` behind ``Model``), found as the Keras subclasses of the
    # public classes.
    for value in list(objects.values()):
        if isinstance(value, type) and value.__name__ in ("Model", "Layer"):
            _add_keras_subclasses(value, objects)
    _BUILTINS_CACHE[binding.flavour.name] = objects
    return objects


def _add_keras_subclasses(cls, objects):
    package = (getattr(cls, "__module__", "") or "").split(".")[0]
    stack = [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if (getattr(sub, "__module__", "") or "").split(".")[0] == package:
                if sub.__name__ not in objects and not sub.__name__.startswith("_"):
                    objects[sub.__name__] = sub
                stack.append(sub)
