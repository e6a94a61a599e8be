"""Payloads for the real releases of the matrix (issues 9 and 12), each with its canary.

Every payload is a whole model config (legacy format: what ``model_from_json``
and HDF5 ``load_model`` read), built from a model the running release saves
itself and then edited the way an attacker would.  ``payload.effect(model)``
says whether the attack took hold in a model the release built (a file
written by bytecode, a file's contents read into the model, a dangerous
function or symbol wired into a layer); ``effect`` of ``None`` (nothing was
built) is False.  ``payloads(keras)`` lists the payloads that apply to that
release's API (none needs anything the release lacks).

Designed for classes, not instances: each class of issue 9 / 12 appears in a
few encodings and nestings.
"""

from __future__ import annotations

import json
import marshal
import os
import types
from typing import Any, Callable, NamedTuple

import malicious

__all__ = ["Payload", "payloads", "keras_api", "h5_with_config"]


def keras_api(upstream: str) -> Any:
    """The Keras API of this environment (``keras`` or ``tf.keras``)."""
    if upstream == "keras":
        import keras

        return keras
    import tensorflow as tf

    return tf.keras


class Payload(NamedTuple):
    id: str
    #: The class of attack (a row of docs/safe-mode.md's table).
    attack: str
    #: ``config()`` -> the legacy-format model config (a dict).
    config: Callable[[], dict[str, Any]]
    #: ``effect(model) -> bool``: the attack took hold in a built model.
    effect: Callable[[Any], bool]
    #: Never load it without safe mode (it would crash the process).
    crashes: bool = False


def _raw_code(canary: str) -> str:
    """Marshalled code of a canary-writing lambda as latin-1 text (func_load's raw_unicode_escape form)."""
    source = f"lambda x: (open({canary!r}, 'w').write('raw bytecode ran'), x)[1]"
    code = next(c for c in compile(source, "<malicious>", "eval").co_consts if isinstance(c, types.CodeType))
    return marshal.dumps(code).decode("latin-1")


def _model_config(model: Any) -> dict[str, Any]:
    return json.loads(model.to_json())


def _layers(config: dict[str, Any]) -> list[dict[str, Any]]:
    return config["config"]["layers"]


def _all_layers(model: Any) -> list[Any]:
    found: list[Any] = []
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        found.append(layer)
        for attribute in ("layer", "forward_layer", "backward_layer", "cell"):
            inner = getattr(layer, attribute, None)
            if inner is not None and inner is not layer:
                stack.append(inner)
        stack.extend(getattr(layer, "layers", []) or [])
    return found


def _op_model(keras: Any) -> dict[str, Any]:
    import tensorflow as tf

    inputs = keras.Input(shape=(2,))
    return _model_config(keras.Model(inputs, tf.math.add(inputs, 1.0)))


_OP_LAYERS_CACHE: dict[int, bool] = {}


def _has_op_layers(keras: Any) -> bool:
    cached = _OP_LAYERS_CACHE.get(id(keras))
    if cached is None:
        try:
            cached = any(layer["class_name"] == "TFOpLambda" for layer in _layers(_op_model(keras)))
        except Exception:  # noqa: BLE001 - a release without op layers
            cached = False
        _OP_LAYERS_CACHE[id(keras)] = cached
    return cached


def _op_symbol(model: Any, names: list[str]) -> bool:
    for layer in _all_layers(model):
        for attribute in ("function", "symbol", "cls_ref", "attr_name", "node_def"):
            value = getattr(layer, attribute, None)
            text = getattr(value, "__name__", None) or str(value)
            if value is not None and any(name in text for name in names):
                return True
    return False


