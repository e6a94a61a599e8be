"""keras_deser.translate and the format-change table (issue 10).

The pure tests run on the committed corpus (tests/corpus/<env>/*.json, saved
by the real releases of the matrix) with named targets, in every env,
Keras or not.  The loader tests need a Keras and run against the real
release of the env.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from typing import Any

import pytest

import keras_deser
from keras_deser import format_changes, translation
from keras_deser.format_changes import FORMAT_CHANGES, TranslationError, UnknownReleaseError, parse_release

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

#: Corpus directory -> the release label of the format it was saved in.
SOURCES: dict[str, str] = {
    "tf1.15": "tf1.15",
    "tf2.4": "2.4",
    "tf2.6": "2.6",
    "tf2.9": "2.9",
    "tf2.12": "2.12",
    "tf2.15": "2.15",
    "tf2.21-tf_keras": "tf_keras-2.21",
    "tf2.21-keras3": "keras-3",
    "keras3-jax": "keras-3",
}
TARGETS = sorted(set(SOURCES.values()), key=parse_release)


def _corpus() -> list[tuple[str, str, Any]]:
    found = []
    for env in sorted(SOURCES):
        folder = os.path.join(CORPUS, env)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith(".json") and name != "manifest.json":
                with open(os.path.join(folder, name)) as handle:
                    found.append((env, name[:-5], json.load(handle)))
    return found


CORPUS_CONFIGS = _corpus()
IDS = [f"{env}-{model}" for env, model, _ in CORPUS_CONFIGS]


def _keys(value: Any, found: set) -> set:
    if isinstance(value, dict):
        found.update(k for k in value if isinstance(k, str))
        for item in value.values():
            _keys(item, found)
    elif isinstance(value, list):
        for item in value:
            _keys(item, found)
    return found


def _class_names(value: Any, found: set) -> set:
    if isinstance(value, dict):
        if isinstance(value.get("class_name"), str):
            found.add(value["class_name"])
        for item in value.values():
            _class_names(item, found)
    elif isinstance(value, list):
        for item in value:
            _class_names(item, found)
    return found


# --- the table ---------------------------------------------------------------------


def test_table_rows_are_well_formed():
    names = [row.name for row in FORMAT_CHANGES]
    assert len(names) == len(set(names))
    kinds = {"class-renamed", "class-added", "argument-added", "argument-removed", "argument-renamed",
             "argument-re-encoded", "object-form", "module-moved", "node-form", "class-removed"}
    for row in FORMAT_CHANGES:
        assert row.kind in kinds, row
        parse_release(row.since)
        assert row.down is not None or row.up is not None, row
        assert row.what


@pytest.mark.parametrize(
    "label, version",
    [("tf1.15", (1, 15)), ("1.15", (1, 15)), ("2.4", (2, 4)), ("tf2.9", (2, 9)), ("keras-2.9", (2, 9)),
     ("2.9.0", (2, 9)), ("tf_keras-2.21", (2, 21)), ("keras-3", (3, 0)), ("keras3", (3, 0)), ("3", (3, 0)),
     ("3.15.1", (3, 0)), ("2.2.4-tf", (2, 2))],
)
def test_release_vocabulary(label, version):
    assert parse_release(label) == version


@pytest.mark.parametrize("label", ["", "banana", "2", "1.2", "tf"])
def test_unknown_release_is_a_value_error(label):
    with pytest.raises(UnknownReleaseError):
        parse_release(label)
    assert issubclass(UnknownReleaseError, ValueError)


# --- translate() on the corpus --------------------------------------------------------


@pytest.mark.parametrize("env, model, config", CORPUS_CONFIGS, ids=IDS)
def test_identity_on_native_configs(env, model, config):
    new, changes = keras_deser.translate(config, target=SOURCES[env])
    assert changes == []
    assert new == config
    assert new is not config


@pytest.mark.parametrize("env, model, config", CORPUS_CONFIGS, ids=IDS)
def test_input_never_mutated_and_never_shared(env, model, config):
    before = copy.deepcopy(config)
    for target in TARGETS:
        try:
            result = keras_deser.translate(config, target=target)
        except TranslationError:
            continue
        assert config == before
        assert isinstance(result, keras_deser.Translation)
        new = result.config
        # nothing of the input is reachable from the output
        new_ids = set()
        stack = [new]
        while stack:
            value = stack.pop()
            if isinstance(value, (dict, list)):
                new_ids.add(id(value))
                stack.extend(value.values() if isinstance(value, dict) else value)
        stack = [config]
        while stack:
            value = stack.pop()
            if isinstance(value, (dict, list)):
                assert id(value) not in new_ids
                stack.extend(value.values() if isinstance(value, dict) else value)


@pytest.mark.parametrize("env, model, config", CORPUS_CONFIGS, ids=IDS)
def test_changes_name_their_path_and_rule(env, model, config):
    rules = {row.name for row in FORMAT_CHANGES}
    for target in TARGETS:
        try:
            _new, changes = keras_deser.translate(config, target=target)
        except TranslationError:
            continue
        for change in changes:
            assert change.path.startswith("config"), change
            assert change.rule in rules
            assert change.description


@pytest.mark.parametrize("env, model, config", CORPUS_CONFIGS, ids=IDS)
def test_keras2_targets_get_no_keras3_markers(env, model, config):
    for target in ("tf1.15", "2.4", "2.9"):
        new, _changes = keras_deser.translate(config, target=target)
        keys = _keys(new, set())
        assert not keys & {"module", "registered_name", "build_config", "batch_shape", "optional", "args"}
        names = _class_names(new, set())
        assert not names & {"DTypePolicy", "__keras_tensor__", "function"}
        if target == "tf1.15":
            assert "Functional" not in names
            assert not names & {"L1", "L2"}
            assert "shared_object_id" not in keys


@pytest.mark.parametrize("env, model, config", CORPUS_CONFIGS, ids=IDS)
def test_translating_twice_changes_nothing_more(env, model, config):
    for target in TARGETS:
        try:
            once, _ = keras_deser.translate(config, target=target)
        except TranslationError:
            continue
        twice, changes = keras_deser.translate(once, target=target)
        assert changes == [] and twice == once, (target, changes)


def test_example_paths_and_rules():
    config = {
        "class_name": "Functional",
        "config": {
            "name": "m",
            "layers": [
                {"class_name": "InputLayer", "name": "i",
                 "config": {"batch_shape": [None, 3], "dtype": "float32", "name": "i", "optional": False,
                            "sparse": False, "ragged": False},
                 "inbound_nodes": []},
                {"class_name": "Dense", "name": "d", "module": "keras.layers", "registered_name": None,
                 "config": {"name": "d", "units": 2, "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.5}},
                            "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                      "config": {"name": "float32"}, "registered_name": None}},
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                              "config": {"shape": [None, 3], "dtype": "float32",
                                                         "keras_history": ["i", 0, 0]}}],
                                    "kwargs": {"mask": None}}]},
            ],
            "input_layers": ["i", 0, 0],
            "output_layers": ["d", 0, 0],
        },
    }
    new, changes = keras_deser.translate(config, target="tf1.15")
    by_rule = {change.rule: change.path for change in changes}
    assert by_rule["functional-name"] == "config['class_name']"
    assert by_rule["input-batch-shape"] == "config['config']['layers'][0]['config']['batch_shape']"
    assert by_rule["input-optional"] == "config['config']['layers'][0]['config']['optional']"
    assert by_rule["dtype-policy"] == "config['config']['layers'][1]['config']['dtype']"
    assert by_rule["l1-l2-classes"] == "config['config']['layers'][1]['config']['kernel_regularizer']['class_name']"
    assert by_rule["call-nodes"] == "config['config']['layers'][1]['inbound_nodes']"
    assert new["class_name"] == "Model"
    layers = new["config"]["layers"]
    assert layers[0]["config"] == {"batch_input_shape": [None, 3], "dtype": "float32", "name": "i",
                                   "sparse": False, "ragged": False}
    assert layers[1] == {
        "class_name": "Dense", "name": "d",
        "config": {"name": "d", "units": 2, "dtype": "float32",
                   "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.5}}},
        "inbound_nodes": [[["i", 0, 0, {}]]],
    }
    assert new["config"]["input_layers"] == [["i", 0, 0]]


def test_keras2_config_for_keras3():
    config = {
        "class_name": "Model",
        "config": {
            "name": "m",
            "layers": [
                {"class_name": "LSTM", "name": "l", "inbound_nodes": [],
                 "config": {"name": "l", "units": 2, "time_major": False, "implementation": 1,
                            "batch_input_shape": [None, 4, 3],
                            "kernel_initializer": {"class_name": "GlorotUniform",
                                                   "config": {"seed": None, "dtype": "float32"}}}},
                {"class_name": "Bidirectional", "name": "b", "inbound_nodes": [[["l", 0, 0, {}]]],
                 "config": {"name": "b", "layer": {"class_name": "GRU", "config": {"name": "g", "units": 1}}}},
            ],
            "input_layers": [["l", 0, 0]],
            "output_layers": [["b", 0, 0]],
        },
    }
    new, changes = keras_deser.translate(config, target="keras-3")
    assert new["module"] == "keras.src.models.functional" and new["class_name"] == "Functional"
    lstm = new["config"]["layers"][0]["config"]
    assert "time_major" not in lstm and "implementation" not in lstm and "batch_input_shape" not in lstm
    assert lstm["input_shape"] == [4, 3]
    assert lstm["kernel_initializer"] == {"class_name": "GlorotUniform", "config": {"seed": None}}
    assert new["config"]["layers"][1]["config"]["layer"]["module"] == "keras.layers"
    assert {change.rule for change in changes} >= {"model-module-top", "functional-name", "rnn-time-major"}


def test_time_major_true_cannot_reach_keras3():
    config = {"class_name": "LSTM", "config": {"name": "l", "units": 2, "time_major": True}}
    with pytest.raises(TranslationError) as caught:
        keras_deser.translate(config, target="keras-3")
    assert caught.value.path == "config['config']['time_major']"
    assert caught.value.target == "keras-3"
    assert caught.value.class_name == "LSTM"


def test_hard_sigmoid_is_refused_for_a_keras3_that_is_not_loaded():
    config = {"class_name": "GRU", "config": {"name": "g", "units": 2, "recurrent_activation": "hard_sigmoid"}}
    try:
        loaded = translation.bound_release() >= (3, 0)
    except UnknownReleaseError:
        loaded = False
    if loaded:
        new, changes = keras_deser.translate(config, target="keras-3")
        assert new["config"]["recurrent_activation"]["registered_name"] == format_changes.KERAS2_HARD_SIGMOID
        assert format_changes.KERAS2_HARD_SIGMOID in keras_deser.get_custom_objects()
    else:
        with pytest.raises(TranslationError, match="hard_sigmoid") as caught:
            keras_deser.translate(config, target="keras-3")
        assert caught.value.path == "config['config']['recurrent_activation']"
    assert keras_deser.translate(config, target="2.9").changes == []


def test_class_the_target_lacks_is_a_clear_error():
    config = {
        "class_name": "Sequential",
        "config": {"name": "s", "layers": [{"class_name": "Dense", "config": {"units": 1}},
                                           {"module": "keras.layers", "class_name": "RandAugment",
                                            "config": {}, "registered_name": None}]},
    }
    with pytest.raises(TranslationError) as caught:
        keras_deser.translate(config, target="tf1.15")
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.class_name == "RandAugment" and error.target == "tf1.15"
    assert error.path == "config['config']['layers'][1]['class_name']"
    assert "RandAugment" in str(error) and "tf1.15" in str(error) and error.path in str(error)
    # a custom class of that name is the user's business
    new, _ = keras_deser.translate(config, target="tf1.15", custom_objects={"RandAugment": object})
    assert new["config"]["layers"][1]["class_name"] == "RandAugment"


def test_custom_registered_names_survive_the_object_form():
    config = {"module": "my_pkg.layers", "class_name": "Scale", "registered_name": "my_pkg>Scale",
              "config": {"factor": 2.0}}
    new, _ = keras_deser.translate(config, target="2.9")
    assert new == {"class_name": "my_pkg>Scale", "config": {"factor": 2.0}}


def test_json_strings_are_accepted():
    env, _model, config = CORPUS_CONFIGS[0]
    assert keras_deser.translate(json.dumps(config), target=SOURCES[env]).config == config


def test_deep_config_is_a_clear_error():
    config: dict[str, Any] = {"class_name": "X", "config": {}}
    for _ in range(2000):
        config = {"class_name": "X", "config": {"inner": config}}
    with pytest.raises(TranslationError, match="deeper"):
        keras_deser.translate(config, target="2.9")


def test_infer_source_reads_the_markers():
    found = {env: {translation.infer_source(c) for e, _m, c in CORPUS_CONFIGS if e == env} for env in SOURCES}
    assert found["keras3-jax"] == {"keras-3"}
    assert found["tf2.21-keras3"] == {"keras-3"}
    assert "tf1.15" in found["tf1.15"] and not found["tf1.15"] & {"2.3", "2.5", "2.13", "keras-3"}
    assert found["tf2.15"] <= {"2.13", "unknown"}
    assert translation.infer_source({}, keras_version="2.9.0") == "2.9"


def test_import_stays_free_of_tensorflow():
    code = (
        "import keras_deser, keras_deser.translation, sys; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'numpy', 'h5py') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


# --- convert_file without Keras ---------------------------------------------------------


def test_convert_json(tmp_path):
    source = os.path.join(CORPUS, "keras3-jax", "mlp.json")
    if not os.path.exists(source):
        pytest.skip("no keras3-jax corpus")
    out = tmp_path / "mlp-2.9.json"
    result = translation.convert_file(source, str(out), "2.9")
    with open(out) as handle:
        assert json.load(handle) == result.config
    assert result.changes


# --- with the real Keras of this env ------------------------------------------------------


def _keras():
    if not any(name in sys.modules for name in ("tensorflow", "keras", "tf_keras")):
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            try:
                import keras  # noqa: F401
            except ImportError:
                pytest.skip("no Keras in this env")
    sys.path.insert(0, CORPUS)
    import corpus_layers

    return corpus_layers


def _bound_source() -> str:
    release = format_changes.release_name(translation.bound_release())
    for env, label in SOURCES.items():
        if parse_release(label) == parse_release(release):
            return env
    return ""


def _other_release_json() -> tuple[str, str]:
    """A corpus JSON this env's own loader refuses, and its env."""
    own = translation.bound_release()
    env = "tf1.15" if own >= (3, 0) else "keras3-jax"
    return env, os.path.join(CORPUS, env, "mlp.json")


