"""Find TensorFlow/Keras for the command, import it, bind keras_deser to it.

The packages tried, and the order, are the flavour table's
(:data:`keras_deser.flavours.KERAS_NAMESPACES`); the names Keras's loaders
resolve are :func:`keras_deser.builtins.keras_builtins`'s one table (the
same one ``audit`` resolves against).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from .. import _state
from ..builtins import keras_builtins
from ..flavours import KERAS_NAMESPACES
from ..info import bind

__all__ = ["Upstream", "load_upstream", "LAYER_OBJECTS_SOURCE"]

#: Where the command's ``module_objects`` come from, as ``doctor`` says it.
LAYER_OBJECTS_SOURCE = "keras_deser.builtins.keras_builtins() (the loaded Keras's public objects)"


def _installed(name: str) -> bool:
    """True when ``name`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


class Upstream:
    """What the command found of TensorFlow/Keras in this process."""

    def __init__(self) -> None:
        self.imported: list[str] = []  # package names imported successfully
        self.errors: dict[str, str] = {}  # package name -> "Type: message"
        self.installed: dict[str, bool] = {}  # package name -> bool
        self.available = False  # keras_deser is bound to a loaded Keras
        self.layer_objects: dict[str, Any] | None = None  # module_objects for the outermost object
        self.layer_objects_source: str | None = None
        self.layer_base: type | None = None  # the Layer base class, for progress counting
        self.skipped = False  # --no-keras


def load_upstream(use_keras: bool = True) -> Upstream:
    """Import the first installed Keras-carrying package, then bind keras_deser.

    Returns an :class:`Upstream`.  Import failures are recorded, not raised:
    the commands then work as without Keras and say why.
    """
    up = Upstream()
    up.skipped = not use_keras
    for package, _ in KERAS_NAMESPACES:
        up.installed[package] = _installed(package)
    if use_keras:
        for package, namespace in KERAS_NAMESPACES:
            if not up.installed[package]:
                continue
            try:
                module = importlib.import_module(package)
                if namespace:
                    getattr(module, namespace)  # TensorFlow's lazy loaders
                up.imported.append(package)
                break
            except Exception as exc:  # a broken install must not stop doctor
                up.errors[package] = f"{type(exc).__name__}: {exc}"
    bind()
    up.available = _state.binding.legacy_module is not None
    if up.available:
        objects = keras_builtins()
        up.layer_objects = objects
        up.layer_objects_source = LAYER_OBJECTS_SOURCE
        base = objects.get("Layer")
        up.layer_base = base if isinstance(base, type) else None
    return up
