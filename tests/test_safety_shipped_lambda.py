"""Safe mode lets through the release's own Lambda code, and nothing else (issue 9, item 6).

Keras 2's ``InceptionResNetV2`` (TF 1.15, 2.4, 2.6, 2.9) holds 40 ``Lambda``
layers whose function is the release's own ``lambda inputs, scale: ...``
of ``inception_resnet_block`` (:mod:`keras_deser.shipped_code`).  The model
is built and saved (JSON and HDF5) in a *fresh process* without keras_deser,
once per session, then loaded here through the release's own
``model_from_json`` and ``load_model(compile=False)`` with keras_deser
installed in safe mode: the bytes must reconstruct the installed code
across processes.  Releases with a ``CustomScaleLayer`` instead (Keras
2.12+, tf_keras, Keras 3) load the model in safe mode as without it.

Negative cases (the same config altered one way each) are refused with
their key paths, by :func:`keras_deser.audit` and through the release's
loaders, and the canary payload never runs.
"""

import base64
import json
import os
import subprocess
import sys

import malicious
import pytest
from malicious import releases

import keras_deser
from keras_deser import shipped_code

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="core environment: no TensorFlow/Keras here")

_SAVE = r"""
import json, os, sys
import numpy as np
if os.environ["KERAS_DESER_UPSTREAM"] == "keras":
    import keras
else:
    import tensorflow as tf
    keras = tf.keras
out = sys.argv[1]
model = keras.applications.InceptionResNetV2(weights=None)
model.save(os.path.join(out, "model.h5"))
with open(os.path.join(out, "model.json"), "w") as handle:
    handle.write(model.to_json())
with open(os.path.join(out, "facts.json"), "w") as handle:
    json.dump({"classes": [type(layer).__name__ for layer in model.layers],
               "sums": [float(np.asarray(w, dtype="float64").sum()) for w in model.get_weights()]}, handle)
"""


def _keras():
    return releases.keras_api(UPSTREAM)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """InceptionResNetV2 saved as JSON and HDF5 by a fresh process without keras_deser."""
    out = tmp_path_factory.mktemp("inception_resnet_v2")
    env = {key: value for key, value in os.environ.items() if key != "KERAS_DESER_INSTALL"}
    done = subprocess.run([sys.executable, "-c", _SAVE, str(out)], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=600)
    assert done.returncode == 0, done.stdout.decode("utf-8", "replace")[-3000:]
    with open(str(out / "facts.json")) as handle:
        facts = json.load(handle)
    with open(str(out / "model.json")) as handle:
        text = handle.read()
    return {"dir": out, "json": text, "h5": str(out / "model.h5"), **facts}


def _lambda_indices(config):
    return [i for i, layer in enumerate(config["config"]["layers"]) if layer["class_name"] == "Lambda"]


def _has_shipped_lambdas(saved):
    return bool(_lambda_indices(json.loads(saved["json"])))


def _outcome(load):
    try:
        model = load()
    except Exception as error:  # noqa: BLE001
        return ("error", type(error).__name__, str(error).split("\n")[0]), None
    return ("ok", [type(layer).__name__ for layer in model.layers]), model


def test_inception_resnet_v2_loads_in_safe_mode_through_the_releases_loaders(saved, safe_installed):
    import numpy as np

    keras = _keras()
    config = json.loads(saved["json"])
    lambdas = _lambda_indices(config)
    if lambdas:
        assert len(lambdas) == 40
        assert shipped_code.shipped(_flavour()).dumps, "a release with the Lambda lists no place for its code"
    else:
        # Keras 2.12+, tf_keras, Keras 3: the residual scaling is a CustomScaleLayer.
        assert saved["classes"].count("CustomScaleLayer") == 40, (_flavour(), set(saved["classes"]))
    report = keras_deser.audit(config)
    assert not report.unsafe, str(report.unsafe[:3])

    loaders = {"model_from_json": lambda: keras.models.model_from_json(saved["json"]),
               "load_model": lambda: keras.models.load_model(saved["h5"], compile=False)}
    loaded_somehow = False
    for label, load in loaders.items():
        outcome, model = _outcome(load)
        if outcome[0] != "ok" and not lambdas:
            # As the release does without safe mode (Keras 3's HDF5 loader knows no unregistered
            # CustomScaleLayer), and never a refusal.
            keras.backend.clear_session()
            keras_deser.set_safe_mode(False)
            plain, _ = _outcome(load)
            keras_deser.set_safe_mode(True)
            keras.backend.clear_session()
            assert outcome == plain, (label, outcome, plain)
            continue
        assert outcome == ("ok", saved["classes"]), (label, outcome[:3])
        loaded_somehow = True
        if label == "load_model":
            sums = [float(np.asarray(w, dtype="float64").sum()) for w in model.get_weights()]
            assert np.allclose(sums, saved["sums"], rtol=1e-6, atol=1e-6)
        if lambdas:
            index = lambdas[0]
            scale = config["config"]["layers"][index]["config"]["arguments"]["scale"]
            assert model.layers[index].arguments == {"scale": scale}
        del model
        keras.backend.clear_session()  # after get_weights: TF 1.15's graph goes with it
    assert loaded_somehow