def test_loaders_translate_only_when_asked():
    layers = _keras()
    keras = layers.keras
    env, path = _other_release_json()
    with open(path) as handle:
        text = handle.read()
    with pytest.raises((ValueError, TypeError)):
        keras.models.model_from_json(text)
    with keras_deser.patched():
        with pytest.raises((ValueError, TypeError)):
            keras.models.model_from_json(text)
    with keras_deser.patched(translate=True):
        model = keras.models.model_from_json(text)
    with open(os.path.join(CORPUS, env, "manifest.json")) as handle:
        assert model.count_params() == json.load(handle)["models"]["mlp"]["params"]
    assert not translation.loader_translation()


def test_hdf5_of_another_release_predicts_the_same():
    layers = _keras()
    keras = layers.keras
    import numpy as np

    env, _ = _other_release_json()
    data = np.load(os.path.join(CORPUS, env, "cnn.npz"))
    with keras_deser.patched(translate=True):
        model = keras.models.load_model(os.path.join(CORPUS, env, "cnn.h5"), compile=False)
    np.testing.assert_allclose(model.predict(data["x0"]), data["y"], atol=1e-4)


def test_native_config_gives_the_same_model_with_translation_on():
    layers = _keras()
    keras = layers.keras
    env = _bound_source()
    if not env:
        pytest.skip("this release has no corpus of its own")
    with open(os.path.join(CORPUS, env, "rnn.json")) as handle:
        text = handle.read()
    plain = keras.models.model_from_json(text)
    with keras_deser.patched(translate=True):
        translated = keras.models.model_from_json(text)
    assert json.loads(translated.to_json()) == json.loads(plain.to_json())


