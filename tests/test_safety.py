"""Safe mode against a corpus of malicious configs, on every release of the matrix.

The corpus (``tests/malicious``) holds Lambda bytecode that writes a canary
file, factory gadgets, Keras's dangerous functions by name, strings naming
them, and ``module`` keys naming a module that writes the canary when
imported.  Outside safe mode (Keras 2.9 behaviour) the dict cases run their
code: that is checked first, so the canary is known to work.  In safe mode
none may run: :class:`keras_deser.UnsafeConfigError` (a ``ValueError``) is
raised before anything from the config is built.

Where a real Keras is installed (every upstream environment of the matrix)
a real model with a ``Lambda`` layer is saved to HDF5 and loaded through
upstream's own ``load_model`` with keras_deser installed in safe mode:
refused, with ``marshal.loads`` never called.
"""

import base64
import json
import marshal
import os
import subprocess
import sys
import textwrap
import threading

import pytest

import keras_deser
from keras_deser import UnsafeConfigError, safety
from keras_deser.serialization import class_and_config_for_serialized_keras_object, deserialize_keras_object

import malicious

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "")
needs_upstream = pytest.mark.skipif(not UPSTREAM, reason="core environment: no TensorFlow/Keras here")

CASES = malicious.cases()
RUNS = [case for case in CASES if case.runs_unsafe]


@pytest.fixture(autouse=True)
def _safety_off_and_no_canary_module(monkeypatch):
    """Every test starts and ends with safe mode off; the canary module is importable."""
    keras_deser.set_safe_mode(False)
    monkeypatch.syspath_prepend(malicious.IMPORTABLE)
    sys.modules.pop(malicious.CANARY_MODULE, None)
    yield
    keras_deser.set_safe_mode(False)
    assert not keras_deser.is_safe_mode()
    sys.modules.pop(malicious.CANARY_MODULE, None)


@pytest.fixture
def canary(tmp_path, monkeypatch):
    path = str(tmp_path / "canary")
    monkeypatch.setenv("KD_CANARY_PATH", path)
    return path


def _load(case, canary):
    config, module_objects, custom_objects = case.build(canary)
    result = deserialize_keras_object(config, module_objects=module_objects, custom_objects=custom_objects)
    if hasattr(result, "wait"):  # Popen
        result.wait()
    return result


def _skip_posix(case):
    if case.posix and os.name != "posix":
        pytest.skip("needs a POSIX shell")


# --- the canary works: outside safe mode Keras 2.9 runs these --------------


@pytest.mark.parametrize("case", RUNS, ids=[case.id for case in RUNS])
def test_corpus_runs_code_outside_safe_mode(case, canary):
    _skip_posix(case)
    assert not keras_deser.is_safe_mode()
    try:
        _load(case, canary)
    except Exception:
        pass  # some stand-ins fail after running; what matters is that they ran
    assert os.path.exists(canary), f"{case.id}: the corpus case did not run its code"


def test_string_cases_give_back_the_dangerous_function_outside_safe_mode(canary):
    for case in CASES:
        if case.via == "string":
            function = _load(case, canary)
            assert callable(function) and function.__name__ == case.names[0]
    assert not os.path.exists(canary)


# --- safe mode refuses every case, before anything runs --------------------


def _expect_refusal(case, canary, load):
    expected = UnsafeConfigError if case.refusal == "unsafe" else ValueError
    with pytest.raises(expected) as info:
        load()
    assert not os.path.exists(canary), f"{case.id}: code from the config ran in safe mode"
    assert malicious.CANARY_MODULE not in sys.modules, f"{case.id}: a config key caused an import"
    return info.value


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus_refused_inside_safe_mode_block(case, canary):
    with keras_deser.safe_mode():
        assert keras_deser.is_safe_mode()
        error = _expect_refusal(case, canary, lambda: _load(case, canary))
    assert isinstance(error, ValueError)
    if case.refusal == "unsafe":
        assert error.report.unsafe
        assert "safe mode refused" in str(error)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus_refused_with_process_wide_safe_mode(case, canary):
    keras_deser.set_safe_mode(True)
    result = {}

    def other_thread():
        try:
            _load(case, canary)
        except Exception as error:  # noqa: BLE001 - recorded and checked below
            result["error"] = error

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    expected = UnsafeConfigError if case.refusal == "unsafe" else ValueError
    assert isinstance(result.get("error"), expected), result
    _expect_refusal(case, canary, lambda: _load(case, canary))


