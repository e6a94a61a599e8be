"""Models of many kinds carried across releases with translation on (issue 10).

The grid (``tools/grid.py`` on ``tests/corpus``) checks eight models; this
trial checks the table on many more kinds of layer, argument and nesting:

    # from the host: save in each source env, load in each target env
    python3 tools/trial_kinds.py run --dir /tmp/trial --sources tf1.15 tf2.9 --targets tf2.9 keras3-jax
    # the two halves, inside one env
    python3 compat/run.py --exec tf2.9 -- python tools/trial_kinds.py save /tmp/trial/tf2.9
    python3 compat/run.py --exec keras3-jax -- python tools/trial_kinds.py load /tmp/trial --mode translate

``save OUTDIR`` builds every model this release can build (a model whose
layers or arguments the release lacks is left out and listed in the
manifest's ``skipped``), fixes its weights, and writes it as the corpus does
(``<model>.json``, ``<model>.h5``, ``<model>.npz``, ``manifest.json``, see
``tools/make_corpus.py``), after checking the release reads it back.

``load DIR`` loads every source directory under ``DIR`` with this env's own
``model_from_json`` and ``load_model(..., compile=False)`` (the grid's
cells, :func:`grid.check_cell`: builds, same parameter count, from HDF5 the
source's predictions within 1e-4), with keras_deser ``off`` or
``install(translate=True)`` (``--mode translate``); ``--keras-deser PATH``
imports keras_deser from PATH (an older checkout, for before/after figures).

``run`` does both through ``compat/run.py --exec`` and prints, per source x
target, the cells that hold, and every failing cell with its error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENVS = ("tf1.15", "tf2.9", "tf2.15", "tf2.21-tf_keras", "tf2.21-keras3", "keras3-jax")


# --- the models (built only inside an env) ---------------------------------------------


def _models() -> dict[str, Callable[[], Any]]:  # noqa: C901 - one builder per kind, read top to bottom
    import trial_layers

    K: Any = trial_layers.keras
    L: Any = K.layers
    keras3 = str(getattr(K, "__version__", "2")).startswith("3")

    def layer(name: str) -> Any:
        found = getattr(L, name, None)
        if found is None:
            experimental = getattr(getattr(L, "experimental", None), "preprocessing", None)
            found = getattr(experimental, name, None)
        if found is None:
            raise AttributeError(f"no layer {name}")
        return found

    def initializer(name: str) -> Any:
        return getattr(K.initializers, name)

    def conv2d_kinds() -> Any:
        inputs = K.Input(shape=(6, 6, 2))
        x = L.Conv2DTranspose(2, 3, strides=2, padding="same")(inputs)
        x = L.SeparableConv2D(3, 3, depth_multiplier=2, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(3, depth_multiplier=1)(x)
        x = L.ZeroPadding2D(1)(x)
        x = L.Cropping2D(((1, 0), (0, 1)))(x)
        x = L.UpSampling2D(2)(x)
        x = L.SpatialDropout2D(0.2)(x)
        x = L.MaxPooling2D(2, strides=1, padding="same")(x)
        x = L.GlobalAveragePooling2D()(x)
        return K.Model(inputs, L.Dense(2)(x), name="conv2d_kinds")

    def conv1d_kinds() -> Any:
        inputs = K.Input(shape=(12, 3))
        x = L.Conv1D(4, 3, dilation_rate=2, padding="causal", activation="tanh")(inputs)
        x = L.SeparableConv1D(3, 2)(x)
        x = L.MaxPooling1D(2)(x)
        x = L.UpSampling1D(2)(x)
        x = L.ZeroPadding1D(1)(x)
        x = L.Cropping1D((1, 1))(x)
        x = L.AveragePooling1D(2)(x)
        x = L.SpatialDropout1D(0.1)(x)
        x = L.GlobalMaxPooling1D()(x)
        return K.Model(inputs, L.Dense(2)(x), name="conv1d_kinds")

    def conv3d() -> Any:
        inputs = K.Input(shape=(4, 4, 4, 1))
        x = L.Conv3D(2, 2, activation="relu")(inputs)
        x = L.MaxPooling3D(1)(x)
        x = L.GlobalAveragePooling3D()(x)
        return K.Model(inputs, L.Dense(2)(x), name="conv3d")

    def embedding_mask() -> Any:
        inputs = K.Input(shape=(6,), dtype="int32")
        x = L.Embedding(20, 4, mask_zero=True)(inputs)
        x = L.GRU(3, reset_after=True, return_sequences=True, unroll=True)(x)
        x = L.SimpleRNN(2, unroll=True)(x)
        return K.Model(inputs, L.Dense(1)(x), name="embedding_mask")

    def gru_v1() -> Any:
        inputs = K.Input(shape=(4, 3))
        x = L.GRU(3, reset_after=False, return_sequences=True, unroll=True)(inputs)
        x = L.Bidirectional(L.LSTM(2, unroll=True, unit_forget_bias=False), merge_mode="sum")(x)
        return K.Model(inputs, L.Dense(1)(x), name="gru_v1")

    def rnn_cells() -> Any:
        inputs = K.Input(shape=(4, 3))
        x = L.RNN(L.LSTMCell(3), return_sequences=True, unroll=True)(inputs)
        x = L.RNN(L.StackedRNNCells([L.GRUCell(2), L.SimpleRNNCell(2)]), go_backwards=True, unroll=True)(x)
        return K.Model(inputs, L.Dense(1)(x), name="rnn_cells")

    def convlstm() -> Any:
        inputs = K.Input(shape=(2, 5, 5, 1))
        x = L.ConvLSTM2D(2, 3, padding="same")(inputs)
        x = L.Flatten()(x)
        return K.Model(inputs, L.Dense(2)(x), name="convlstm")

    def attention() -> Any:
        query = K.Input(shape=(4, 3), name="query")
        value = K.Input(shape=(5, 3), name="value")
        a = L.Attention(use_scale=True)([query, value])
        b = L.AdditiveAttention()([query, value])
        x = L.Concatenate()([a, b])
        x = L.GlobalAveragePooling1D()(x)
        return K.Model([query, value], L.Dense(2)(x), name="attention")

    def multi_head() -> Any:
        inputs = K.Input(shape=(4, 6))
        x = layer("MultiHeadAttention")(num_heads=2, key_dim=3)(inputs, inputs)
        x = L.LayerNormalization(epsilon=1e-3)(x)
        x = L.Flatten()(x)
        return K.Model(inputs, L.Dense(2)(x), name="multi_head")

    def layer_norm() -> Any:
        inputs = K.Input(shape=(5,))
        x = L.LayerNormalization(epsilon=1e-4)(inputs)
        x = L.Dense(4)(x)
        x = L.BatchNormalization(center=False, momentum=0.9)(x)
        return K.Model(inputs, L.Dense(2)(x), name="layer_norm")

    def normalization() -> Any:
        inputs = K.Input(shape=(3,))
        x = layer("Normalization")(mean=[0.5, -0.5, 1.0], variance=[1.0, 4.0, 0.25])(inputs)
        x = layer("Rescaling")(0.5, offset=0.1)(x)
        return K.Model(inputs, L.Dense(2)(x), name="normalization")

    def image_preprocessing() -> Any:
        inputs = K.Input(shape=(8, 8, 1))
        x = layer("Resizing")(4, 4)(inputs)
        x = layer("Rescaling")(1.0 / 2)(x)
        x = layer("CenterCrop")(2, 2)(x)
        x = L.Flatten()(x)
        return K.Model(inputs, L.Dense(2)(x), name="image_preprocessing")

    def merges() -> Any:
        a = K.Input(shape=(4,), name="a")
        b = K.Input(shape=(4,), name="b")
        parts = [
            L.Add()([a, b]), L.Subtract()([a, b]), L.Multiply()([a, b]), L.Average()([a, b]),
            L.Maximum()([a, b]), L.Minimum()([a, b]), L.Dot(axes=1, normalize=True)([a, b]),
        ]
        x = L.Concatenate(axis=-1)(parts)
        return K.Model([a, b], L.Dense(2)(x), name="merges")

    def nested() -> Any:
        inner_in = K.Input(shape=(4,))
        inner = K.Model(inner_in, L.Dense(3, activation="relu", name="inner_dense")(inner_in), name="inner")
        stack = K.Sequential([L.Dense(3, activation="tanh"), L.Dense(3)], name="stack")
        shared = L.Dense(3, name="shared")
        a = K.Input(shape=(4,), name="a")
        b = K.Input(shape=(4,), name="b")
        x = stack(inner(a))
        y = inner(b)
        out1 = shared(x)
        out2 = L.Add()([shared(y), out1])
        return K.Model([a, b], [out1, out2], name="nested")

    def masking() -> Any:
        inputs = K.Input(shape=(5, 3))
        x = L.Masking(mask_value=0.0)(inputs)
        x = L.LSTM(3, unroll=True)(x)
        x = L.Dropout(0.5)(x)
        return K.Model(inputs, L.Dense(2)(x), name="masking")

    def activations() -> Any:
        inputs = K.Input(shape=(5,))
        x = L.Dense(5)(inputs)
        x = L.PReLU(alpha_initializer=K.initializers.Constant(0.25))(x)
        x = L.LeakyReLU(0.3)(x)
        x = L.ELU(0.5)(x)
        x = L.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.0)(x)
        x = L.Dense(4, activation="selu")(x)
        x = L.Activation("softplus")(x)
        x = L.Activation("softsign")(x)
        x = L.Dense(3, activation="exponential")(x)
        x = L.Softmax(axis=-1)(x)
        return K.Model(inputs, L.Dense(2, activation="linear")(x), name="activations")

    def activations_new() -> Any:
        inputs = K.Input(shape=(5,))
        x = L.Activation("swish")(inputs)
        x = L.Activation("gelu")(x)
        x = L.Dense(4, activation="swish")(x)
        return K.Model(inputs, L.Dense(2, activation="gelu")(x), name="activations_new")

    def initializers() -> Any:
        inputs = K.Input(shape=(4,))
        x = L.Dense(4, kernel_initializer=initializer("VarianceScaling")(
            scale=2.0, mode="fan_out", distribution="truncated_normal", seed=1))(inputs)
        x = L.Dense(4, kernel_initializer=initializer("Orthogonal")(gain=1.0, seed=2))(x)
        x = L.Dense(4, kernel_initializer=initializer("RandomNormal")(mean=0.0, stddev=0.1, seed=3),
                    bias_initializer=initializer("Constant")(0.3))(x)
        x = L.Dense(4, kernel_initializer=initializer("TruncatedNormal")(stddev=0.1, seed=4))(x)
        x = L.Dense(4, kernel_initializer=initializer("Identity")(gain=1.0))(x)
        x = L.Dense(4, kernel_initializer=initializer("RandomUniform")(-0.1, 0.1, seed=5),
                    bias_initializer="ones")(x)
        x = L.Dense(4, kernel_initializer="he_normal", bias_initializer="zeros")(x)
        x = L.Dense(4, kernel_initializer="lecun_uniform")(x)
        return K.Model(inputs, L.Dense(2, kernel_initializer="glorot_normal")(x), name="initializers")

    def regularizers() -> Any:
        inputs = K.Input(shape=(4,))
        x = L.Dense(
            4,
            kernel_regularizer=K.regularizers.L1L2(l1=0.01, l2=0.02),
            bias_regularizer=K.regularizers.l1(0.01),
            activity_regularizer=K.regularizers.l2(0.001),
            kernel_constraint=K.constraints.MaxNorm(2.0, axis=0),
            bias_constraint=K.constraints.NonNeg(),
        )(inputs)
        x = L.Dense(4, kernel_constraint=K.constraints.UnitNorm(axis=0))(x)
        x = L.Dense(4, kernel_constraint=K.constraints.MinMaxNorm(0.1, 1.0, rate=0.5),
                    kernel_regularizer=K.regularizers.l1_l2(l1=0.001, l2=0.002))(x)
        x = L.ActivityRegularization(l1=0.001)(x)
        return K.Model(inputs, L.Dense(2)(x), name="regularizers")

    def mixed_precision() -> Any:
        if keras3:
            policy: Any = "mixed_float16"
        else:
            policy = K.mixed_precision.Policy("mixed_float16")
        inputs = K.Input(shape=(4,))
        x = L.Dense(4, dtype=policy, activation="relu")(inputs)
        x = L.Dense(3, dtype=policy)(x)
        return K.Model(inputs, L.Activation("linear", dtype="float32")(x), name="mixed_precision")

    def custom_registered() -> Any:
        if not trial_layers.REGISTERED:
            raise AttributeError("no register_keras_serializable")
        inputs = K.Input(shape=(4,))
        x = trial_layers.Gain(gain=2.0, name="gain")(inputs)
        return K.Model(inputs, L.Dense(2)(x), name="custom_registered")

    def reshapes() -> Any:
        inputs = K.Input(shape=(6,))
        x = L.Reshape((2, 3))(inputs)
        x = L.Permute((2, 1))(x)
        x = L.Flatten()(x)
        x = L.RepeatVector(2)(x)
        x = L.Flatten()(x)
        return K.Model(inputs, L.Dense(2)(x), name="reshapes")

    def timedist_conv() -> Any:
        inputs = K.Input(shape=(3, 4, 4, 1))
        x = L.TimeDistributed(L.Conv2D(2, 2))(inputs)
        x = L.TimeDistributed(L.Flatten())(x)
        x = L.GRU(2, unroll=True)(x)
        return K.Model(inputs, L.Dense(1)(x), name="timedist_conv")

    def noise() -> Any:
        inputs = K.Input(shape=(4,))
        x = L.GaussianNoise(0.1)(inputs)
        x = L.GaussianDropout(0.1)(x)
        x = L.AlphaDropout(0.1)(x)
        return K.Model(inputs, L.Dense(2)(x), name="noise")

    def sequential_kinds() -> Any:
        model = K.Sequential(name="sequential_kinds")
        if keras3:
            model.add(L.InputLayer(shape=(6, 2)))
        else:
            model.add(L.InputLayer(input_shape=(6, 2)))
        model.add(L.Conv1D(3, 2, kernel_regularizer=K.regularizers.l2(0.01)))
        model.add(L.BatchNormalization())
        model.add(L.LSTM(2, return_sequences=True, unroll=True))
        model.add(L.GlobalAveragePooling1D())
        model.add(L.Dense(2, activation="softmax"))
        return model

    builders = [
        conv2d_kinds, conv1d_kinds, conv3d, embedding_mask, gru_v1, rnn_cells, convlstm, attention, multi_head,
        layer_norm, normalization, image_preprocessing, merges, nested, masking, activations, activations_new,
        initializers, regularizers, mixed_precision, custom_registered, reshapes, timedist_conv, noise,
        sequential_kinds,
    ]
    return {builder.__name__: builder for builder in builders}


# --- save --------------------------------------------------------------------------------


def save(outdir: str, only: list[str] | None = None) -> int:
    sys.path.insert(0, HERE)
    import make_corpus  # the corpus's weights, inputs and read-back check
    import numpy as np

    K = make_corpus.K
    models = _models()
    os.makedirs(outdir, exist_ok=True)
    saved: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    path = os.path.join(outdir, "manifest.json")
    if only and os.path.exists(path):
        with open(path) as handle:
            before = json.load(handle)
        saved = {name: entry for name, entry in before["models"].items() if name not in only}
        skipped = {name: why for name, why in before["skipped"].items() if name not in only}
    for index, name in enumerate(sorted(models)):
        if only and name not in only:
            continue
        K.backend.clear_session()
        rng = np.random.RandomState(index + 1)
        try:
            model = models[name]()
        except (AttributeError, TypeError, ValueError, ImportError) as error:
            skipped[name] = f"{type(error).__name__}: {error}"[:200]
            continue
        make_corpus.fix_weights(model, rng)
        x = make_corpus.fixed_inputs(model, rng)
        y = model.predict(x if len(x) > 1 else x[0], verbose=0)
        several = isinstance(y, list)
        if several:  # several outputs: the first is checked
            y = y[0]
        base = os.path.join(outdir, name)
        with open(base + ".json", "w") as handle:
            handle.write(model.to_json())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(base + ".h5")
        np.savez_compressed(base + ".npz", y=np.asarray(y), **{f"x{i}": value for i, value in enumerate(x)})
        params = int(model.count_params())
        entry: dict[str, Any] = {"params": params, "inputs": len(x)}
        try:
            if not several:
                make_corpus.check_own_release(base, params, x, np.asarray(y))
        except Exception as error:  # the release cannot read its own file: not a cell to try elsewhere
            why = f"own release: {type(error).__name__}: {error}"[:200]
            try:
                K.backend.clear_session()
                with open(base + ".json") as handle:
                    K.models.model_from_json(handle.read(), custom_objects=make_corpus.corpus_layers.CUSTOM_OBJECTS)
            except Exception:
                skipped[name] = why
                for ext in (".json", ".h5", ".npz"):
                    os.remove(base + ext)
                continue
            os.remove(base + ".h5")  # its JSON reads back, its HDF5 does not (an upstream bug)
            entry["no_h5"] = why
        saved[name] = entry
    manifest = {"source": os.path.basename(os.path.normpath(outdir)), **make_corpus.versions(), "models": saved,
                "skipped": skipped}
    with open(os.path.join(outdir, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
    print(json.dumps({"saved": sorted(saved), "skipped": skipped}))
    return 0


# --- load --------------------------------------------------------------------------------


def load(directory: str, mode: str, only: list[str] | None) -> int:
    sys.path.insert(0, HERE)
    import grid
    import trial_layers  # noqa: F401 - registers Trial>Gain here too

    if mode == "translate":
        import keras_deser

        keras_deser.install(translate=True)
    loader = grid._Loader()
    loader.custom_objects = dict(loader.custom_objects)
    if mode == "off":
        assert "keras_deser" not in sys.modules
    target = grid.detect_target()
    for source in grid.sources(directory):
        models = grid.manifest(source, directory)["models"]
        for model in sorted(models):
            if only and model not in only:
                continue
            for fmt in FORMATS:
                if fmt == "h5" and "no_h5" in models[model]:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if fmt in grid.FORMATS:
                        error = _check(grid, loader, source, model, fmt, directory)
                    else:
                        error = _check_parts(loader, source, model, fmt, directory, models[model]["params"])
                print(json.dumps({"target": target, "source": source, "model": model, "format": fmt, "mode": mode,
                                  "ok": error is None, "error": error}), flush=True)
    return 0


#: Cell formats: the grid's two, the model's inner config given to its class's
#: ``from_config``, and each layer and nested object of the model given alone
#: to its kind's public ``deserialize``/``get`` (one cell per model).
FORMATS = ("json", "h5", "from_config", "lone")
#: Config keys of a layer whose dict values are objects of a kind, by suffix.
KIND_SUFFIXES = (("_initializer", "initializers"), ("_regularizer", "regularizers"), ("_constraint", "constraints"))


def _lone_objects(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(kind, object)`` for every layer of a model config and every object its layers hold."""
    found: list[tuple[str, Any]] = []
    for entry in config.get("config", {}).get("layers", []):
        if entry.get("class_name") == "InputLayer" or str(entry.get("module", "")).startswith("keras.src.ops."):
            continue  # no layer alone (a Keras 3 operation is refused by its own layers.deserialize)
        lone = {key: value for key, value in entry.items() if key not in ("name", "inbound_nodes")}
        found.append(("layers", lone))
        inner = entry.get("config") or {}
        for key, value in inner.items():
            for suffix, kind in KIND_SUFFIXES:
                if key.endswith(suffix) and isinstance(value, dict):
                    found.append((kind, value))
    return found


