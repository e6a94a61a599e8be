"""keras_deser.audit(): every name a config would resolve, from where, and what
safe mode would refuse, in one pass, without constructing or importing anything.
"""

import copy
import json
import os
import sys
import time

import pytest

import keras_deser
from keras_deser import audit
from keras_deser.auditing import MAX_PATH_PARTS

import malicious

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "")
CASES = malicious.cases()


class Exploding:
    """Any construction is a failure of the audit."""

    built = []

    def __init__(self, *args, **kwargs):
        Exploding.built.append(("init", args, kwargs))
        raise AssertionError("audit constructed an object")

    @classmethod
    def from_config(cls, config, custom_objects=None):
        Exploding.built.append(("from_config", config))
        raise AssertionError("audit called from_config")


class Custom(Exploding):
    pass


class Registered(Exploding):
    pass


class FromModule(Exploding):
    pass


def custom_activation(x):
    raise AssertionError("audit called a function")


def module_factory(**kwargs):
    raise AssertionError("audit called a factory")


@pytest.fixture
def registered():
    objects = keras_deser.get_custom_objects()
    objects["KdAuditRegistered"] = Registered
    objects["kd_audit_registered_fn"] = custom_activation
    yield
    objects.pop("KdAuditRegistered", None)
    objects.pop("kd_audit_registered_fn", None)


def functional_config():
    return {
        "class_name": "KdAuditModel",
        "config": {
            "name": "model",
            "layers": [
                {"class_name": "FromModule", "config": {"name": "in"}, "name": "in", "inbound_nodes": []},
                {"class_name": "Custom", "config": {"name": "c", "activation": "custom_activation"},
                 "name": "c", "inbound_nodes": [[["in", 0, 0, {}]]]},
                {"class_name": "KdAuditRegistered", "config": {"name": "r", "activation": "kd_audit_registered_fn",
                                                               "kernel_initializer": {
                                                                   "class_name": "FromModule", "config": {}}},
                 "name": "r", "inbound_nodes": [[["c", 0, 0, {}]]]},
                {"class_name": "Nowhere", "config": {"name": "n"}, "name": "n", "inbound_nodes": []},
                {"class_name": "module_factory", "config": {"name": "f"}, "name": "f", "inbound_nodes": []},
            ],
            "input_layers": [["in", 0, 0]],
            "output_layers": [["r", 0, 0]],
        },
    }


MODULE_OBJECTS = {"FromModule": FromModule, "KdAuditModel": Exploding, "module_factory": module_factory}
CUSTOM_OBJECTS = {"Custom": Custom, "custom_activation": custom_activation}


def _by_path(report):
    return {finding.path: finding for finding in report.findings}


def test_every_name_with_its_source_in_one_pass(registered):
    config = functional_config()
    before = copy.deepcopy(config)
    report = audit(config, module_objects=MODULE_OBJECTS, custom_objects=CUSTOM_OBJECTS)
    found = _by_path(report)
    layers = "config['config']['layers']"
    expected = {
        "config['class_name']": ("KdAuditModel", "class", "module_objects", None),
        f"{layers}[0]['class_name']": ("FromModule", "class", "module_objects", None),
        f"{layers}[1]['class_name']": ("Custom", "class", "custom_objects", None),
        f"{layers}[1]['config']['activation']": ("custom_activation", "function", "custom_objects", None),
        f"{layers}[2]['class_name']": ("KdAuditRegistered", "class", "registry", None),
        f"{layers}[2]['config']['activation']": ("kd_audit_registered_fn", "function", "registry", None),
        f"{layers}[2]['config']['kernel_initializer']['class_name']": ("FromModule", "class", "module_objects", None),
        f"{layers}[3]['class_name']": ("Nowhere", None, "unresolved", None),
    }
    for path, (name, kind, source, unsafe) in expected.items():
        finding = found[path]
        assert (finding.name, finding.kind, finding.resolves_from, finding.unsafe) == (name, kind, source, unsafe), path
    factory = found[f"{layers}[4]['class_name']"]
    assert (factory.name, factory.kind, factory.resolves_from) == ("module_factory", "function", "module_objects")
    assert "factory" in factory.unsafe
    assert set(report.names) >= {"KdAuditModel", "FromModule", "Custom", "custom_activation", "KdAuditRegistered",
                                 "kd_audit_registered_fn", "Nowhere", "module_factory"}
    assert [f.name for f in report.unresolved] == ["Nowhere"]
    assert [f.name for f in report.unsafe] == ["module_factory"]
    assert not report.ok
    assert Exploding.built == []
    assert config == before  # nothing changed in the caller's config