@pytest.mark.parametrize("case", [c for c in CASES if c.via == "dict"], ids=[c.id for c in CASES if c.via == "dict"])
def test_corpus_refused_by_class_and_config_helper(case, canary):
    config, module_objects, custom_objects = case.build(canary)
    with keras_deser.safe_mode():
        _expect_refusal(case, canary, lambda: class_and_config_for_serialized_keras_object(
            config, module_objects=module_objects, custom_objects=custom_objects))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus_refused_from_json_text(case, canary):
    """What comes off disk: the config through JSON (tuples become lists)."""
    config, module_objects, custom_objects = case.build(canary)
    if isinstance(config, dict):
        try:
            config = json.loads(json.dumps(config))
        except ValueError:  # self-referencing: not JSON
            pass
    with keras_deser.safe_mode():
        _expect_refusal(case, canary, lambda: deserialize_keras_object(
            config, module_objects=module_objects, custom_objects=custom_objects))


def test_refusal_lists_every_unsafe_spot_with_its_path(canary):
    config, module_objects, _ = malicious.cases()[3].build(canary)  # lambda nested in Sequential
    with keras_deser.safe_mode(), pytest.raises(UnsafeConfigError) as info:
        deserialize_keras_object(config, module_objects=module_objects)
    message = str(info.value)
    assert "config['config']['layers'][1]['class_name']: Lambda" in message
    assert "config['config']['layers'][1]['config']['function'][0]" in message
    paths = [finding.path for finding in info.value.report.unsafe]
    assert len(paths) == len(set(paths)) >= 2
    assert not os.path.exists(canary)


def test_a_config_key_never_causes_an_import_outside_safe_mode_either(canary):
    for case in CASES:
        if case.id.startswith("module_key"):
            config, module_objects, custom_objects = case.build(canary)
            with pytest.raises(ValueError, match="Unknown (object|config_item): Payload"):
                deserialize_keras_object(config, module_objects=module_objects, custom_objects=custom_objects)
            assert malicious.CANARY_MODULE not in sys.modules and not os.path.exists(canary)
    report = keras_deser.audit(malicious.cases()[-2].build(canary)[0])
    assert report.findings[0].resolves_from == "unresolved"
    assert malicious.CANARY_MODULE not in sys.modules and not os.path.exists(canary)


# --- nothing changes outside safe mode, and nothing leaks out of it --------


class Point:
    def __init__(self, x=0, y=0):
        self.x, self.y = x, y


def relu(x):
    return x


def _safe_config():
    return {"class_name": "Point", "config": {"x": 1, "y": 2, "act": "relu"}}


def test_safe_configs_load_the_same_in_safe_mode():
    with pytest.raises(TypeError):  # Point takes no 'act': Keras 2.9's own error, also in safe mode
        with keras_deser.safe_mode():
            deserialize_keras_object(_safe_config(), module_objects={"Point": Point}, custom_objects={"relu": relu})
    config = {"class_name": "Point", "config": {"x": 1, "y": 2}}
    with keras_deser.safe_mode():
        point = deserialize_keras_object(config, module_objects={"Point": Point})
        assert (point.x, point.y) == (1, 2)
        assert deserialize_keras_object("relu", module_objects={"relu": relu}) is relu
        assert deserialize_keras_object(None) is None