def _check_parts(loader: Any, source: str, model: str, fmt: str, directory: str, params: int) -> str | None:
    import copy

    keras = loader.keras
    with open(os.path.join(directory, source, model + ".json")) as handle:
        config = json.load(handle)
    custom_objects = dict(loader.custom_objects)
    keras.backend.clear_session(**loader._clear_kwargs)
    if fmt == "from_config":
        cls = keras.Sequential if config.get("class_name") == "Sequential" else keras.Model
        try:
            built = cls.from_config(copy.deepcopy(config["config"]), custom_objects=custom_objects)
            got = int(built.count_params())
        except Exception as error:
            return f"{cls.__name__}.from_config: " + _short(error)
        return None if got == params else f"params: {got}, source has {params}"
    for index, (kind, obj) in enumerate(_lone_objects(config)):
        function = getattr(keras, kind).deserialize
        try:
            made = function(copy.deepcopy(obj), custom_objects=custom_objects)
        except Exception as error:
            return f"{kind}.deserialize of {obj.get('class_name')} (#{index}): " + _short(error)
        if made is None or isinstance(made, (str, dict)):
            return f"{kind}.deserialize of {obj.get('class_name')} (#{index}) returned {made!r}"[:300]
    return None


def _short(error: BaseException) -> str:
    text = "{}: {}".format(type(error).__name__, " ".join(str(error).split()))
    return text if len(text) <= 300 else text[:297] + "..."