#: Marshalled bytecode of some function: never run (safe mode refuses any Lambda).
LAMBDA_CODE = "4wAAAAAAAAAAAAAAAAEAAAABAAAAQwAAAHMEAAAAfABTACkBTqkAKQHaAXhyAQAAAHIBAAAA"


def test_safe_mode_audits_what_translation_produced():
    layers = _keras()
    keras = layers.keras
    env, path = _other_release_json()
    with open(path) as handle:
        config = json.load(handle)
    lambda_layer = {"class_name": "Lambda", "name": "evil", "inbound_nodes": [],
                    "config": {"name": "evil", "function": [LAMBDA_CODE, None, None],
                               "function_type": "lambda", "module": "__main__", "output_shape": None,
                               "output_shape_type": "raw", "arguments": {}}}
    config["config"]["layers"].append(lambda_layer)
    with keras_deser.patched(translate=True, safe_mode=True):
        with pytest.raises(keras_deser.UnsafeConfigError):
            keras.models.model_from_json(json.dumps(config))
    keras_deser.set_safe_mode(False)


def test_safe_mode_loads_what_it_translates_from_any_release():
    # The incoming config is audited too, but the parts translation rewrites
    # (Keras 3's DTypePolicy dicts and module keys on Keras 2, say) are
    # judged in the translated config: no false alarm on an ordinary model.
    layers = _keras()
    keras = layers.keras
    own = translation.bound_release()
    for env in ("tf1.15", "tf2.9", "keras3-jax"):
        if parse_release(SOURCES[env]) == own:
            continue
        with open(os.path.join(CORPUS, env, "mlp.json")) as handle:
            text = handle.read()
        with keras_deser.patched(translate=True):
            expected = keras.models.model_from_json(text).count_params()
        with keras_deser.patched(translate=True, safe_mode=True):
            loaded = keras.models.model_from_json(text)
        keras_deser.set_safe_mode(False)
        assert loaded.count_params() == expected, env