def test_safe_mode_is_off_by_default_in_a_fresh_process():
    code = "import keras_deser; print(keras_deser.is_safe_mode())"
    env = dict(os.environ)
    env.pop("KERAS_DESER_INSTALL", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "False", out.stderr


def test_safe_mode_block_is_per_thread_and_nests():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def worker():
        inside.wait(5)
        seen["other"] = keras_deser.is_safe_mode()
        release.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with keras_deser.safe_mode(trusted=["a"]):
        with keras_deser.safe_mode(trusted=["b"]):
            assert set(safety.trusted_objects()) == {"a", "b"}
        assert safety.trusted_objects() == ("a",)
        inside.set()
        release.wait(5)
        assert keras_deser.is_safe_mode()
    thread.join()
    assert seen["other"] is False
    assert not keras_deser.is_safe_mode() and safety.trusted_objects() == ()


def test_safe_mode_block_ends_on_error():
    with pytest.raises(KeyError):
        with keras_deser.safe_mode():
            raise KeyError("x")
    assert not keras_deser.is_safe_mode()


def test_set_safe_mode_is_process_wide_and_replaces_trust():
    keras_deser.set_safe_mode(True, trusted=["write_canary"])
    box = {}
    thread = threading.Thread(target=lambda: box.update(on=keras_deser.is_safe_mode(), trusted=safety.trusted_objects()))
    thread.start()
    thread.join()
    assert box == {"on": True, "trusted": ("write_canary",)}
    keras_deser.set_safe_mode(True)
    assert safety.trusted_objects() == ()
    keras_deser.set_safe_mode(False)
    assert not keras_deser.is_safe_mode()


# --- the trust API allows exactly what is named ----------------------------


def test_trust_by_name_allows_exactly_that_factory(canary):
    config = {"class_name": "write_canary", "config": {"path": canary}}
    with keras_deser.safe_mode(trusted=["write_canary"]):
        assert deserialize_keras_object(config, module_objects={"write_canary": malicious.write_canary}) == canary
    assert os.path.exists(canary)
    os.remove(canary)
    # a name trusts the config name and the object's __name__, nothing else
    other = {"class_name": "other_factory", "config": {"path": canary}}
    with keras_deser.safe_mode(trusted=["write_canary"]), pytest.raises(UnsafeConfigError):
        deserialize_keras_object(other, module_objects={"other_factory": malicious._fake("other_factory")})
    assert not os.path.exists(canary)


def test_trust_by_object_allows_that_object_under_any_name(canary):
    def make_point(x=0):
        return Point(x)

    config = {"class_name": "Renamed", "config": {"x": 3}}
    with keras_deser.safe_mode(trusted=[make_point]):
        assert deserialize_keras_object(config, custom_objects={"Renamed": make_point}).x == 3
    with keras_deser.safe_mode(trusted=[lambda: None]), pytest.raises(UnsafeConfigError):
        deserialize_keras_object(config, custom_objects={"Renamed": make_point})


def test_trusting_a_factory_does_not_trust_bytecode_next_to_it(canary):
    config = {"class_name": "Innocent", "config": {"name": "x", "payload": malicious.lambda_code(canary),
                                                   "inner": {"class_name": "write_canary", "config": {"path": canary},
                                                             "__passive_serialization__": True}}}
    with keras_deser.safe_mode(trusted=["write_canary"]), pytest.raises(UnsafeConfigError) as info:
        deserialize_keras_object(config, module_objects={"Innocent": malicious.Innocent,
                                                         "write_canary": malicious.write_canary})
    assert [f.name for f in info.value.report.unsafe] == ["<bytecode>"]
    assert not os.path.exists(canary)


def test_trusting_lambda_allows_lambda_layers(canary):
    config = malicious.lambda_function_config(canary)
    with keras_deser.safe_mode(trusted=["Lambda"]):
        deserialize_keras_object(config, module_objects={"Lambda": malicious.FakeLambda})
    assert os.path.exists(canary)  # trusted on purpose: it ran


def test_process_wide_trust_applies(canary):
    keras_deser.set_safe_mode(True, trusted=[malicious.write_canary])
    deserialize_keras_object({"class_name": "w", "config": {"path": canary}}, module_objects={"w": malicious.write_canary})
    assert os.path.exists(canary)


def test_trust_does_not_survive_its_block(canary):
    with keras_deser.safe_mode(trusted=["write_canary"]):
        pass
    with keras_deser.safe_mode(), pytest.raises(UnsafeConfigError):
        deserialize_keras_object({"class_name": "write_canary", "config": {"path": canary}},
                                 module_objects={"write_canary": malicious.write_canary})
    assert not os.path.exists(canary)


# --- a config mutated after a safe load is audited again -------------------


def test_a_config_is_audited_again_on_every_top_level_call(canary):
    config = {"class_name": "Innocent", "config": {"name": "x"}}
    module_objects = {"Innocent": malicious.Innocent}
    with keras_deser.safe_mode():
        deserialize_keras_object(config, module_objects=module_objects)
        config["config"]["payload"] = malicious.lambda_code(canary)
        with pytest.raises(UnsafeConfigError):
            deserialize_keras_object(config, module_objects=module_objects)
    assert not os.path.exists(canary)


def test_nested_parts_with_other_module_objects_are_audited_on_their_own(canary):
    """A container's from_config that loads its parts with other module_objects."""

    class Holder:
        def __init__(self, part=None, **kwargs):
            self.part = part

        @classmethod
        def from_config(cls, config):
            # the nested loader's module_objects hold a gadget the outer ones do not
            part = deserialize_keras_object(config["part"], module_objects={"Point": malicious.write_canary})
            return cls(part)

    config = {"class_name": "Holder", "config": {"part": {"class_name": "Point", "config": {"path": canary}}}}
    with keras_deser.safe_mode(), pytest.raises(UnsafeConfigError):
        deserialize_keras_object(config, module_objects={"Holder": Holder, "Point": Point})
    assert not os.path.exists(canary)


# --- the real Keras of this environment ------------------------------------


def _keras():
    """The Keras 2 style API of this environment (tf.keras or keras)."""
    if UPSTREAM == "keras":
        import keras

        return keras
    import tensorflow as tf

    return tf.keras


@pytest.fixture
def uninstall_after():
    yield
    keras_deser.uninstall()
    keras_deser.set_safe_mode(False)


def _lambda_model_h5(path, canary):
    keras = _keras()
    inputs = keras.Input(shape=(2,))
    body = "lambda x: (open(%r, 'w').write('lambda ran'), x)[1]" % canary
    function = eval(body)  # a real lambda, so Keras stores its bytecode
    outputs = keras.layers.Lambda(function, name="payload")(inputs)
    model = keras.Model(inputs, outputs)
    if os.path.exists(canary):  # built by calling it once: start clean
        os.remove(canary)
    try:
        model.save(path)
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"this Keras cannot save a Lambda model to HDF5: {type(error).__name__}: {error}")
    return model


