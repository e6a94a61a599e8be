"""What keras_deser is bound to, and how to choose it."""

from __future__ import annotations

from typing import Any

from . import _state
from .binding import tested_version

__all__ = ["bind", "upstream_info"]


def bind(flavour: Any = None) -> dict[str, Any]:
    """Bind keras_deser to a Keras layout and return :func:`upstream_info`.

    With no argument, detect the Keras that is loaded now (binding happens by
    itself on first use; call this after importing a Keras later).  A
    flavour name from :data:`keras_deser.flavours.FLAVOURS`, or
    ``"standalone"`` for keras_deser's own state, forces that layout.
    """
    _state.bind(flavour)
    return upstream_info()


def upstream_info() -> dict[str, Any]:
    """Report the bound layout as a plain dict.

    Keys: ``flavour``, ``releases``, ``tensorflow_version`` (``None``
    without TensorFlow), ``keras_version`` (the Keras serving the API: the
    ``keras`` / ``tf_keras`` package's version, or for TensorFlow's bundled
    Keras, TF 1.15 to 2.5, ``tf.keras.__version__`` such as ``"2.2.4-tf"``;
    ``None`` when standalone), ``registry`` (where the registry dict lives),
    ``scopes`` (the scope store's kind and location), ``shared_objects``
    (``"native"`` when upstream's own thread-locals are used, ``"supplied"``
    when keras_deser's), ``registered_names`` (likewise) and
    ``legacy_module`` (upstream's 4-argument function's module) and
    ``tested_release`` (whether the loaded version lies in the range the
    flavour row was tested with; ``None`` when it cannot be read).
    """
    binding = _state.binding
    flavour = binding.flavour
    if flavour.registry_module is None:
        registry = "keras_deser (own)"
    else:
        registry = f"{flavour.registry_module}:{flavour.registry}"
    return {
        "flavour": flavour.name,
        "releases": flavour.releases,
        "tensorflow_version": binding.tensorflow_version,
        "keras_version": binding.keras_version,
        "registry": registry,
        "scopes": {"kind": binding.store.kind, "location": binding.store.location},
        "shared_objects": "native" if binding.shared_native else "supplied",
        "registered_names": "native" if binding.names_native else "supplied",
        "legacy_module": flavour.legacy_module,
        "tested_release": tested_version(flavour)[1],
    }