def test_activation_variable_turns_translation_on():
    _keras()
    env, path = _other_release_json()
    package = "keras" if translation.bound_release() >= (3, 0) and "tensorflow" not in sys.modules else "tensorflow"
    code = (
        f"import {package} as k, json; keras = getattr(k, 'keras', k); "
        f"m = keras.models.model_from_json(open({path!r}).read()); print(m.count_params())"
    )
    env_vars = dict(os.environ, KERAS_DESER_INSTALL="safe,translate")
    done = subprocess.run([sys.executable, "-c", code], env=env_vars, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(os.path.join(CORPUS, env, "manifest.json")) as handle:
        assert int(done.stdout.strip().splitlines()[-1]) == json.load(handle)["models"]["mlp"]["params"]


def test_converted_hdf5_loads_without_keras_deser(tmp_path):
    layers = _keras()
    import numpy as np

    env = "tf2.9" if translation.bound_release() >= (3, 0) else "keras3-jax"
    out = tmp_path / "converted.h5"
    own = format_changes.release_name(translation.bound_release())
    translation.convert_file(os.path.join(CORPUS, env, "rnn.h5"), str(out), own)
    code = (
        "import sys, numpy as np; sys.path.insert(0, {!r}); import corpus_layers; "
        "m = corpus_layers.keras.models.load_model({!r}, compile=False); "
        "d = np.load({!r}); print(float(np.abs(m.predict(d['x0']) - d['y']).max()))"
    ).format(CORPUS, str(out), os.path.join(CORPUS, env, "rnn.npz"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert layers is not None
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip().splitlines()[-1]) < 1e-4
    assert np is not None


# --- .keras archives ----------------------------------------------------------------------

FIXTURES = os.path.join(HERE, "translate_fixtures")
#: .keras archives saved by 2.15, tf_keras 2.21 and Keras 3 of one model
#: (LSTM + Bidirectional(GRU) + Dense, 476 parameters).
ARCHIVES = ["tf2.15-rnn.keras", "tf2.21-tf_keras-rnn.keras", "keras3-jax-rnn.keras"]


@pytest.mark.parametrize("name", ARCHIVES)
def test_keras_archive_config_translates_for_every_release(name):
    config, version = translation.read_model_config(os.path.join(FIXTURES, name))
    assert version
    for target in TARGETS:
        new, _changes = keras_deser.translate(config, target=target)
        if parse_release(target) < (2, 13):
            assert "module" not in _keys(new, set())


@pytest.mark.parametrize("name", ARCHIVES)
def test_keras_archive_config_builds_here(name):
    layers = _keras()
    keras = layers.keras
    config, _version = translation.read_model_config(os.path.join(FIXTURES, name))
    with keras_deser.patched(translate=True):
        model = keras.models.model_from_json(json.dumps(config))
    assert model.count_params() == 476


# --- the command ----------------------------------------------------------------------------


def test_convert_command_writes_json_and_lists_changes(tmp_path, capsys):
    from keras_deser.cli import main

    out = tmp_path / "out.json"
    source = os.path.join(CORPUS, "keras3-jax", "mlp.json")
    assert main(["convert", source, "--to", "tf1.15", "-o", str(out), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["target"] == "tf1.15" and document["changes"]
    with open(out) as handle:
        written = json.load(handle)
    with open(source) as handle:
        assert written == keras_deser.translate(json.load(handle), target="tf1.15").config


def test_convert_command_errors(tmp_path, capsys):
    from keras_deser.cli import main

    source = os.path.join(CORPUS, "keras3-jax", "mlp.json")
    assert main(["convert", source, "--to", "banana", "-o", str(tmp_path / "x.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"class_name": "RandAugment", "module": "keras.layers", "config": {}}))
    assert main(["convert", str(bad), "--to", "2.9", "-o", str(tmp_path / "y.json")]) == 1
    assert "RandAugment" in capsys.readouterr().err


def test_layers_deserialize_and_sequential_from_config_translate():
    layers = _keras()
    keras = layers.keras
    env, _ = _other_release_json()
    with open(os.path.join(CORPUS, env, "sequential.json")) as handle:
        config = json.load(handle)
    with open(os.path.join(CORPUS, env, "manifest.json")) as handle:
        params = json.load(handle)["models"]["sequential"]["params"]
    dense = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")
    with keras_deser.patched(translate=True):
        model = keras.Sequential.from_config(copy.deepcopy(config["config"]))
        layer = keras.layers.deserialize(copy.deepcopy(dense))
        assert layer.units == dense["config"]["units"]
    assert model.count_params() == params


# --- lone objects and inner configs (kind deserializers, model classes' from_config) ---------

#: Config keys of a layer whose dict values are objects of a kind, with the kind's module.
_KIND_KEYS = (("_initializer", "initializers"), ("_regularizer", "regularizers"), ("_constraint", "constraints"))


def _others() -> list[str]:
    """Corpus sources of other formats than this env's (one per format family)."""
    own = translation.bound_release()
    return [env for env in ("tf1.15", "tf2.9", "tf2.15", "tf2.21-tf_keras", "keras3-jax")
            if parse_release(SOURCES[env]) != own]


def _lone(env: str, model: str) -> list[tuple[str, dict]]:
    with open(os.path.join(CORPUS, env, model + ".json")) as handle:
        config = json.load(handle)
    found = []
    for entry in config["config"]["layers"]:
        if entry["class_name"] == "InputLayer":
            continue
        found.append(("layers", {key: value for key, value in entry.items() if key not in ("name", "inbound_nodes")}))
        for key, value in entry["config"].items():
            for suffix, kind in _KIND_KEYS:
                if key.endswith(suffix) and isinstance(value, dict):
                    found.append((kind, value))
    return found


def test_lone_objects_of_other_releases_deserialize_by_kind():
    # keras.layers.deserialize / initializers / regularizers / constraints of
    # one object saved by another release (Keras 3's layers.deserialize
    # passes no module_objects: the kind deserializer row says it is a layer).
    layers = _keras()
    keras = layers.keras
    checked = 0
    for env in _others():
        for model in ("mlp", "merge", "rnn", "shared"):
            for kind, obj in _lone(env, model):
                with keras_deser.patched(translate=True):
                    made = getattr(keras, kind).deserialize(copy.deepcopy(obj), custom_objects=layers.CUSTOM_OBJECTS)
                assert made is not None and not isinstance(made, (str, dict)), (env, model, kind, obj)
                if kind == "layers":
                    assert made.name == obj["config"]["name"]
                checked += 1
    assert checked > 40


def test_lone_keras2_layer_needs_translation_on_keras3():
    layers = _keras()
    keras = layers.keras
    if translation.bound_release() < (3, 0):
        pytest.skip("Keras 3 only: Keras 2's layers.deserialize passes module_objects")
    kind, dense = _lone("tf2.9", "mlp")[0]
    with pytest.raises((TypeError, ValueError)):
        keras.layers.deserialize(copy.deepcopy(dense))
    with keras_deser.patched():
        with pytest.raises((TypeError, ValueError)):
            keras.layers.deserialize(copy.deepcopy(dense))
    with keras_deser.patched(translate=True):
        assert keras.layers.deserialize(copy.deepcopy(dense)).units == 16


@pytest.mark.parametrize("model", ["mlp", "shared", "rnn", "nested_free"])
def test_inner_configs_of_other_releases_build_through_from_config(model):
    layers = _keras()
    keras = layers.keras
    model = "sequential" if model == "nested_free" else model
    for env in _others():
        with open(os.path.join(CORPUS, env, model + ".json")) as handle:
            config = json.load(handle)
        with open(os.path.join(CORPUS, env, "manifest.json")) as handle:
            params = json.load(handle)["models"][model]["params"]
        cls = keras.Sequential if config["class_name"] == "Sequential" else keras.Model
        keras.backend.clear_session()
        with keras_deser.patched(translate=True):
            built = cls.from_config(copy.deepcopy(config["config"]), custom_objects=layers.CUSTOM_OBJECTS)
        assert built.count_params() == params, (env, model)


def test_from_config_patches_are_exact_and_reversible():
    layers = _keras()
    keras = layers.keras
    from keras_deser import _state

    rows = _state.binding.flavour.model_from_configs
    classes = [vars(sys.modules[module])[name] for module, name, _ in rows
               if module in sys.modules and name in vars(sys.modules[module])]
    owned = {cls: vars(cls)["from_config"] for cls in classes if "from_config" in vars(cls)}
    assert owned, rows
    deserialize = keras.layers.deserialize

    class Sub(keras.Model):
        pass

    with keras_deser.patched():  # translation off: not touched
        assert all(vars(cls)["from_config"] is original for cls, original in owned.items())
    with keras_deser.patched(translate=True) as sites:
        for cls, original in owned.items():
            replacement = vars(cls)["from_config"]
            assert isinstance(replacement, classmethod) and replacement is not original
            assert replacement.__func__.__wrapped__ is original.__func__
            assert f"{cls.__module__}.{cls.__qualname__}:from_config" in keras_deser.installed_sites()
        assert "from_config" not in vars(Sub)
        assert Sub.from_config.__func__.__keras_deser__
        if _state.binding.flavour.kind_deserializers:
            assert keras.layers.deserialize is not deserialize
            assert any(site.endswith(":deserialize") for site in sites)
    assert all(vars(cls)["from_config"] is original for cls, original in owned.items())
    assert keras.layers.deserialize is deserialize
    assert not translation.loader_translation()


# --- models of other kinds (tools/trial_kinds.py), saved by the real releases ------------------

KINDS = os.path.join(FIXTURES, "kinds")
#: tests/translate_fixtures/kinds/<env>: the format each was saved in.
KIND_SOURCES = {
    "tf1.15": "tf1.15", "tf2.9": "2.9", "tf2.15": "2.15", "tf2.21-keras3": "keras-3", "keras3-jax": "keras-3",
}


def _kind_cases() -> list[tuple[str, str]]:
    cases = []
    for env in sorted(KIND_SOURCES):
        with open(os.path.join(KINDS, env, "manifest.json")) as handle:
            cases.extend((env, model) for model in sorted(json.load(handle)["models"]))
    return cases


KIND_CASES = _kind_cases()


def _kind(env: str, model: str) -> tuple[dict, dict]:
    with open(os.path.join(KINDS, env, model + ".json")) as handle:
        config = json.load(handle)
    with open(os.path.join(KINDS, env, "manifest.json")) as handle:
        return config, json.load(handle)["models"][model]


def _lacking(config: dict, target: tuple) -> set:
    """Classes of ``config`` that the table says ``target`` lacks."""
    absent = set()
    found = _class_names(config, set())
    if target < (2, 0):
        absent |= set(format_changes.TF2_CLASSES) & found
        absent |= set(format_changes.TF2_ACTIVATIONS) & set(json.dumps(config).replace('"', " ").split())
        if "mixed_float16" in json.dumps(config):
            absent |= {"DTypePolicy", "Policy"} & found
    if target < (2, 6) and '"mean": [' in json.dumps(config):
        absent |= {"Normalization"} & found  # given statistics: state weights before 2.6
    return absent


@pytest.mark.parametrize("env, model", KIND_CASES, ids=[f"{env}-{model}" for env, model in KIND_CASES])
def test_kinds_translate_for_every_release(env, model):
    config, _ = _kind(env, model)
    for target in TARGETS:
        version = parse_release(target)
        lacking = _lacking(config, version)
        try:
            new, changes = keras_deser.translate(config, target=target, custom_objects=["Trial>Gain"])
        except TranslationError as error:
            if lacking:  # a class the target truly lacks: named, with target and key path
                assert error.class_name in lacking and error.target == format_changes.release_name(version)
                assert error.path.startswith("config[") and repr(error.class_name) in str(error)
                continue
            assert version >= (3, 0) and error.class_name == "hard_sigmoid", (target, error)
            continue
        assert not lacking, (target, lacking)
        assert keras_deser.translate(new, target=target, custom_objects=["Trial>Gain"]).changes == [], target
        if version < (3, 0):
            assert "__keras_tensor__" not in _class_names(new, set())
            assert not any(name in _class_names(new, set()) for name in ("NotEqual", "Any"))
        if version < (2, 13):
            assert "module" not in _keys(new, set())


def test_nested_models_are_renumbered_both_ways():
    def refs(config: dict) -> list:
        layers = {layer["name"]: layer for layer in config["config"]["layers"]}
        found = []
        for node in layers["shared"]["inbound_nodes"]:
            if isinstance(node, dict):  # Keras 3's form
                found.append(node["args"][0]["config"]["keras_history"][:2])
            else:
                found.extend(entry[:2] for entry in node)
        return found

    keras2, _ = _kind("tf2.9", "nested")
    keras3, _ = _kind("keras3-jax", "nested")
    assert refs(keras2) == [["stack", 1], ["inner", 2]]  # Keras 2: node 0 of a model with inputs is its own
    up = keras_deser.translate(keras2, target="keras-3")
    assert refs(up.config) == [["stack", 0], ["inner", 1]]
    assert "nested-model-nodes" in [change.rule for change in up.changes]
    assert refs(keras_deser.translate(keras3, target="2.9").config) == [["stack", 1], ["inner", 2]]
    tf115, _ = _kind("tf1.15", "nested")  # TF 1.15's Sequential without an input has no node of its own
    assert refs(keras_deser.translate(tf115, target="keras-3").config) == [["stack", 0], ["inner", 1]]
    tf215, _ = _kind("tf2.15", "nested")  # module keys of 2.13+: same numbering as 2.9
    assert refs(keras_deser.translate(tf215, target="keras-3").config) == [["stack", 0], ["inner", 1]]
    # Round trip: back to Keras 2's numbering.
    assert refs(keras_deser.translate(up.config, target="2.9").config) == [["stack", 1], ["inner", 2]]


def test_tensors_passed_by_keyword_reach_keras3():
    mha, _ = _kind("tf2.9", "multi_head")
    new = keras_deser.translate(mha, target="keras-3").config
    node = new["config"]["layers"][1]["inbound_nodes"][0]
    assert node["kwargs"]["value"]["config"]["keras_history"] == ["input_1", 0, 0]
    assert node["args"][0]["config"]["keras_history"] == ["input_1", 0, 0]
    assert keras_deser.translate(new, target="2.9").config["config"]["layers"][1]["inbound_nodes"] == \
        mha["config"]["layers"][1]["inbound_nodes"]


def test_keras3_mask_operations_and_positional_tensors_for_keras2():
    config, _ = _kind("keras3-jax", "embedding_mask")
    new, changes = keras_deser.translate(config, target="2.9")
    assert [layer["class_name"] for layer in new["config"]["layers"]] == [
        "InputLayer", "Embedding", "GRU", "SimpleRNN", "Dense"]
    assert "mask-operations" in [change.rule for change in changes]
    mha, _ = _kind("keras3-jax", "multi_head")
    node = keras_deser.translate(mha, target="2.9").config["config"]["layers"][1]["inbound_nodes"][0]
    assert node == [["input_layer", 0, 0, {"value": ["input_layer", 0, 0]}]]
    # An operation that computes part of the model (not a mask) has no Keras 2 form.
    computing = copy.deepcopy(config)
    dense = computing["config"]["layers"][-1]
    dense["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["not_equal", 0, 0]
    with pytest.raises(TranslationError) as raised:
        keras_deser.translate(computing, target="2.9")
    assert raised.value.class_name == "NotEqual" and raised.value.path == "config['config']['layers'][2]"


def test_arguments_keras3_refuses_are_dropped_and_others_refused():
    conv, _ = _kind("tf2.9", "conv2d_kinds")
    new = keras_deser.translate(conv, target="keras-3").config
    by_class = {layer["class_name"]: layer["config"] for layer in new["config"]["layers"]}
    assert "groups" not in by_class["Conv2DTranspose"] and "groups" not in by_class["DepthwiseConv2D"]
    assert "trainable" not in by_class["SpatialDropout2D"]
    old, _ = _kind("tf1.15", "conv2d_kinds")
    separable = {layer["class_name"]: layer["config"] for layer in
                 keras_deser.translate(old, target="keras-3").config["config"]["layers"]}["SeparableConv2D"]
    assert not {"kernel_initializer", "kernel_regularizer", "kernel_constraint"} & set(separable)
    attention, _ = _kind("tf1.15", "attention")
    causal = copy.deepcopy(attention)
    causal["config"]["layers"][2]["config"]["causal"] = True
    with pytest.raises(TranslationError) as raised:
        keras_deser.translate(causal, target="keras-3")
    assert raised.value.class_name == "Attention" and raised.value.path.endswith("['causal']")
    with pytest.raises(TranslationError) as raised:
        keras_deser.translate({"class_name": "CuDNNLSTM", "config": {"units": 2}}, target="2.9")
    assert raised.value.class_name == "CuDNNLSTM" and raised.value.path == "config['class_name']"
    assert keras_deser.translate({"class_name": "CuDNNLSTM", "config": {}}, target="2.9",
                                 custom_objects=["CuDNNLSTM"]).changes == []


def _trial_layers() -> Any:
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
    import trial_layers

    return trial_layers


@pytest.mark.parametrize("env, model", KIND_CASES, ids=[f"{env}-{model}" for env, model in KIND_CASES])
def test_kinds_of_other_releases_load_here(env, model):
    layers = _keras()
    keras = layers.keras
    _trial_layers()  # registers Trial>Gain
    own = translation.bound_release()
    if parse_release(KIND_SOURCES[env]) == own:
        pytest.skip("saved in this release's own format")
    config, expected = _kind(env, model)
    lacking = _lacking(config, own)
    custom = dict(layers.CUSTOM_OBJECTS)
    keras.backend.clear_session()
    with keras_deser.patched(translate=True):
        if lacking:
            with pytest.raises(TranslationError) as raised:
                keras.models.model_from_json(json.dumps(config), custom_objects=custom)
            assert raised.value.class_name in lacking
            return
        built = keras.models.model_from_json(json.dumps(config), custom_objects=custom)
        assert built.count_params() == expected["params"]
        keras.backend.clear_session()
        cls = keras.Sequential if config["class_name"] == "Sequential" else keras.Model
        assert cls.from_config(copy.deepcopy(config["config"]), custom_objects=custom).count_params() == \
            expected["params"]
        base = os.path.join(KINDS, env, model)
        if not os.path.exists(base + ".h5"):
            return
        import numpy as np

        keras.backend.clear_session()
        loaded = keras.models.load_model(base + ".h5", compile=False, custom_objects=custom)
    with np.load(base + ".npz") as data:
        inputs = [data[f"x{i}"] for i in range(expected["inputs"])]
        wanted = data["y"]
    got = loaded.predict(inputs if len(inputs) > 1 else inputs[0])
    got = got[0] if isinstance(got, list) else got
    np.testing.assert_allclose(np.asarray(got), wanted, atol=1e-4)