def _count_marshal_loads(monkeypatch):
    calls = []
    real = marshal.loads

    def counting(*args, **kwargs):
        if not _from_import_machinery(sys._getframe(1)):
            calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(marshal, "loads", counting)
    return calls


def _from_import_machinery(frame):
    """True when the caller is importlib loading a .pyc (not a deserializer)."""
    filename = frame.f_code.co_filename
    return "importlib" in filename or filename.startswith("<frozen")


def _chain(error):
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


@needs_upstream
def test_hdf5_lambda_model_refused_before_marshal_loads(tmp_path, canary, monkeypatch, uninstall_after):
    keras = _keras()
    path = str(tmp_path / "m.h5")
    _lambda_model_h5(path, canary)
    calls = _count_marshal_loads(monkeypatch)
    keras_deser.install(safe_mode=True)
    assert keras_deser.is_safe_mode()
    with pytest.raises(Exception) as info:
        keras.models.load_model(path)
    assert any(isinstance(e, UnsafeConfigError) for e in _chain(info.value)), repr(info.value)
    assert calls == [], "marshal.loads ran before safe mode refused"
    assert not os.path.exists(canary)


@needs_upstream
def test_hdf5_lambda_model_loads_without_safe_mode(tmp_path, canary, monkeypatch, uninstall_after):
    """The positive control: installed but not safe, upstream unmarshals (Keras 2.9 behaviour)."""
    keras = _keras()
    path = str(tmp_path / "m.h5")
    _lambda_model_h5(path, canary)
    calls = _count_marshal_loads(monkeypatch)
    keras_deser.install(safe_mode=False)
    try:
        keras.models.load_model(path, **({"safe_mode": False} if _has_safe_mode_arg(keras) else {}))
    except Exception as error:  # noqa: BLE001 - some releases refuse Lambda themselves
        assert not any(isinstance(e, UnsafeConfigError) for e in _chain(error))
        pytest.skip(f"this Keras refuses the Lambda model itself: {type(error).__name__}")
    assert calls, "upstream did not unmarshal the Lambda bytecode"


def _has_safe_mode_arg(keras):
    import inspect

    try:
        return "safe_mode" in inspect.signature(keras.models.load_model).parameters
    except (TypeError, ValueError):
        return False