def test_registry_wins_for_class_names_custom_objects_for_strings(registered):
    shadow = {"KdAuditRegistered": Custom}
    assert audit({"class_name": "KdAuditRegistered", "config": {}}, custom_objects=shadow).findings[0].resolves_from == "registry"
    assert audit("KdAuditRegistered", custom_objects=shadow).findings[0].resolves_from == "custom_objects"
    assert audit("KdAuditRegistered").findings[0].resolves_from == "registry"


def test_report_shapes():
    report = audit(functional_config(), module_objects=MODULE_OBJECTS, custom_objects=CUSTOM_OBJECTS)
    document = report.to_dict()
    json.dumps(document)
    assert document["entries"] == [finding._asdict() for finding in report]
    assert len(report) == len(report.findings) == len(report.entries)
    text = str(report)
    assert text.splitlines()[0].split()[:2] == ["path", "name"]
    assert "module_factory" in text and "factory" in text
    assert "findings" in repr(report)
    assert audit({"class_name": "FromModule", "config": {}}, module_objects=MODULE_OBJECTS).ok


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus_every_name_and_every_unsafe_spot(case, tmp_path, monkeypatch):
    canary = str(tmp_path / "canary")
    monkeypatch.syspath_prepend(malicious.IMPORTABLE)
    sys.modules.pop(malicious.CANARY_MODULE, None)
    config, module_objects, custom_objects = case.build(canary)
    report = audit(config, module_objects=module_objects, custom_objects=custom_objects)
    missing = set(case.names) - {finding.name for finding in report.findings}
    assert not missing, f"{case.id}: the audit did not name {missing}\n{report}"
    if case.refusal == "unsafe":
        assert report.unsafe, f"{case.id}: nothing reported unsafe\n{report}"
    else:
        assert not report.unsafe
    assert not os.path.exists(canary)
    assert malicious.CANARY_MODULE not in sys.modules


def test_all_unsafe_spots_of_a_config_at_once(tmp_path):
    canary = str(tmp_path / "canary")
    combined = {"class_name": "Holder", "config": {"layers": []}}
    module_objects = {"Holder": FromModule}
    custom_objects = {}
    for case in CASES:
        if case.refusal != "unsafe" or case.via != "dict" or case.id == "lambda_subclass_renamed":
            continue
        config, more_modules, more_custom = case.build(canary)
        module_objects.update(more_modules or {})
        custom_objects.update(more_custom or {})
        combined["config"]["layers"].append(config)
    report = audit(combined, module_objects=module_objects, custom_objects=custom_objects)
    unsafe_layers = {finding.path.split("]")[2] for finding in report.unsafe if "['layers']" in finding.path}
    assert len(unsafe_layers) == len(combined["config"]["layers"]), str(report)
    assert not os.path.exists(canary)


def test_trusted_names_and_objects_are_not_unsafe():
    config = {"class_name": "Holder", "config": {"a": {"class_name": "module_factory", "config": {},
                                                       "__passive_serialization__": True},
                                                 "b": malicious.lambda_function_config("x")}}
    objects = {"Holder": FromModule, "module_factory": module_factory, "Lambda": malicious.FakeLambda}
    assert {f.name for f in audit(config, module_objects=objects).unsafe} >= {"module_factory", "Lambda"}
    trusted = audit(config, module_objects=objects, trusted=["Lambda", module_factory])
    assert trusted.unsafe == []


def test_self_referencing_config_ends():
    config = {"class_name": "FromModule", "config": {}}
    config["config"]["me"] = config
    config["config"]["list"] = [config, config["config"]]
    config["config"]["list"].append(config["config"]["list"])
    report = audit(config, module_objects=MODULE_OBJECTS)
    assert [f.name for f in report.findings] == ["FromModule"]


def _deep(levels):
    config = current = {"class_name": "FromModule", "config": {}}
    for _ in range(levels):
        nested = {"class_name": "FromModule", "config": {}, "__passive_serialization__": True}
        current["config"]["inner"] = nested
        current = nested
    current["config"]["payload"] = malicious.lambda_code("canary")
    return config


