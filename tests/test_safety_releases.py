"""Safe mode on the real release of this environment: payloads refused, no false alarms.

Payloads (``tests/malicious/releases.py``, issues 9 and 12) go through the
release's own loaders with keras_deser installed in safe mode (HDF5
``load_model``, ``model_from_json`` where it reaches the legacy loader) and
through keras_deser directly; each must be refused with
:class:`keras_deser.UnsafeConfigError` and its canary must stay untouched.
Whether the release itself, without keras_deser, lets each payload take
hold is recorded by ``tools/safe_mode_table.py`` (docs/safe-mode.md).

No false alarms: every ``keras.applications`` model of the release audits
clean (all of them with ``KD_ALL_APPLICATIONS=1``; by default the smallest
model of every builder module, to keep CI time modest), a few
load through the release's loaders in safe mode exactly as without it, and
every string identifier the release documents for initializers,
regularizers, constraints, activations, losses and metrics resolves in
safe mode exactly as without it, in code (``Dense(3,
kernel_initializer='he_normal')``) and from configs.
"""

import json
import os

import malicious
import pytest
from malicious import releases

import keras_deser
from keras_deser.builtins import keras_builtins

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="core environment: no TensorFlow/Keras here")


def _keras():
    return releases.keras_api(UPSTREAM)


def _payload_ids():
    if not UPSTREAM:
        return []
    import tempfile

    return [payload.id for payload in releases.payloads(_keras(), tempfile.mkdtemp())]


def _payload(name, tmp_path):
    return next(payload for payload in releases.payloads(_keras(), str(tmp_path)) if payload.id == name)


def _load_and_judge(load, payload):
    """Run ``load()``: it must raise UnsafeConfigError and the attack must not take hold."""
    model = None
    try:
        model = load()
    except Exception as error:  # noqa: BLE001
        assert releases.refused(error), f"{payload.id}: not refused by safe mode but {type(error).__name__}: {error}"
    else:
        raise AssertionError(f"{payload.id}: loaded in safe mode")
    assert not payload.effect(model)


@pytest.mark.parametrize("name", _payload_ids())
def test_payload_refused_through_the_releases_hdf5_load_model(name, tmp_path, safe_installed):
    payload = _payload(name, tmp_path)
    config = payload.config()
    keras_deser.set_safe_mode(False)
    path = releases.h5_with_config(_keras(), str(tmp_path / "payload.h5"), config)
    keras_deser.set_safe_mode(True)
    _load_and_judge(lambda: _keras().models.load_model(path, compile=False), payload)
    assert not os.path.exists(str(tmp_path / "canary"))


@pytest.mark.parametrize("name", _payload_ids())
def test_payload_refused_by_keras_deser_directly_and_reported_by_audit(name, tmp_path):
    payload = _payload(name, tmp_path)
    config = payload.config()
    report = keras_deser.audit(json.loads(json.dumps(config)))
    assert report.unsafe, f"{payload.id}: audit found nothing unsafe\n{report}"
    with keras_deser.safe_mode():
        _load_and_judge(lambda: keras_deser.deserialize_keras_object(config, module_objects=keras_builtins()), payload)
    assert not os.path.exists(str(tmp_path / "canary"))


@pytest.mark.parametrize("name", _payload_ids())
def test_payload_refused_through_the_releases_model_from_json(name, tmp_path, safe_installed):
    payload = _payload(name, tmp_path)
    text = json.dumps(payload.config())
    try:
        model = _keras().models.model_from_json(text)
    except Exception as error:  # noqa: BLE001
        if not releases.refused(error):
            # the release's own new-format loader refused or failed on its own (no keras_deser call)
            assert not payload.effect(None)
        model = None
    assert not payload.effect(model), f"{payload.id}: took hold through model_from_json in safe mode"
    assert not os.path.exists(str(tmp_path / "canary"))


def test_hdf5_training_config_bytecode_refused(tmp_path):
    keras = _keras()
    keras_deser.set_safe_mode(False)
    inputs = keras.Input(shape=(2,))
    config = json.loads(keras.Model(inputs, keras.layers.Dense(2)(inputs)).to_json())
    training = {"loss": {"class_name": "MeanSquaredError",
                         "config": {"name": "mse", "reduction": malicious.lambda_code(str(tmp_path / "canary"))}},
                "metrics": [], "optimizer_config": {"class_name": "SGD", "config": {"learning_rate": 0.1}}}
    path = releases.h5_with_config(keras, str(tmp_path / "t.h5"), config, training, weights=True)
    keras_deser.install(safe_mode=True)
    try:
        with pytest.raises(Exception) as info:
            keras.models.load_model(path)
        assert releases.refused(info.value), repr(info.value)
    finally:
        keras_deser.uninstall()
        keras_deser.set_safe_mode(False)