@needs_upstream
def test_model_from_json_lambda_refused(tmp_path, canary, monkeypatch, uninstall_after):
    """JSON of this release: the legacy format reaches keras_deser, which refuses it;
    the new format (TF 2.13+, tf_keras, Keras 3) is upstream's own loader's, whose
    safe mode refuses Lambda bytecode itself.  Either way nothing is unmarshalled."""
    keras = _keras()
    path = str(tmp_path / "m.h5")
    model = _lambda_model_h5(path, canary)
    text = model.to_json()
    calls = _count_marshal_loads(monkeypatch)
    keras_deser.install()
    with keras_deser.safe_mode():
        with pytest.raises(ValueError) as info:
            keras.models.model_from_json(text)
    if '"module":' not in text:
        assert any(isinstance(e, UnsafeConfigError) for e in _chain(info.value)), repr(info.value)
    assert calls == [] and not os.path.exists(canary)


@needs_upstream
def test_real_dangerous_keras_functions_refused(tmp_path, canary):
    keras = _keras()
    source = tmp_path / "payload.txt"
    source.write_text("downloaded")
    utils = {key: value for key, value in vars(keras.utils).items() if callable(value)}
    models = {key: value for key, value in vars(keras.models).items() if callable(value)}
    configs = [
        ({"class_name": "get_file", "config": {"fname": canary, "origin": source.as_uri()}}, utils),
        ({"class_name": "load_model", "config": {"filepath": canary}}, models),
        ({"class_name": "model_from_json", "config": {"json_string": "{}"}}, models),
    ]
    config_module = getattr(keras, "config", None)
    if config_module is not None and hasattr(config_module, "enable_unsafe_deserialization"):
        configs.append(({"class_name": "enable_unsafe_deserialization", "config": {}}, vars(config_module)))
    for config, module_objects in configs:
        if config["class_name"] not in module_objects:
            continue
        with keras_deser.safe_mode(), pytest.raises(UnsafeConfigError):
            deserialize_keras_object(config, module_objects=module_objects)
        with keras_deser.safe_mode(), pytest.raises(UnsafeConfigError):
            deserialize_keras_object(config["class_name"], module_objects=module_objects)
    assert not os.path.exists(canary)
    assert not os.path.exists(os.path.expanduser(os.path.join("~", ".keras", "datasets", canary)))


@needs_upstream
def test_real_lambda_config_refused_by_module_deserializer(canary, monkeypatch, uninstall_after):
    keras = _keras()
    config = malicious.lambda_function_config(canary)
    calls = _count_marshal_loads(monkeypatch)
    keras_deser.install(safe_mode=True)
    with pytest.raises(Exception) as info:
        keras.layers.deserialize(json.loads(json.dumps(config)))
    # keras_deser's UnsafeConfigError where the 4-argument function is reached;
    # Keras 3's own loader cannot even locate a Keras 2 'Lambda' (TypeError)
    assert any(isinstance(e, (ValueError, TypeError)) for e in _chain(info.value)), repr(info.value)
    assert calls == [] and not os.path.exists(canary)


@needs_upstream
def test_upstream_loader_never_imports_a_config_module_in_safe_mode(canary, uninstall_after):
    """Upstream's own entry point, with keras_deser installed in safe mode: no import."""
    keras = _keras()
    keras_deser.install(safe_mode=True)
    config = {"module": malicious.CANARY_MODULE, "class_name": "Payload", "config": {},
              "registered_name": malicious.CANARY_MODULE + ">Payload"}
    try:
        keras.utils.deserialize_keras_object(config)
    except Exception:  # noqa: BLE001 - any refusal will do
        pass
    try:
        keras.layers.deserialize(dict(config))
    except Exception:  # noqa: BLE001
        pass
    assert malicious.CANARY_MODULE not in sys.modules, "a config's 'module' key was imported"
    assert not os.path.exists(canary)