def test_ten_thousand_levels_in_one_pass_with_bounded_paths():
    start = time.perf_counter()
    report = audit(_deep(10000), module_objects=MODULE_OBJECTS)
    elapsed = time.perf_counter() - start
    assert len([f for f in report.findings if f.name == "FromModule"]) == 10001
    assert len(report.unsafe) == 1 and report.unsafe[0].name == "<bytecode>"
    deepest = report.unsafe[0].path
    assert deepest.startswith("config['config']['inner']") and deepest.endswith("['config']['payload']")
    assert "keys>..." in deepest and len(deepest) < 40 * MAX_PATH_PARTS
    assert elapsed < 10, elapsed


def test_odd_names_are_reported_not_raised():
    deep_list = []
    for _ in range(5000):
        deep_list = [deep_list]
    for name in (["a"], {"b": 1}, deep_list, 3, None, b"bytes", ("t",), "x" * 10000):
        report = audit({"class_name": name, "config": {}}, module_objects=MODULE_OBJECTS)
        assert report.findings[0].resolves_from == "unresolved"
        assert isinstance(report.findings[0].name, str) and len(report.findings[0].name) <= 10000
    for weird in (5, None, [1, 2], ("a",), {"no": "class"}, "Nowhere", deep_list):
        audit(weird)


def test_keys_of_any_kind_render_in_paths():
    inner = {("tuple", 1): {"class_name": "FromModule", "config": {}}, 3: [{"class_name": "Nowhere", "config": {}}]}
    report = audit({"class_name": "FromModule", "config": inner}, module_objects=MODULE_OBJECTS)
    paths = [f.path for f in report.findings]
    assert "config['config'][('tuple', 1)]['class_name']" in paths
    assert "config['config'][3][0]['class_name']" in paths


def test_audit_imports_and_calls_nothing(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(malicious.IMPORTABLE)
    sys.modules.pop(malicious.CANARY_MODULE, None)
    monkeypatch.setenv("KD_CANARY_PATH", str(tmp_path / "canary"))
    before = set(sys.modules)
    config = {"module": malicious.CANARY_MODULE, "class_name": "Payload", "config": {},
              "registered_name": "kd_canary_module>Payload"}
    audit(config)
    audit({"class_name": "X", "config": {"layer": config}})
    assert malicious.CANARY_MODULE not in sys.modules
    assert set(sys.modules) - before == set()
    assert not (tmp_path / "canary").exists()


# --- a real model of this environment's Keras ------------------------------


@pytest.mark.skipif(not UPSTREAM, reason="core environment: no TensorFlow/Keras here")
def test_real_model_config(tmp_path):
    if UPSTREAM == "keras":
        import keras
    else:
        import tensorflow as tf

        keras = tf.keras
    if str(getattr(keras, "__version__", "2")).startswith("3"):
        pytest.skip("Keras 3 configs are not Keras 2's format")
    inputs = keras.Input(shape=(3,))
    hidden = keras.layers.Dense(4, activation="relu", kernel_initializer="glorot_uniform")(inputs)
    outputs = keras.layers.Lambda(lambda x: x * 2)(hidden)
    config = json.loads(keras.Model(inputs, outputs).to_json())
    report = audit(config)
    names = set(report.names)
    assert {"Dense", "Lambda", "InputLayer"} <= names, str(report)
    assert {f.name for f in report.unsafe} >= {"Lambda"}
    dense = next(f for f in report.findings if f.name == "Dense")
    assert dense.resolves_from in ("keras", "registry") and dense.kind == "class"
    assert not any(f.name in ("Dense", "InputLayer") and f.unsafe for f in report.findings)


def test_lambda_function_names_are_named_even_unresolved():
    config = {"class_name": "Lambda", "config": {"name": "l", "function": "my_fn", "function_type": "function",
                                                 "output_shape": "shape_fn", "output_shape_type": "function",
                                                 "module": "__main__"}}
    found = _by_path(audit(config))
    assert (found["config['config']['function']"].name, found["config['config']['function']"].kind) == ("my_fn", "function")
    assert found["config['config']['output_shape']"].name == "shape_fn"
    assert found["config['class_name']"].unsafe


def test_unmistakably_dangerous_inner_strings_are_unsafe_ordinary_values_are_not():
    config = {"class_name": "FromModule", "config": {"name": "load_model", "activation": "get_file",
                                                     "padding": "same", "mode": "open", "dtype": "float32"}}
    report = audit(config, module_objects=MODULE_OBJECTS)
    assert [(f.path, f.name) for f in report.unsafe] == [("config['config']['activation']", "get_file")]
    assert audit(config, module_objects=MODULE_OBJECTS, trusted=["get_file"]).unsafe == []