@pytest.mark.parametrize("name", ["tf", "backend"])
def test_string_identifier_naming_a_module_of_the_loaders_globals_refused(name, safe_installed):
    """``activations.get('tf')`` would hand the module the loader's globals hold to the layer (issue 9)."""
    keras = _keras()
    with pytest.raises(Exception) as info:
        keras.activations.get(name)
    if not releases.refused(info.value):  # this release's activations module holds no such global
        keras_deser.set_safe_mode(False)
        try:
            keras.activations.get(name)
        except (ValueError, TypeError, KeyError, AttributeError):
            return
        raise AssertionError(f"activations.get({name!r}) resolves without safe mode and was not refused with it")


# --- no false alarms ----------------------------------------------------------


def test_compiled_model_with_metrics_loads_with_compile_in_safe_mode(tmp_path, safe_installed):
    """Keras 2 saves ``metrics=['mae']`` as ``MeanMetricWrapper`` with ``fn`` 'mean_absolute_error' (issue 9)."""
    keras = _keras()
    keras_deser.set_safe_mode(False)
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(loss="mse", optimizer="sgd", metrics=["mae", "accuracy"])
    import numpy as np

    model.fit(np.array([[1.0, 2.0]]), np.array([[1.0, 2.0]]), verbose=0)
    path = str(tmp_path / "compiled.h5")
    model.save(path)
    try:
        keras.models.load_model(path)
    except Exception as error:  # noqa: BLE001 - Keras 3 cannot compile its own HDF5 metrics ('keras.metrics.mse')
        pytest.skip(f"the release cannot load it with compile=True itself: {type(error).__name__}")
    keras_deser.set_safe_mode(True)
    loaded = keras.models.load_model(path)
    assert loaded.optimizer is not None


#: Built by default: the smallest model of every builder of ``keras.applications``
#: (the other names of a builder module differ only in sizes and depths); every
#: name with ``KD_ALL_APPLICATIONS=1``.
_DEFAULT_APPLICATIONS = ("ConvNeXtTiny", "DenseNet121", "EfficientNetB0", "EfficientNetV2B0", "InceptionResNetV2",
                         "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Small", "NASNetMobile", "RegNetX002",
                         "RegNetY002", "ResNet50", "ResNet50V2", "ResNetRS50", "VGG16", "VGG19", "Xception")
#: Loaded through the release's own loaders in safe mode.
_LOADED_APPLICATIONS = ("MobileNetV2",)


def _all_applications():
    module = _keras().applications
    return sorted((name, value) for name, value in vars(module).items() if name[:1].isupper() and callable(value))


def _applications():
    if os.environ.get("KD_ALL_APPLICATIONS") == "1":
        return _all_applications()
    return [(name, build) for name, build in _all_applications() if name in _DEFAULT_APPLICATIONS]


def test_the_default_applications_cover_every_builder_module():
    """A release that adds a builder module fails here until the default set names one of its models."""
    modules = {}
    for name, build in _all_applications():
        modules.setdefault(getattr(build, "__module__", None), []).append(name)
    uncovered = {module: names for module, names in modules.items()
                 if not any(name in _DEFAULT_APPLICATIONS for name in names)}
    assert not uncovered, f"no model of these builder modules in _DEFAULT_APPLICATIONS: {uncovered}"


def test_every_application_audits_clean_and_builds_in_safe_mode(safe_installed):
    """Built in safe mode (the release's construction code runs through keras_deser) and audited clean."""
    keras = _keras()
    failures = []
    for name, build in _applications():
        try:
            model = build(weights=None)
        except Exception as error:  # noqa: BLE001
            keras_deser.set_safe_mode(False)
            try:
                build(weights=None)
            except Exception:  # noqa: BLE001 - the release cannot build it either
                keras_deser.set_safe_mode(True)
                continue
            failures.append(f"{name}: built without safe mode, not with it: {type(error).__name__}: {error}")
            keras_deser.set_safe_mode(True)
            continue
        report = keras_deser.audit(json.loads(model.to_json()))
        if report.unsafe:
            failures.append(f"{name}: {report.unsafe[:3]}")
        keras.backend.clear_session()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", _LOADED_APPLICATIONS)
def test_applications_load_through_the_releases_loaders_in_safe_mode(name, tmp_path, safe_installed):
    keras = _keras()
    build = getattr(keras.applications, name, None)
    if build is None:
        pytest.skip(f"no {name} in this release")
    keras_deser.set_safe_mode(False)
    model = build(weights=None)
    path = str(tmp_path / "m.h5")
    model.save(path)
    keras_deser.set_safe_mode(True)
    loaded = keras.models.load_model(path, compile=False)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    again = keras.models.model_from_json(model.to_json())
    assert len(again.layers) == len(model.layers)