@needs_upstream
def test_no_code_change_switch_turns_safe_mode_on(tmp_path, canary):
    """KERAS_DESER_INSTALL=safe: installed and safe as soon as the upstream is imported;
    loading an HDF5 Lambda model then unmarshals nothing."""
    path = str(tmp_path / "m.h5")
    _lambda_model_h5(path, canary)
    keras = "keras" if UPSTREAM == "keras" else "tensorflow.keras"
    code = textwrap.dedent(
        f"""
        import importlib, marshal
        calls = []
        real = marshal.loads
        import {UPSTREAM}
        import keras_deser
        print("safe", keras_deser.is_safe_mode(), "installed", keras_deser.is_installed())
        keras = importlib.import_module("keras") if {keras!r} == "keras" else importlib.import_module("tensorflow").keras
        import sys

        def counting(*a, **k):
            name = sys._getframe(1).f_code.co_filename
            if "importlib" not in name and not name.startswith("<frozen"):
                calls.append(1)
            return real(*a, **k)

        marshal.loads = counting
        try:
            keras.models.load_model({path!r})
            print("loaded")
        except Exception as error:
            chain = []
            while error is not None and error not in chain:
                chain.append(error)
                error = error.__cause__ or error.__context__
            print("refused", any(isinstance(e, keras_deser.UnsafeConfigError) for e in chain))
        marshal.loads = real
        print("marshal", len(calls))
        """
    )
    env = dict(os.environ, KERAS_DESER_INSTALL="safe", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert "safe True installed True" in out.stdout, out.stdout + out.stderr[-3000:]
    assert "refused True" in out.stdout, out.stdout + out.stderr[-3000:]
    assert "marshal 0" in out.stdout, out.stdout
    assert not os.path.exists(canary)


@needs_upstream
def test_ordinary_real_model_loads_in_safe_mode(tmp_path, uninstall_after):
    """No false alarms: layers, initializers, regularizers, activations by name and a
    TF op layer (where this Keras records one) load from HDF5 in safe mode."""
    keras = _keras()
    inputs = keras.Input(shape=(4,))
    hidden = keras.layers.Dense(3, activation="relu", kernel_initializer="he_normal",
                                kernel_regularizer=keras.regularizers.l2(0.01), name="dense")(inputs)
    hidden = keras.layers.Dropout(0.1)(hidden)
    if UPSTREAM == "tensorflow":
        import tensorflow as tf

        try:
            hidden = tf.math.add(hidden, 1.0)  # a TFOpLambda layer on TF 2.4+
        except Exception:  # noqa: BLE001 - TF 1.15 graph mode: no op layer
            pass
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(hidden)
    model = keras.Model(inputs, outputs)
    path = str(tmp_path / "ok.h5")
    model.save(path)
    keras_deser.install(safe_mode=True)
    loaded = keras.models.load_model(path)
    assert [layer.__class__.__name__ for layer in loaded.layers] == [layer.__class__.__name__ for layer in model.layers]
    report = keras_deser.audit(json.loads(model.to_json()))
    assert report.unsafe == [], str(report)


def test_nested_parts_are_not_walked_again(monkeypatch):
    """Safe mode walks a config once per top-level call, not once per nesting level."""
    walks = []
    real = safety.walk

    def counting(config, *args):
        walks.append(config)
        return real(config, *args)

    monkeypatch.setattr(safety, "walk", counting)
    config = current = {"class_name": "Point", "config": {}}
    for _ in range(100):
        nested = {"class_name": "Point", "config": {}, "__passive_serialization__": True}
        current["config"]["x"] = nested
        current = nested
    with keras_deser.safe_mode():
        deserialize_keras_object(config, module_objects={"Point": Point})
        assert len(walks) == 1
        deserialize_keras_object(config, module_objects={"Point": Point})
        assert len(walks) == 2  # a new top-level call audits again


def test_mutated_config_reloaded_from_another_call_site_is_audited(canary):
    config = {"class_name": "Innocent", "config": {"name": "x", "inner": {"k": {}}}}
    module_objects = {"Innocent": malicious.Innocent}

    def first():
        deserialize_keras_object(config, module_objects=module_objects)

    def second(depth=5):
        if depth:
            return second(depth - 1)
        return deserialize_keras_object(config, module_objects=module_objects)

    with keras_deser.safe_mode():
        first()
        config["config"]["inner"]["k"]["payload"] = malicious.lambda_code(canary)
        with pytest.raises(UnsafeConfigError):
            second()
    assert not os.path.exists(canary)
