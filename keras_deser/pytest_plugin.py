"""pytest fixtures for testing code against upstream Keras and keras_deser.

Registered as the pytest plugin ``keras_deser`` (entry point ``pytest11``),
so the fixtures are available wherever keras_deser is installed:

``keras_deser_installed``
    keras_deser installed into the loaded TensorFlow/Keras for one test
    (yields the patched sites); uninstalled afterwards unless it was
    installed before the test.
``upstream_keras``
    A handle on the unpatched upstream: ``.deserialize_keras_object`` is the
    loaded Keras's own 4-argument function (even while keras_deser is
    installed), ``.info`` is :func:`keras_deser.upstream_info`, and
    ``.compare`` / ``.assert_same`` are :mod:`keras_deser.testing`'s (their
    upstream side is upstream throughout: keras_deser is taken out of the
    loaded Keras for it, see :func:`keras_deser.testing.upstream_only`).

Both skip the test when no TensorFlow or Keras can be imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any, Iterator

import pytest  # type: ignore[import-not-found, unused-ignore]

from keras_deser.flavours import UPSTREAM_PACKAGES as _PACKAGES


def _import_upstream() -> None:
    if not any(name in sys.modules for name in _PACKAGES):
        for name in _PACKAGES:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
                break
        else:
            pytest.skip("no TensorFlow or Keras installed")


@pytest.fixture
def keras_deser_installed() -> Iterator[list[str]]:
    """keras_deser installed for the duration of one test."""
    _import_upstream()
    import keras_deser

    with keras_deser.patched() as sites:
        yield sites


@pytest.fixture
def upstream_keras() -> types.SimpleNamespace:
    """The unpatched upstream 4-argument function, with compare helpers."""
    _import_upstream()
    import keras_deser
    from keras_deser import testing

    function = testing.upstream_function()

    def compare(
        config: Any, module_objects: Any = None, custom_objects: Any = None, printable_module_name: str = "object"
    ) -> testing.Comparison:
        return testing.compare(config, module_objects, custom_objects, printable_module_name, upstream=function)

    def assert_same(
        config: Any, module_objects: Any = None, custom_objects: Any = None, printable_module_name: str = "object"
    ) -> testing.Comparison:
        return testing.assert_same(config, module_objects, custom_objects, printable_module_name, upstream=function)

    return types.SimpleNamespace(
        deserialize_keras_object=function,
        info=keras_deser.upstream_info(),
        compare=compare,
        assert_same=assert_same,
    )