def _check(grid: Any, loader: Any, source: str, model: str, fmt: str, directory: str) -> str | None:
    """The grid's cell check; a model with several outputs compares its first."""
    predict = loader.predict

    def first_output(built: Any, inputs: list[Any]) -> Any:
        import numpy as np

        x = inputs if len(inputs) > 1 else inputs[0]
        got = built.predict(x, verbose=0) if loader.graph_mode else built(x, training=False)
        return np.asarray(got[0] if isinstance(got, (list, tuple)) else got)

    loader.predict = first_output
    try:
        return grid.check_cell(loader, source, model, fmt, directory)
    finally:
        loader.predict = predict


# --- run (host side) ----------------------------------------------------------------------


def _exec(env: str, args: list[str], extra_env: dict[str, str] | None = None, timeout: float = 3600) -> str:
    command = [sys.executable, os.path.join(ROOT, "compat", "run.py"), "--exec", env, "--",
               "python", os.path.abspath(__file__)] + args
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(extra_env or {}))
    environment.pop("KERAS_DESER_INSTALL", None)
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{env}: {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


def run(directory: str, sources: list[str], targets: list[str], mode: str, keras_deser_path: str | None,
        resave: bool, only: list[str] | None, out: str | None) -> int:
    for env in sources:
        if resave or not os.path.exists(os.path.join(directory, env, "manifest.json")):
            print(f"saving in {env} ...", file=sys.stderr, flush=True)
            _exec(env, ["save", os.path.join(directory, env)] + (["--only"] + only if only and resave else []))
    extra = {"PYTHONPATH": keras_deser_path} if keras_deser_path else {}
    cells = []
    for env in targets:
        print(f"loading in {env} ...", file=sys.stderr, flush=True)
        args = ["load", directory, "--mode", mode] + (["--only"] + only if only else [])
        output = _exec(env, args, extra)
        cells.extend(json.loads(line) for line in output.splitlines() if line.startswith('{"target"'))
    if out:
        with open(out, "w") as handle:
            for cell in cells:
                handle.write(json.dumps(cell) + "\n")
    report(cells)
    return 0


def report(cells: list[dict[str, Any]]) -> None:
    sources = sorted({cell["source"] for cell in cells}, key=ENVS.index)
    targets = sorted({cell["target"] for cell in cells}, key=ENVS.index)
    print("source \\ target | " + " | ".join(targets))
    for source in sources:
        row = []
        for target in targets:
            mine = [cell for cell in cells if cell["source"] == source and cell["target"] == target]
            row.append(f"{sum(cell['ok'] for cell in mine)}/{len(mine)}")
        print(f"{source} | " + " | ".join(row))
    total = sum(cell["ok"] for cell in cells)
    print(f"total: {total}/{len(cells)}")
    for cell in cells:
        if not cell["ok"]:
            print(f"FAIL {cell['source']} -> {cell['target']} {cell['model']}.{cell['format']}: {cell['error']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("save")
    one.add_argument("outdir")
    one.add_argument("--only", nargs="*", help="models to (re)save, the others kept")
    two = commands.add_parser("load")
    two.add_argument("directory")
    two.add_argument("--mode", choices=("off", "translate"), default="translate")
    two.add_argument("--only", nargs="*")
    three = commands.add_parser("run")
    three.add_argument("--dir", required=True)
    three.add_argument("--sources", nargs="*", default=list(ENVS))
    three.add_argument("--targets", nargs="*", default=list(ENVS))
    three.add_argument("--mode", choices=("off", "translate"), default="translate")
    three.add_argument("--keras-deser", help="import keras_deser from this directory in the targets")
    three.add_argument("--resave", action="store_true")
    three.add_argument("--only", nargs="*")
    three.add_argument("--out", help="write the cells here, one JSON line each")
    four = commands.add_parser("report")
    four.add_argument("cells")
    args = parser.parse_args(argv)
    if args.command == "save":
        return save(args.outdir, args.only)
    if args.command == "load":
        return load(args.directory, args.mode, args.only)
    if args.command == "report":
        with open(args.cells) as handle:
            report([json.loads(line) for line in handle])
        return 0
    return run(args.dir, args.sources, args.targets, args.mode, args.keras_deser, args.resave, args.only, args.out)


if __name__ == "__main__":
    sys.exit(main())
