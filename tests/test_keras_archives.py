"""``.keras`` archives of every saving release, loaded with their weights by this one (issue 10, item 4).

tests/corpus/<source>/<model>.keras are the five core models saved by Keras
2.12 (``save_format="keras_v3"``), 2.15, tf_keras 2.21 and Keras 3 (TF and JAX)
with the same seeded weights as the HDF5 corpus, so ``<model>.npz`` holds their
predictions.  Each is loaded by this release's own ``load_model`` under
``keras_deser.patched(translate=True)`` and must have the source's parameter
count and predictions (atol 1e-4).  Then: what cannot be mapped is a clear
``ArchiveWeightsError`` naming the layer and the store path, never a silent
load; with translation off, ``load_model`` is upstream's.
"""

import glob
import importlib.util
import io
import json
import os
import shutil
import sys
import warnings
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
sys.path.insert(0, CORPUS)

HAS_KERAS = any(importlib.util.find_spec(name) is not None for name in ("tensorflow", "keras"))
pytestmark = [
    pytest.mark.upstream,
    pytest.mark.skipif(not HAS_KERAS, reason="no TensorFlow or Keras in this environment"),
]

ARCHIVES = sorted(os.path.relpath(path, CORPUS) for path in glob.glob(os.path.join(CORPUS, "*", "*.keras")))
#: The saving releases the corpus has archives of (every one of the matrix that writes the zip).
SOURCES = {"tf2.12", "tf2.15", "tf2.21-tf_keras", "tf2.21-keras3", "keras3-jax"}


@pytest.fixture(scope="module")
def layers():
    import corpus_layers

    return corpus_layers


def _predict(model, x):
    """The model's output for ``x``: a direct call where eager (much faster than ``predict``'s tracing)."""
    inputs = x if len(x) > 1 else x[0]
    try:
        import tensorflow as tf

        eager = tf.executing_eagerly()
    except ImportError:
        eager = True
    return model(inputs) if eager else model.predict(inputs, verbose=0)


def _inputs(base):
    import numpy as np

    with np.load(base + ".npz") as data:
        return [data[key] for key in sorted(data.files) if key.startswith("x")], data["y"]


def _params(base):
    with open(os.path.join(os.path.dirname(base), "manifest.json")) as handle:
        return json.load(handle)["models"][os.path.basename(base)]["params"]


def test_corpus_has_archives_of_every_writing_release():
    assert {name.split(os.sep)[0] for name in ARCHIVES} == SOURCES
    assert len(ARCHIVES) == 5 * len(SOURCES)