def _flavour():
    from keras_deser import _state

    return _state.binding.flavour.name


# --- negative cases ----------------------------------------------------------


def _altered(saved, change):
    """The saved config with the first Lambda changed by ``change(inner)``; and its layer index."""
    if not _has_shipped_lambdas(saved):
        pytest.skip("this release's InceptionResNetV2 has no Lambda (a CustomScaleLayer instead)")
    config = json.loads(saved["json"])
    index = _lambda_indices(config)[0]
    change(config["config"]["layers"][index]["config"])
    return config, index


def _refused_everywhere(keras, config, index, tmp_path, expect_path="['class_name']", message=None):
    report = keras_deser.audit(json.loads(json.dumps(config)))
    prefix = f"config['config']['layers'][{index}]"
    paths = [finding.path for finding in report.unsafe]
    assert prefix + expect_path in paths, paths
    if message:
        assert message in next(f.unsafe for f in report.unsafe if f.path == prefix + "['class_name']")
    keras_deser.set_safe_mode(False)
    path = releases.h5_with_config(keras, str(tmp_path / "altered.h5"), config)
    keras_deser.install(safe_mode=True)
    try:
        for load in (lambda: keras.models.model_from_json(json.dumps(config)),
                     lambda: keras.models.load_model(path, compile=False)):
            with pytest.raises(Exception) as info:
                load()
            assert releases.refused(info.value), repr(info.value)
            assert prefix in str(info.value)
    finally:
        keras_deser.uninstall()
        keras_deser.set_safe_mode(False)
    assert not os.path.exists(str(tmp_path / "canary"))


def _set_code(inner, raw):
    inner["function"][0] = base64.b64encode(raw).decode("ascii")


def test_one_byte_of_the_bytecode_changed_is_refused(saved, tmp_path):
    def change(inner):
        raw = bytearray(base64.b64decode(inner["function"][0]))
        raw[len(raw) // 2] ^= 0x01
        _set_code(inner, bytes(raw))

    config, index = _altered(saved, change)
    _refused_everywhere(_keras(), config, index, tmp_path, "['config']['function'][0]",
                        message="not identical to the installed release's own code")


def test_another_function_of_the_same_module_is_refused(saved, tmp_path):
    import importlib
    import marshal

    config = json.loads(saved["json"]) if _has_shipped_lambdas(saved) else None
    if config is None:
        pytest.skip("this release's InceptionResNetV2 has no Lambda (a CustomScaleLayer instead)")
    module = importlib.import_module(config["config"]["layers"][_lambda_indices(config)[0]]["config"]["module"])
    other = marshal.dumps(module.conv2d_bn.__code__)  # shipped code, but not in a listed place
    config, index = _altered(saved, lambda inner: _set_code(inner, other))
    _refused_everywhere(_keras(), config, index, tmp_path, "['config']['function'][0]",
                        message="not identical to the installed release's own code")


def test_a_closure_added_is_refused(saved, tmp_path):
    config, index = _altered(saved, lambda inner: inner.__setitem__("function", [inner["function"][0], None, [1.0]]))
    _refused_everywhere(_keras(), config, index, tmp_path, "['config']['function_type']")


def test_arguments_holding_a_nested_object_are_refused(saved, tmp_path):
    def change(inner):
        inner["arguments"] = {"scale": {"class_name": "Dense", "config": {"units": 1}}}

    config, index = _altered(saved, change)
    _refused_everywhere(_keras(), config, index, tmp_path, "['config']['function'][0]")


def test_another_module_key_is_refused(saved, tmp_path):
    config, index = _altered(saved, lambda inner: inner.__setitem__("module", "os"))
    _refused_everywhere(_keras(), config, index, tmp_path, "['config']['function_type']")


def test_the_canary_payload_in_place_of_the_bytecode_is_refused(saved, tmp_path):
    canary = str(tmp_path / "canary")

    def change(inner):
        inner["function"][0] = malicious.lambda_code(canary)

    config, index = _altered(saved, change)
    _refused_everywhere(_keras(), config, index, tmp_path, "['config']['function'][0]",
                        message="not identical to the installed release's own code")
    assert not os.path.exists(canary)


def test_a_subclass_of_lambda_is_not_excused(saved):
    config, index = _altered(saved, lambda inner: None)
    keras = _keras()
    subclass = type("Lambda", (keras.layers.Lambda,), {})
    report = keras_deser.audit(config, custom_objects={"Lambda": subclass})
    assert f"config['config']['layers'][{index}]['class_name']" in [f.path for f in report.unsafe]
