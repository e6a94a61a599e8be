"""``import keras_deser`` must stay free of TensorFlow, Keras and numpy."""

import subprocess
import sys

HEAVY = ("tensorflow", "tf_keras", "keras", "numpy", "jax")


def test_import_loads_no_upstream():
    code = (
        "import sys, keras_deser\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in %r)\n"
        "print(','.join(heavy))\n"
    ) % (HEAVY,)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_import_does_not_bind():
    code = "import keras_deser, keras_deser._state as s\nprint(s.is_bound())\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_public_api_names():
    import keras_deser

    expected = {
        "deserialize_keras_object", "serialize_keras_object",
        "class_and_config_for_serialized_keras_object", "serialize_keras_class_and_config",
        "CustomObjectScope", "custom_object_scope", "get_custom_objects",
        "register_keras_serializable", "get_registered_name", "get_registered_object",
        "SharedObjectLoadingScope", "SharedObjectSavingScope", "SharedObjectConfig",
        "DisableSharedObjectScope", "NoopLoadingScope", "SHARED_OBJECT_KEY",
    }
    assert expected <= set(keras_deser.__all__)
    for name in expected:
        assert getattr(keras_deser, name) is not None
    assert keras_deser.SHARED_OBJECT_KEY == "shared_object_id"
    assert keras_deser.custom_object_scope is keras_deser.CustomObjectScope


def _documented_names():
    """The names in docs/api.md's "What is importable" table."""
    import os
    import re

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "api.md")
    text = open(path, encoding="utf-8").read()
    table = text.split("<!-- importable:start -->")[1].split("<!-- importable:end -->")[0]
    names = set()
    for line in table.splitlines()[2:]:
        names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", line.split("|")[1]))
    return names


def test_docs_list_exactly_what_is_importable():
    import keras_deser

    assert set(keras_deser.__all__) == _documented_names()
    for name in keras_deser.__all__:
        assert hasattr(keras_deser, name), name


def test_exceptions_and_warnings_users_catch_are_top_level():
    import keras_deser
    from keras_deser import binding, installer, patching, serialization

    assert keras_deser.NotInstallableError is installer.NotInstallableError
    assert keras_deser.UnknownUpstreamError is binding.UnknownUpstreamError
    assert keras_deser.RepatchedWarning is patching.RepatchedWarning
    assert keras_deser.CustomMaskWarning is serialization.CustomMaskWarning
    assert issubclass(keras_deser.NotInstallableError, RuntimeError)
    assert issubclass(keras_deser.RepatchedWarning, UserWarning)


def test_install_force_takes_a_bool_and_flavour_a_name():
    import warnings

    import pytest

    from keras_deser import installer

    assert installer._resolve_force(True, None) == (True, None)
    assert installer._resolve_force(False, "keras-2.6") == (False, "keras-2.6")
    with pytest.raises(TypeError, match="force=...\\) takes True or False"):
        installer._resolve_force(1, None)
    with pytest.raises(TypeError, match="flavour=...\\) takes a flavour name"):
        installer._resolve_force(False, object())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert installer._resolve_force("keras-2.6", None) == (True, "keras-2.6")
    assert [w.category for w in caught] == [DeprecationWarning]
    assert "install(flavour='keras-2.6')" in str(caught[0].message)
    with pytest.raises(ValueError, match="two different flavours"):
        installer._resolve_force("keras-2.6", "keras-3")