@pytest.mark.parametrize("name", ARCHIVES)
def test_archive_loads_with_weights(layers, name):
    import numpy as np

    import keras_deser

    keras = layers.keras
    source, filename = name.split(os.sep)
    base = os.path.join(CORPUS, source, filename[: -len(".keras")])
    with open(os.path.join(CORPUS, source, "manifest.json")) as handle:
        params = json.load(handle)["models"][os.path.basename(base)]["params"]
    x, y = _inputs(base)
    keras.backend.clear_session()
    with keras_deser.patched(translate=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.models.load_model(base + ".keras", compile=False, custom_objects=dict(layers.CUSTOM_OBJECTS))
    assert model.count_params() == params
    np.testing.assert_allclose(np.asarray(_predict(model, x)), y, atol=1e-4)


def test_load_archive_function(layers):
    import numpy as np

    from keras_deser import archives

    base = os.path.join(CORPUS, "keras3-jax", "cnn")
    x, y = _inputs(base)
    layers.keras.backend.clear_session()
    model = archives.load_archive(base + ".keras")
    np.testing.assert_allclose(np.asarray(_predict(model, x)), y, atol=1e-4)
    with pytest.raises(ValueError, match="compile=True"):
        archives.load_archive(base + ".keras", compile=True)


def test_translation_off_leaves_load_model_alone(layers):
    import keras_deser

    original = layers.keras.models.load_model
    with keras_deser.patched():
        assert layers.keras.models.load_model is original
    with keras_deser.patched(translate=True):
        assert getattr(layers.keras.models.load_model, "__wrapped__", None) is original
    assert layers.keras.models.load_model is original


# --- what cannot be mapped: a clear error, never wrong weights ------------------------------------


def _rewrite(source, destination, config=None, weights=None):
    """Copy an archive, replacing its config (a function of the dict) and/or weights (a function of an h5py File)."""
    import h5py

    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if config is not None:
        members["config.json"] = json.dumps(config(json.loads(members["config.json"]))).encode()
    if weights is not None:
        buffer = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buffer, "r+") as handle:
            weights(handle)
        members["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(destination, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(destination)


def _layer(config, name):
    return next(layer for layer in config["config"]["layers"] if layer["config"]["name"] == name)


MLP = os.path.join(CORPUS, "tf2.21-keras3", "mlp.keras")


def _load_error(layers, path):
    from keras_deser import archives

    layers.keras.backend.clear_session()
    with pytest.raises(archives.ArchiveWeightsError) as caught:
        archives.load_archive(path)
    return caught.value


def _narrower_kernel(handle):
    import numpy as np

    del handle["layers/dense/vars/0"]
    handle["layers/dense/vars/0"] = np.zeros((8, 15), "float32")


def test_shape_that_disagrees_names_layer_and_path(layers, tmp_path):
    error = _load_error(layers, _rewrite(MLP, tmp_path / "m.keras", weights=_narrower_kernel))
    assert error.layer == "hidden" and error.path == "layers/dense/vars/0"
    assert "(8, 16)" in str(error) and "(8, 15)" in str(error)


def test_same_shapes_other_count_is_refused(layers, tmp_path):
    def no_bias(config):
        _layer(config, "out")["config"]["use_bias"] = False
        return config

    error = _load_error(layers, _rewrite(MLP, tmp_path / "m.keras", config=no_bias))
    assert error.layer == "out" and error.path == "layers/dense_1/vars"
    assert "2 variable(s)" in str(error)


def test_missing_and_extra_weights_are_refused(layers, tmp_path):
    def drop(handle):
        del handle["layers/dense_1"]

    error = _load_error(layers, _rewrite(MLP, tmp_path / "a.keras", weights=drop))
    assert "'dense'" in str(error) and "dense_1" not in error.path and error.path == "layers"

    def extra(handle):
        handle.copy("layers/dense_1", "layers/dense_2")

    error = _load_error(layers, _rewrite(MLP, tmp_path / "b.keras", weights=extra))
    assert "2 layer(s) of class 'dense'" in str(error) and "dense_2" in str(error)

    def stray(handle):
        handle.copy("layers/dense_1", "layers/conv2d")

    error = _load_error(layers, _rewrite(MLP, tmp_path / "c.keras", weights=stray))
    assert error.path == "layers/conv2d"


def test_not_an_archive_store(tmp_path):
    from keras_deser import archives

    path = tmp_path / "m.keras"
    shutil.copy(MLP, path)
    assert archives.is_archive(str(path))
    assert not archives.is_archive(os.path.join(CORPUS, "tf2.9", "mlp.h5"))
    with zipfile.ZipFile(MLP) as archive, zipfile.ZipFile(tmp_path / "n.keras", "w") as out:
        out.writestr("config.json", archive.read("config.json"))
    with pytest.raises(archives.ArchiveWeightsError, match="no model.weights.h5"):
        archives.read_archive(str(tmp_path / "n.keras"))


# --- the command ------------------------------------------------------------------------------


def test_load_command_reads_archive_weights(layers, capsys):
    from keras_deser.cli import main

    path = os.path.join(CORPUS, "tf2.15", "cnn.keras")
    layers.keras.backend.clear_session()
    assert main(["load", path, "--translate", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    with open(os.path.join(CORPUS, "tf2.15", "manifest.json")) as handle:
        assert document["parameters"] == json.load(handle)["models"]["cnn"]["params"]
    assert document["weights"] == 8  # conv2d 2, batch_normalization 4, dense 2


def test_load_command_weight_error_exits_1(layers, tmp_path, capsys):
    from keras_deser.cli import main

    path = _rewrite(MLP, tmp_path / "m.keras", weights=_narrower_kernel)
    layers.keras.backend.clear_session()
    assert main(["load", path, "--translate"]) == 1
    assert "layers/dense/vars/0" in capsys.readouterr().err


# --- convert: a Keras 2 HDF5 file with the weights, for the target's own loader ---------------------

#: Both weight layouts (2.12's, 2.13+'s) with Bidirectional's order, BatchNormalization's, a custom layer's.
CONVERTED = [os.path.join(*name) for name in (
    ("tf2.12", "rnn.keras"), ("keras3-jax", "rnn.keras"), ("keras3-jax", "cnn.keras"), ("tf2.15", "shared.keras"),
)]


@pytest.mark.parametrize("name", CONVERTED)
def test_convert_archive_to_hdf5_for_this_release(layers, name, tmp_path):
    import numpy as np

    from keras_deser import format_changes, translation

    keras = layers.keras
    base = os.path.join(CORPUS, name[: -len(".keras")])
    target = format_changes.release_name(translation.bound_release())
    out = str(tmp_path / "m.h5")
    translation.convert_file(base + ".keras", out, target)
    x, y = _inputs(base)
    keras.backend.clear_session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.models.load_model(out, compile=False, custom_objects=dict(layers.CUSTOM_OBJECTS))  # upstream's
    assert model.count_params() == _params(base)
    np.testing.assert_allclose(np.asarray(_predict(model, x)), y, atol=1e-4)


def test_convert_refuses_an_order_it_cannot_tell(tmp_path):
    from keras_deser import archives

    def frozen(config):
        _layer(config, "bidirectional")["config"]["trainable"] = False
        return config

    path = _rewrite(os.path.join(CORPUS, "keras3-jax", "rnn.keras"), tmp_path / "r.keras", config=frozen)
    with pytest.raises(archives.ArchiveWeightsError, match="frozen sublayer") as caught:
        archives.archive_to_hdf5(path, str(tmp_path / "r.h5"), "2.9")
    assert caught.value.layer == "bidirectional" and caught.value.path.startswith("layers/bidirectional/")
    assert not os.path.exists(tmp_path / "r.h5")


def test_safe_mode_audits_an_archive_before_building(layers, tmp_path):
    import keras_deser

    def with_lambda(config):
        layer = _layer(config, "out")
        layer["class_name"] = "Lambda"
        layer["config"] = {"name": "out", "function": {"class_name": "function", "config": "print"}}
        return config

    path = _rewrite(MLP, tmp_path / "m.keras", config=with_lambda)
    layers.keras.backend.clear_session()
    with keras_deser.patched(translate=True), keras_deser.safe_mode():
        with pytest.raises(keras_deser.UnsafeConfigError):
            layers.keras.models.load_model(path, compile=False)


def test_other_release_archive_comes_back_uncompiled_with_a_warning(layers):
    import keras_deser
    from keras_deser import translation

    source = "tf2.15" if translation.bound_release() >= (3, 0) else "keras3-jax"
    layers.keras.backend.clear_session()
    with keras_deser.patched(translate=True), pytest.warns(UserWarning, match="was \\*not\\* compiled"):
        model = layers.keras.models.load_model(os.path.join(CORPUS, source, "mlp.keras"))
    assert not getattr(model, "optimizer", None)