_GROUPS = ("initializers", "regularizers", "constraints", "activations", "losses", "metrics")


def _outcome(get, name):
    try:
        value = get(name)
    except Exception as error:  # noqa: BLE001
        return ("error", type(error).__name__, str(error).split("\n")[0])
    return ("ok", type(value).__name__, getattr(value, "__name__", None))


def test_every_documented_identifier_resolves_the_same_in_safe_mode(safe_installed):
    """``group.get(name)`` for every public name of every group, with and without safe mode."""
    keras = _keras()
    differences = []
    for group in _GROUPS:
        module = getattr(keras, group)
        get = getattr(module, "get", None)
        if get is None:
            continue
        names = sorted(name for name, value in vars(module).items()
                       if not name.startswith("_") and callable(value)
                       and name not in ("get", "serialize", "deserialize"))
        for name in names:
            keras_deser.set_safe_mode(True)
            safe = _outcome(get, name)
            keras_deser.set_safe_mode(False)
            plain = _outcome(get, name)
            if safe != plain:
                differences.append(f"{group}.get({name!r}): safe {safe}, plain {plain}")
    assert not differences, "\n".join(differences)


@pytest.mark.parametrize("initializer", ["he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
                                         "glorot_uniform", "glorot_normal", "orthogonal", "zeros", "ones"])
def test_layer_construction_with_string_identifiers_in_safe_mode(initializer, safe_installed):
    keras = _keras()
    layer = keras.layers.Dense(3, kernel_initializer=initializer, kernel_regularizer="l2",
                               activity_regularizer="l1", kernel_constraint="max_norm", activation="relu")
    model = keras.Sequential([keras.Input(shape=(2,)), layer])
    model.compile(loss="mse", metrics=["mae", "accuracy"])
    for regularizer in ("l1", "l2", "l1_l2"):  # TF 1.15: factories; Keras 3: no 'l1_l2' string
        safe = _outcome(keras.regularizers.get, regularizer)
        keras_deser.set_safe_mode(False)
        plain = _outcome(keras.regularizers.get, regularizer)
        keras_deser.set_safe_mode(True)
        assert safe == plain
    again = keras.models.model_from_json(model.to_json())
    assert type(again.layers[-1]).__name__ == "Dense"


def test_preprocessing_layers_with_in_memory_vocabularies_load_in_safe_mode(tmp_path, safe_installed):
    keras = _keras()
    cls = releases._lookup_class(keras, "StringLookup")
    if not releases._usable(keras, "StringLookup"):
        pytest.skip("no usable StringLookup in this release")
    keras_deser.set_safe_mode(False)
    inputs = keras.Input(shape=(1,), dtype="string")
    outputs = cls(vocabulary=["a", "b", "c"])(inputs)
    integer = releases._lookup_class(keras, "IntegerLookup") if releases._usable(keras, "IntegerLookup") else None
    model = keras.Model(inputs, outputs)
    config = json.loads(model.to_json())
    keras_deser.set_safe_mode(True)
    assert not keras_deser.audit(config).unsafe
    loaded = keras.models.model_from_json(json.dumps(config))
    keras_deser.set_safe_mode(False)
    plain = keras.models.model_from_json(json.dumps(config))
    keras_deser.set_safe_mode(True)
    # As without safe mode (TF 2.4's StringLookup keeps no vocabulary in its config).
    assert list(loaded.layers[-1].get_vocabulary()) == list(plain.layers[-1].get_vocabulary())
    if "vocabulary" in config["config"]["layers"][-1]["config"]:
        assert list(loaded.layers[-1].get_vocabulary())[-3:] == ["a", "b", "c"]
    if integer is not None:
        keras_deser.set_safe_mode(False)
        ints = keras.Input(shape=(1,), dtype="int64")
        model = keras.Model(ints, integer(vocabulary=[3, 4])(ints))
        keras_deser.set_safe_mode(True)
        keras.models.model_from_json(model.to_json())


def test_dev_zero_vocabulary_refused_without_crashing(tmp_path, safe_installed):
    keras = _keras()
    if not releases._usable(keras, "StringLookup"):
        pytest.skip("no usable StringLookup in this release")
    payload = _payload("stringlookup_dev_zero", tmp_path)
    keras_deser.set_safe_mode(False)
    path = releases.h5_with_config(keras, str(tmp_path / "zero.h5"), payload.config())
    keras_deser.set_safe_mode(True)
    with pytest.raises(Exception) as info:
        keras.models.load_model(path, compile=False)
    assert releases.refused(info.value)
