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
