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
    ``.compare`` / ``.assert_same`` are :mod:`keras_deser.testing`'s.

Both skip the test when no TensorFlow or Keras can be imported.
"""

import importlib
import importlib.util
import sys
import types

import pytest

from keras_deser.flavours import UPSTREAM_PACKAGES as _PACKAGES


def _import_upstream():
    if not any(name in sys.modules for name in _PACKAGES):
        for name in _PACKAGES:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
                break
        else:
            pytest.skip("no TensorFlow or Keras installed")


@pytest.fixture
def keras_deser_installed():
    """keras_deser installed for the duration of one test."""
    _import_upstream()
    import keras_deser

    with keras_deser.patched() as sites:
        yield sites


@pytest.fixture
def upstream_keras():
    """The unpatched upstream 4-argument function, with compare helpers."""
    _import_upstream()
    import keras_deser
    from keras_deser import testing

    function = testing.upstream_function()
    return types.SimpleNamespace(
        deserialize_keras_object=function,
        info=keras_deser.upstream_info(),
        compare=lambda config, *a, **k: testing.compare(config, *a, upstream=function, **k),
        assert_same=lambda config, *a, **k: testing.assert_same(config, *a, upstream=function, **k),
    )
