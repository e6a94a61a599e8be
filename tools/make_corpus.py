"""Save the cross-release corpus of this environment's Keras.

    python3 compat/run.py --exec tf2.9 -- python tools/make_corpus.py tests/corpus/tf2.9

Builds a few tiny models (fixed weights drawn from a seeded NumPy generator,
so every release saves the same numbers), and writes into OUTDIR, per model
``<model>.json`` (``model.to_json()``), ``<model>.h5`` (``model.save``; Keras 3
writes the legacy HDF5 format, with a warning) and ``<model>.npz`` (the fixed
input ``x0``, ``x1`` ... and the saving release's predictions ``y``), plus
``<model>.keras`` (``model.save``'s zip archive, for the first five models, where
the release writes one: Keras 2.12+ and Keras 3), and
``manifest.json``: the source label (OUTDIR's name unless ``--label``), the
TensorFlow/Keras versions and, per model, its parameter count and number of
inputs.  Uses only layers present in every release from TF 1.15 to Keras 3.
``--archives-only`` writes only the ``.keras`` archives and checks that the
model's predictions equal the committed ``<model>.npz`` (the weights are seeded,
so the archive and the HDF5 file carry the same numbers).
Each saved model is loaded back with the release's own loaders before it is
kept, so the corpus holds nothing its own release cannot read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "corpus"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import corpus_layers  # noqa: E402
import numpy as np  # noqa: E402

K: Any = corpus_layers.keras
KERAS3 = str(getattr(K, "__version__", "2")).startswith("3")
L: Any = K.layers


def _input_layer(shape: tuple) -> Any:
    return L.InputLayer(shape=shape) if KERAS3 else L.InputLayer(input_shape=shape)


def _glorot_uniform() -> Any:
    """The initializer class: TF 1.15's ``tf.keras.initializers`` has it only as ``glorot_uniform``."""
    return getattr(K.initializers, "GlorotUniform", None) or K.initializers.glorot_uniform


def mlp() -> Any:
    inputs = K.Input(shape=(8,))
    hidden = L.Dense(
        16,
        activation="relu",
        kernel_regularizer=K.regularizers.l2(0.01),
        kernel_constraint=K.constraints.max_norm(2.0),
        name="hidden",
    )(inputs)
    outputs = L.Dense(4, activation="softmax", name="out")(hidden)
    return K.Model(inputs, outputs, name="mlp")


def cnn() -> Any:
    inputs = K.Input(shape=(8, 8, 1))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = L.BatchNormalization()(x)
    x = L.MaxPooling2D(2)(x)
    x = L.AveragePooling2D(2)(x)
    x = L.Flatten()(x)
    outputs = L.Dense(3)(x)
    return K.Model(inputs, outputs, name="cnn")


def rnn() -> Any:
    inputs = K.Input(shape=(5, 3))
    # unroll=True: TF 2's cuDNN-selecting LSTM/GRU graph costs ~1 s per model build, which the grid does 500 times.
    x = L.LSTM(4, return_sequences=True, unroll=True)(inputs)
    x = L.Bidirectional(L.GRU(3, unroll=True))(x)
    outputs = L.Dense(2)(x)
    return K.Model(inputs, outputs, name="rnn")


def shared() -> Any:
    left = K.Input(shape=(6,), name="left")
    right = K.Input(shape=(6,), name="right")
    dense = L.Dense(4, activation="tanh", name="shared_dense")
    a = dense(left)
    b = corpus_layers.Scale(factor=0.5, name="scale")(dense(right))
    merged = L.Concatenate()([a, b])
    outputs = L.Dense(2, name="head")(merged)
    return K.Model([left, right], outputs, name="shared")


def sequential() -> Any:
    return K.Sequential(
        [
            _input_layer((4,)),
            L.Dense(8, activation="relu"),
            L.Dropout(0.25),
            L.Dense(3, activation="sigmoid"),
        ],
        name="sequential",
    )


def text() -> Any:
    inputs = K.Input(shape=(10,), dtype="int32")
    x = L.Embedding(20, 4)(inputs)
    x = L.Conv1D(4, 3, activation="relu")(x)
    x = L.GlobalMaxPooling1D()(x)
    x = L.Dropout(0.1)(x)
    outputs = L.Dense(1, activation="sigmoid")(x)
    return K.Model(inputs, outputs, name="text")


def merge() -> Any:
    inputs = K.Input(shape=(6,))
    a = L.Dense(
        5,
        kernel_initializer=K.initializers.RandomNormal(stddev=0.05, seed=1),
        bias_initializer=K.initializers.Constant(0.1),
    )(inputs)
    a = L.Activation("tanh")(a)
    b = L.Dense(5, kernel_initializer=_glorot_uniform()(seed=2))(inputs)
    b = L.LeakyReLU(0.2)(b)
    added = L.Add()([a, b])
    x = L.Concatenate()([added, L.Multiply()([a, b])])
    x = L.ReLU(max_value=6.0)(x)
    outputs = L.Activation("softmax")(L.Dense(3)(x))
    return K.Model(inputs, outputs, name="merge")


def timedist() -> Any:
    inputs = K.Input(shape=(4, 3))
    x = L.TimeDistributed(L.Dense(2, activation="elu"))(inputs)
    x = L.SimpleRNN(3)(x)
    outputs = L.Dense(2)(x)
    return K.Model(inputs, outputs, name="timedist")


MODELS: dict[str, Callable[[], Any]] = {
    "mlp": mlp,
    "cnn": cnn,
    "rnn": rnn,
    "shared": shared,
    "sequential": sequential,
    "text": text,
    "merge": merge,
    "timedist": timedist,
}
CORE_MODELS = ("mlp", "cnn", "rnn", "shared", "sequential")  # the five of issue 10