def _tf_op(keras: Any, function: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        config = _op_model(keras)
        for layer in _layers(config):
            if layer["class_name"] == "TFOpLambda":
                layer["config"]["function"] = function
                old_name = layer["name"]
                layer["config"]["name"] = layer["name"] = "tf." + function
                config["config"]["output_layers"] = [
                    [layer["name"]] + list(entry[1:]) if entry[0] == old_name else entry
                    for entry in config["config"]["output_layers"]]
                for node in layer["inbound_nodes"]:
                    for entry in ([node] if isinstance(node[0], str) else node):
                        if len(entry) > 3:
                            entry[3] = {}
        return config

    return build


def _class_method(keras: Any, symbol: str, method: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        config = _tf_op(keras, "math.add")()
        for layer in _layers(config):
            if layer["class_name"] == "TFOpLambda":
                layer["class_name"] = "ClassMethod"
                layer["config"] = {"name": layer["name"], "trainable": True, "dtype": "float32",
                                   "cls_symbol": symbol, "method_name": method}
        return config

    return build


def _instance(keras: Any, class_name: str, attribute: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        config = _tf_op(keras, "math.add")()
        for layer in _layers(config):
            if layer["class_name"] == "TFOpLambda":
                layer["class_name"] = class_name
                layer["config"] = {"name": layer["name"], "trainable": True, "dtype": "float32",
                                   "attr_name": attribute}
        return config

    return build


def _node_def(keras: Any, op: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        config = _tf_op(keras, "math.add")()
        for layer in _layers(config):
            if layer["class_name"] in ("TFOpLambda", "TensorFlowOpLayer"):
                layer["class_name"] = "TensorFlowOpLayer"
                layer["config"] = {"name": "payload", "trainable": True, "dtype": "float32",
                                   "node_def": {"name": "payload", "op": op, "input": ["input_1"],
                                                "attr": {"T": {"type": "DT_FLOAT"}}},
                                   "constants": {}}
        return config

    return build


def _file_reader(keras: Any, secret: str, raw_op: bool) -> Callable[[], dict[str, Any]]:
    """String input -> ``strings.reduce_join`` -> ``strings.regex_replace`` (a constant: ``secret``'s path) ->
    ``io.read_file`` / raw ``ReadFile``.

    The allowed first op turns any input into the attacker's path; the
    second reads that file into the model's output at predict time.
    """

    def build() -> dict[str, Any]:
        import tensorflow as tf

        inputs = keras.Input(shape=(), dtype="string", name="text")
        first = tf.strings.regex_replace(tf.strings.reduce_join(inputs), "^.*$", secret)
        config = _model_config(keras.Model(inputs, tf.strings.length(first)))
        for layer in _layers(config):
            if layer["config"].get("function") == "strings.length":
                if raw_op:
                    layer["class_name"] = "TensorFlowOpLayer"
                    layer["config"] = {"name": "payload", "trainable": True, "dtype": "string",
                                       "node_def": {"name": "payload", "op": "ReadFile",
                                                    "input": [layer["inbound_nodes"][0][0][0]]},
                                       "constants": {}}
                    layer["name"] = "payload"
                    config["config"]["output_layers"] = [["payload", 0, 0]]
                else:
                    layer["config"]["function"] = "io.read_file"
                    layer["config"]["name"] = layer["name"] = "tf.io.read_file"
                    config["config"]["output_layers"] = [["tf.io.read_file", 0, 0]]
        return config

    return build


def _output_discloses(secret_text: str) -> Callable[[Any], bool]:
    def effect(model: Any) -> bool:
        if model is None:
            return False
        import tensorflow as tf

        try:
            output = model(tf.constant(["anything"]))
        except Exception:  # noqa: BLE001
            return False
        return secret_text in str(output)

    return effect


def _dense_features_vocabulary(keras: Any, path: str) -> Callable[[], dict[str, Any]]:
    """A ``DenseFeatures`` layer whose feature column reads ``path`` as its vocabulary (TF's own deserializer)."""

    def build() -> dict[str, Any]:
        import tensorflow as tf

        column = tf.feature_column.categorical_column_with_vocabulary_file("word", path, vocabulary_size=1)
        inputs = {"word": keras.Input(shape=(1,), name="word", dtype="string")}
        return _model_config(keras.Model(inputs, keras.layers.DenseFeatures(
            [tf.feature_column.indicator_column(column)])(inputs)))

    return build


def _dense_features_effect(word: str) -> Callable[[Any], bool]:
    def effect(model: Any) -> bool:
        if model is None:
            return False
        import tensorflow as tf

        try:
            output = model({"word": tf.constant([[word]])})
        except Exception:  # noqa: BLE001
            return False
        return float(tf.reduce_sum(output)) > 0  # the word of the file was found: its line was read

    return effect


def _node_def_variant(keras: Any, node_def: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        config = _node_def(keras, "Identity")()
        for layer in _layers(config):
            if layer["class_name"] == "TensorFlowOpLayer":
                layer["config"]["node_def"] = dict(node_def)
        return config

    return build


def _debug_identity(keras: Any, canary: str) -> Callable[[], dict[str, Any]]:
    """A raw ``DebugIdentity`` op whose ``debug_urls`` make it write a dump under ``canary`` at predict time."""

    def b64(text: str) -> str:
        import base64

        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    return _node_def_variant(keras, {"name": "payload", "op": "DebugIdentity", "input": ["input_1"],
                                     "attr": {"T": {"type": "DT_FLOAT"}, "tensor_name": {"s": b64("input_1:0")},
                                              "debug_urls": {"list": {"s": [b64("file://" + canary)]}}}})


def _written_at_predict(canary: str) -> Callable[[Any], bool]:
    def effect(model: Any) -> bool:
        if model is not None:
            import tensorflow as tf

            try:
                model(tf.constant([[1.0, 2.0]]))
            except Exception:  # noqa: BLE001
                pass
        return os.path.exists(canary)

    return effect


def _has_dense_features(keras: Any) -> bool:
    try:
        import tensorflow as tf

        return hasattr(keras.layers, "DenseFeatures") and hasattr(tf, "feature_column") and _has_op_layers(keras)
    except Exception:  # noqa: BLE001
        return False


def _lookup_class(keras: Any, name: str) -> Any:
    layers = keras.layers
    for module in (layers, getattr(getattr(layers, "experimental", None), "preprocessing", None)):
        cls = getattr(module, name, None) if module is not None else None
        if cls is not None:
            return cls
    return None


def _vocabulary_model(keras: Any, class_name: str, path: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        cls = _lookup_class(keras, class_name)
        dtype = "int64" if class_name == "IntegerLookup" else "string"
        vocabulary = [7, 8] if class_name == "IntegerLookup" else ["a", "b"]
        inputs = keras.Input(shape=(1,), dtype=dtype)
        config = _model_config(keras.Model(inputs, cls(vocabulary=vocabulary)(inputs)))
        for layer in _layers(config):
            if layer["class_name"] == class_name:
                layer["config"]["vocabulary"] = path
        return config

    return build


def _usable(keras: Any, class_name: str) -> bool:
    """The release has the lookup class and can build it here (Keras 3 on JAX needs TensorFlow for it)."""
    cls = _lookup_class(keras, class_name)
    if cls is None:
        return False
    try:
        cls(vocabulary=[7, 8] if class_name == "IntegerLookup" else ["a", "b"])
    except Exception:  # noqa: BLE001
        return False
    return True


def _vocabulary_effect(secret: str) -> Callable[[Any], bool]:
    def effect(model: Any) -> bool:
        for layer in _all_layers(model):
            get = getattr(layer, "get_vocabulary", None)
            if get is not None:
                try:
                    if any(secret in str(word) for word in get()):
                        return True
                except Exception:  # noqa: BLE001
                    pass
        return False

    return effect


def _activation_form(keras: Any, form: Any) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        inputs = keras.Input(shape=(2,))
        config = _model_config(keras.Model(inputs, keras.layers.Dense(2, name="dense")(inputs)))
        for layer in _layers(config):
            if layer["class_name"] == "Dense":
                layer["config"]["activation"] = dict(form) if isinstance(form, dict) else form
        return config

    return build


def _activation_is(names: list[str]) -> Callable[[Any], bool]:
    def effect(model: Any) -> bool:
        for layer in _all_layers(model):
            activation = getattr(layer, "activation", None)
            if activation is not None and getattr(activation, "__name__", "") in names:
                return True
        return False

    return effect


def _lambda_config(canary: str, encoding: str) -> dict[str, Any]:
    config = malicious.lambda_function_config(canary, "payload")
    code = config["config"]["function"][0]
    if encoding == "raw":
        config["config"]["function"] = [_raw_code(canary), None, None]
    elif encoding == "bare":
        config["config"]["function"] = code
    else:
        config["config"]["function"] = list(config["config"]["function"])
    config["config"]["module"] = "__main__"
    return config


def _wrapped_lambda(keras: Any, canary: str, wrapper: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        inputs = keras.Input(shape=(3, 2))
        dense = keras.layers.Dense(2, name="inner")
        if wrapper == "TimeDistributed":
            outputs = keras.layers.TimeDistributed(dense, name="wrapper")(inputs)
        elif wrapper == "Bidirectional":
            rnn = keras.layers.SimpleRNN(2, return_sequences=True)
            outputs = keras.layers.Bidirectional(rnn, name="wrapper")(inputs)
        else:  # a Sequential inside a Functional
            outputs = keras.Sequential([dense], name="wrapper")(inputs)
        config = _model_config(keras.Model(inputs, outputs))
        payload = _lambda_config(canary, "base64")["config"]
        for layer in _layers(config):
            if layer["name"] == "wrapper":
                if wrapper == "Bidirectional":
                    target = layer["config"]["layer"]
                elif wrapper == "TimeDistributed":
                    target = layer["config"]["layer"]
                else:
                    target = layer["config"]["layers"][-1]
                target["class_name"] = "Lambda"
                target["config"] = dict(payload)
        return config

    return build


def _functional_lambda(keras: Any, canary: str, encoding: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        inputs = keras.Input(shape=(2,))
        config = _model_config(keras.Model(inputs, keras.layers.Dense(2, name="payload")(inputs)))
        for layer in _layers(config):
            if layer["name"] == "payload":
                layer["class_name"] = "Lambda"
                layer["config"] = _lambda_config(canary, encoding)["config"]
        return config

    return build


def _cell_wrapper(keras: Any, canary: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        inputs = keras.Input(shape=(3, 2))
        config = _model_config(keras.Model(inputs, keras.layers.RNN(keras.layers.SimpleRNNCell(2), name="rnn")(inputs)))
        for layer in _layers(config):
            if layer["name"] == "rnn":
                cell = layer["config"]["cell"]
                layer["config"]["cell"] = {"class_name": "DropoutWrapper", "config": {
                    "name": "wrapper", "cell": cell, "input_keep_prob": 1.0, "output_keep_prob": 1.0,
                    "state_keep_prob": 0.5, "variational_recurrent": False, "input_size": None, "seed": None,
                    "dropout_fn": [_raw_code(canary), None, None], "dropout_fn_type": "lambda",
                    "dropout_fn_module": "__main__"}}
        return config

    return build


def _file_written(canary: str) -> Callable[[Any], bool]:
    return lambda model: os.path.exists(canary)


def payloads(keras: Any, workdir: str) -> list[Payload]:
    """The payloads that apply to this release, writing their canaries under ``workdir``."""
    canary = os.path.join(workdir, "canary")
    secret_file = os.path.join(workdir, "secret.txt")
    with open(secret_file, "w") as handle:
        handle.write("kd-secret-line\n")
    found: list[Payload] = []
    if _has_op_layers(keras):
        for function in ("io.write_file", "load_library", "load_op_library", "io.TFRecordWriter", "py_function",
                         "debugging.assert_equal", "raw_ops.Save", "keras.utils.get_file"):
            found.append(Payload("tf_op_" + function.replace(".", "_"), "op layer: TF symbol outside the pure-op list",
                                 _tf_op(keras, function),
                                 lambda model, f=function: _op_symbol(model, [f.split(".")[-1]])))
        found.append(Payload("class_method_gfile", "op layer: ClassMethod outside the ragged constructors",
                             _class_method(keras, "io.gfile.GFile", "__init__"),
                             lambda model: _op_symbol(model, ["GFile"])))
        found.append(Payload("instance_property_dunder", "op layer: InstanceProperty outside the ragged properties",
                             _instance(keras, "InstanceProperty", "__class__"),
                             lambda model: _op_symbol(model, ["__class__"])))
    if _has_op_layers(keras):
        found.append(Payload("tf_op_io_read_file", "op layer: TF symbol outside the pure-op list (runs at predict)",
                             _file_reader(keras, secret_file, False), _output_discloses("kd-secret")))
        found.append(Payload("tf_op_namespace_class", "op layer: a class inside a pure namespace",
                             _tf_op(keras, "linalg.LinearOperatorFullMatrix"),
                             lambda model: _op_symbol(model, ["LinearOperatorFullMatrix"])))
        found.append(Payload("node_def_readfile", "op layer: raw NodeDef op outside the pure-op list (runs at predict)",
                             _file_reader(keras, secret_file, True), _output_discloses("kd-secret")))
        found.append(Payload("node_def_debug_identity",
                             "op layer: raw NodeDef op outside the pure-op list (writes at predict)",
                             _debug_identity(keras, canary), _written_at_predict(canary)))
        found.append(Payload("node_def_list_func_attr", "op layer: raw NodeDef with a function list attribute",
                             _node_def_variant(keras, {"name": "payload", "op": "Identity", "input": ["input_1"],
                                                       "attr": {"T": {"type": "DT_FLOAT"},
                                                                "f": {"list": {"func": [{"name": "evil"}]}}}}),
                             lambda model: _op_symbol(model, ["evil"])))
        found.append(Payload("node_def_op_not_a_string", "op layer: raw NodeDef whose op is not a string",
                             _node_def_variant(keras, {"name": "payload", "op": ["WriteFile"], "input": ["input_1"]}),
                             lambda model: _op_symbol(model, ["WriteFile"])))
    if _has_dense_features(keras):
        with open(secret_file + ".word", "w") as handle:
            handle.write("kd-secret-word\n")
        found.append(Payload("densefeatures_vocabulary_file", "layer argument naming a file (TF feature column)",
                             _dense_features_vocabulary(keras, secret_file + ".word"),
                             _dense_features_effect("kd-secret-word")))
    if hasattr(_base_layer(keras), "TensorFlowOpLayer"):
        found.append(Payload("node_def_writefile", "op layer: raw NodeDef op outside the pure-op list",
                             _node_def(keras, "WriteFile"), lambda model: _op_symbol(model, ["WriteFile"])))
        found.append(Payload("node_def_save", "op layer: raw NodeDef op outside the pure-op list",
                             _node_def(keras, "Save"), lambda model: _op_symbol(model, ["Save"])))
    for class_name in ("StringLookup", "IntegerLookup", "TextVectorization"):
        if _usable(keras, class_name):
            if class_name == "IntegerLookup":
                with open(secret_file + ".int", "w") as handle:
                    handle.write("424242\n")
                found.append(Payload(f"{class_name.lower()}_vocabulary_file", "layer argument naming a file",
                                     _vocabulary_model(keras, class_name, secret_file + ".int"),
                                     _vocabulary_effect("424242")))
            elif class_name == "StringLookup":
                found.append(Payload(f"{class_name.lower()}_vocabulary_file", "layer argument naming a file",
                                     _vocabulary_model(keras, class_name, secret_file),
                                     _vocabulary_effect("kd-secret")))
                found.append(Payload("stringlookup_dev_zero", "layer argument naming a device",
                                     _vocabulary_model(keras, class_name, "/dev/zero"), lambda model: model is not None,
                                     crashes=True))
    found += [
        Payload("function_form_os_system", "Keras 3-style function form outside the harmless built-ins",
                _activation_form(keras, {"class_name": "function", "config": "system", "module": "os",
                                         "registered_name": "system"}), _activation_is(["system"])),
        Payload("function_form_get_file", "Keras 3-style function form outside the harmless built-ins",
                _activation_form(keras, {"class_name": "function", "config": "get_file", "module": "keras.utils",
                                         "registered_name": "get_file"}), _activation_is(["get_file"])),
        Payload("lambda_raw_latin1_bytecode", "bytecode (raw latin-1 text)", _functional_lambda(keras, canary, "raw"),
                _file_written(canary)),
        Payload("lambda_bare_base64_bytecode", "bytecode (base64, bare string)",
                _functional_lambda(keras, canary, "bare"), _file_written(canary)),
        Payload("lambda_in_timedistributed", "bytecode nested in a wrapper",
                _wrapped_lambda(keras, canary, "TimeDistributed"), _file_written(canary)),
        Payload("lambda_in_bidirectional", "bytecode nested in a wrapper",
                _wrapped_lambda(keras, canary, "Bidirectional"), _file_written(canary)),
        Payload("lambda_in_sequential_in_functional", "bytecode nested in a model",
                _wrapped_lambda(keras, canary, "Sequential"), _file_written(canary)),
    ]
    if not str(getattr(keras, "__version__", "")).startswith("3."):  # Keras 2 loaders' globals hold it
        found.append(Payload("activation_names_the_deserializer", "string identifier naming a loader's module global",
                             _activation_form(keras, "deserialize_keras_object"),
                             _activation_is(["deserialize_keras_object"])))
    if _has_op_layers(keras):  # TF 2.x Keras 2 / tf_keras keep the tf.nn cell wrappers
        found.append(Payload("cell_wrapper_raw_bytecode", "bytecode (raw) in a cell wrapper's function field",
                             _cell_wrapper(keras, canary), _file_written(canary)))
    return found


def _base_layer(keras: Any) -> Any:
    import sys

    for name in ("keras.engine.base_layer", "keras.src.engine.base_layer", "tf_keras.src.engine.base_layer",
                 "tensorflow.python.keras.engine.base_layer"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "Layer", None) is getattr(keras.layers, "Layer", object()):
            return module
    return None


def h5_with_config(keras: Any, path: str, config: dict[str, Any], training_config: dict[str, Any] | None = None,
                   weights: bool = False) -> str:
    """An HDF5 model file of this release whose ``model_config`` is ``config``.

    Without ``weights`` the file holds no weights, so that a payload model
    without weights loads whole; with it, the weights of a ``Dense(2)`` on a
    2-wide input.
    """
    import h5py
    import numpy as np

    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.save(path)
    with h5py.File(path, "r+") as handle:
        handle.attrs["model_config"] = json.dumps(config).encode("utf-8")
        if not weights:
            group = handle["model_weights"] if "model_weights" in handle else handle
            group.attrs["layer_names"] = np.array([], dtype="S1")
        if training_config is not None:
            handle.attrs["training_config"] = json.dumps(training_config).encode("utf-8")
    return path


def refused(error: BaseException) -> bool:
    """True when ``error``, or an exception it was raised from, is safe mode's refusal."""
    from keras_deser import UnsafeConfigError

    seen: list[BaseException] = []
    current: Any = error
    while current is not None and current not in seen:
        if isinstance(current, UnsafeConfigError):
            return True
        seen.append(current)
        current = current.__cause__ or current.__context__
    return False