def archive_options() -> dict[str, Any] | None:
    """``model.save`` options writing a ``.keras`` zip archive here; None where the release has none.

    Keras 2.12 writes the zip (``saving_lib``) only with ``save_format="keras_v3"`` (a
    plain ``.keras`` name gets HDF5 there); 2.13+, tf_keras and Keras 3 by the name.
    """
    parts = versions()["keras"].split(".")[:2]
    release = (int(parts[0]), int(parts[1]))
    if release < (2, 12):
        return None
    return {"save_format": "keras_v3"} if release < (2, 13) else {}


def fixed_inputs(model: Any, rng: Any) -> list[Any]:
    arrays = []
    for tensor in model.inputs:
        dims = tensor.shape.as_list() if hasattr(tensor.shape, "as_list") else tensor.shape  # TF's TensorShape
        shape = tuple(2 if dim is None else int(dim) for dim in dims)
        if "int" in str(tensor.dtype):
            arrays.append(rng.randint(0, 20, size=shape).astype("int32"))
        else:
            arrays.append(rng.uniform(-1.0, 1.0, size=shape).astype("float32"))
    return arrays


def fix_weights(model: Any, rng: Any) -> None:
    values = []
    for variable, value in zip(model.weights, model.get_weights()):
        low, high = (0.5, 1.5) if "variance" in variable.name else (-0.5, 0.5)
        values.append(rng.uniform(low, high, size=value.shape).astype(value.dtype))
    model.set_weights(values)


def versions() -> dict[str, str]:
    package = "tf_keras" if os.environ.get("TF_USE_LEGACY_KERAS") == "1" else "keras"
    found = {"keras": str(getattr(K, "__version__", "") or getattr(sys.modules.get(package), "__version__", ""))}
    if package == "tf_keras":
        found["package"] = package
    try:
        import tensorflow as tf

        found["tensorflow"] = tf.__version__
    except ImportError:
        found["tensorflow"] = ""
        found["backend"] = K.backend.backend()
    return found


def save(name: str, outdir: str, archives_only: bool = False) -> dict[str, Any]:
    K.backend.clear_session()
    rng = np.random.RandomState(sorted(MODELS).index(name) + 1)
    model = MODELS[name]()
    fix_weights(model, rng)
    x = fixed_inputs(model, rng)
    y = np.asarray(model.predict(x if len(x) > 1 else x[0], verbose=0))
    base = os.path.join(outdir, name)
    params = int(model.count_params())
    options = archive_options()
    if name in CORE_MODELS and options is not None:
        model.save(base + ".keras", **options)
        check_own_archive(base, params, x, y)
    if archives_only:
        with np.load(base + ".npz") as committed:
            np.testing.assert_allclose(y, committed["y"], atol=1e-6)
        return {"params": params, "inputs": len(x)}
    with open(base + ".json", "w") as handle:
        handle.write(model.to_json())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(base + ".h5")
    np.savez_compressed(base + ".npz", y=y, **{f"x{i}": value for i, value in enumerate(x)})
    check_own_release(base, params, x, y)
    return {"params": params, "inputs": len(x)}


def check_own_release(base: str, params: int, x: list[Any], y: Any) -> None:
    """The release's own loaders read back what it saved (else the corpus is wrong)."""
    with open(base + ".json") as handle:
        text = handle.read()
    K.backend.clear_session()
    from_json = K.models.model_from_json(text, custom_objects=corpus_layers.CUSTOM_OBJECTS)
    assert from_json.count_params() == params, (base, from_json.count_params(), params)
    K.backend.clear_session()
    from_h5 = K.models.load_model(base + ".h5", compile=False, custom_objects=corpus_layers.CUSTOM_OBJECTS)
    assert from_h5.count_params() == params, (base, from_h5.count_params(), params)
    again = np.asarray(from_h5.predict(x if len(x) > 1 else x[0], verbose=0))
    np.testing.assert_allclose(again, y, atol=1e-5)


def check_own_archive(base: str, params: int, x: list[Any], y: Any) -> None:
    """The release's own ``load_model`` reads back the ``.keras`` archive it saved."""
    K.backend.clear_session()
    model = K.models.load_model(base + ".keras", compile=False, custom_objects=corpus_layers.CUSTOM_OBJECTS)
    assert model.count_params() == params, (base, model.count_params(), params)
    again = np.asarray(model.predict(x if len(x) > 1 else x[0], verbose=0))
    np.testing.assert_allclose(again, y, atol=1e-5)


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--label", help="source label (default: OUTDIR's name)")
    parser.add_argument("--only", nargs="*", help="models to save (default: all)")
    parser.add_argument("--archives-only", action="store_true", help="write only the .keras archives")
    args = parser.parse_args(argv)
    if "keras_deser" in sys.modules:
        sys.exit("make_corpus.py: keras_deser must not be loaded (unset KERAS_DESER_INSTALL)")
    os.makedirs(args.outdir, exist_ok=True)
    label = args.label or os.path.basename(os.path.normpath(args.outdir))
    models = {name: save(name, args.outdir, args.archives_only) for name in (args.only or MODELS)}
    if args.archives_only:
        return 0
    path = os.path.join(args.outdir, "manifest.json")
    if args.only and os.path.exists(path):
        with open(path) as handle:
            models = {**json.load(handle)["models"], **models}
    manifest = {"source": label, **versions(), "models": models}
    with open(os.path.join(args.outdir, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(json.dumps(manifest, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
