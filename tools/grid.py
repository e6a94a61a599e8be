"""The cross-release grid of issue 10: load every source's corpus here.

    python3 compat/run.py --exec tf2.9 -- python tools/grid.py            # 3 modes, one subprocess each
    python3 compat/run.py --exec tf2.9 -- python tools/grid.py --mode off --sources tf1.15 --models mlp

Loads ``tests/corpus/<source>/<model>.json`` with this environment's own
``model_from_json(text, custom_objects=...)`` and ``<model>.h5`` with its own
``load_model(path, compile=False, custom_objects=...)`` (``tf.keras.models``
where TensorFlow is installed, ``keras.models`` otherwise), in three modes:

- ``off``: keras_deser is not imported at all;
- ``installed``: ``keras_deser.install()`` (translation off);
- ``translate``: ``keras_deser.install(translate=True)``; when ``install``
  has no ``translate`` parameter, every cell of the mode has ``ok: null`` and
  ``error: "unavailable: ..."``; nothing is loaded.

A cell holds (``ok: true``) when the model builds, ``count_params()`` equals
the source's, and (HDF5 only) its predictions on the source's fixed input
equal the source's within ``atol=1e-4``.  Each load starts from
``keras.backend.clear_session()`` and a fresh ``custom_objects`` dict; each
mode runs in its own interpreter (:func:`run_grid`), since an install cannot
be fully undone inside one.

Output: one JSON line per cell, ``{"target", "source", "model", "format"
("json" | "h5"), "mode", "ok" (true | false | null), "error" (null or a short
"Type: message"), "seconds" (the cell's wall time)}``, then one summary line
``{"summary": {...}, "seconds": total}``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import time
import warnings
from typing import Any, Dict, Iterable, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tests", "corpus")
MODES = ("off", "installed", "translate")
FORMATS = ("json", "h5")
ATOL = 1e-4
ERROR_CHARS = 300

Cell = Dict[str, Any]


def sources(corpus: str = CORPUS) -> list[str]:
    """The source labels of the corpus (directories holding a manifest.json), sorted."""
    return sorted(
        name for name in os.listdir(corpus) if os.path.isfile(os.path.join(corpus, name, "manifest.json"))
    )


def manifest(source: str, corpus: str = CORPUS) -> dict[str, Any]:
    with open(os.path.join(corpus, source, "manifest.json")) as handle:
        found: dict[str, Any] = json.load(handle)
    return found


def cell_key(cell: Cell) -> str:
    """``source/model.format``: how expected.json names a cell."""
    return "{}/{}.{}".format(cell["source"], cell["model"], cell["format"])


def detect_target() -> str:
    """This environment's matrix name: ``KERAS_DESER_ENV`` if set, else guessed from the versions installed."""
    if os.environ.get("KERAS_DESER_ENV"):
        return os.environ["KERAS_DESER_ENV"]
    try:
        import tensorflow as tf
    except ImportError:
        return "keras3-jax" if os.environ.get("KERAS_BACKEND") == "jax" else "keras3"
    release = "tf" + ".".join(tf.__version__.split(".")[:2])
    if release in ("tf2.16", "tf2.17", "tf2.18", "tf2.19", "tf2.20", "tf2.21"):
        return release + ("-tf_keras" if os.environ.get("TF_USE_LEGACY_KERAS") == "1" else "-keras3")
    return release


def _short(error: BaseException) -> str:
    text = "{}: {}".format(type(error).__name__, " ".join(str(error).split()))
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 3] + "..."


def _prepare(mode: str) -> str | None:
    """Set up ``mode`` in this process; return why it is unavailable, or None."""
    if mode == "off":
        if "keras_deser" in sys.modules:
            raise RuntimeError("mode 'off' needs a process where keras_deser was never imported")
        return None
    import keras_deser

    if mode == "installed":
        keras_deser.install()
        return None
    if mode == "translate":
        if "translate" not in inspect.signature(keras_deser.install).parameters:
            return "unavailable: keras_deser.install() has no translate parameter"
        keras_deser.install(translate=True)  # type: ignore[call-arg]
        return None
    raise ValueError("unknown mode {!r} (one of {})".format(mode, ", ".join(MODES)))


class _Loader:
    """This environment's Keras, its loaders and a predict that works in graph and eager mode."""

    def __init__(self) -> None:
        sys.path.insert(0, CORPUS)
        import corpus_layers

        self.keras = corpus_layers.keras
        self.custom_objects = corpus_layers.CUSTOM_OBJECTS
        # Keras 3's clear_session() also runs gc.collect() (0.2 s a load with TF imported); names and graphs
        # are reset without it.
        clear = self.keras.backend.clear_session
        self._clear_kwargs = {"free_memory": False} if "free_memory" in inspect.signature(clear).parameters else {}
        try:
            import tensorflow as tf
        except ImportError:
            self.graph_mode = False
        else:
            self.graph_mode = not tf.executing_eagerly()  # TF 1.15

    def load(self, path: str, fmt: str) -> Any:
        self.keras.backend.clear_session(**self._clear_kwargs)
        custom_objects = dict(self.custom_objects)
        if fmt == "json":
            with open(path) as handle:
                text = handle.read()
            return self.keras.models.model_from_json(text, custom_objects=custom_objects)
        return self.keras.models.load_model(path, compile=False, custom_objects=custom_objects)

    def predict(self, model: Any, inputs: list[Any]) -> Any:
        import numpy as np

        x = inputs if len(inputs) > 1 else inputs[0]
        if self.graph_mode:
            return np.asarray(model.predict(x))
        return np.asarray(model(x, training=False))


def check_cell(loader: _Loader, source: str, model: str, fmt: str, corpus: str = CORPUS) -> str | None:
    """None when the cell holds, else a short reason."""
    import numpy as np

    base = os.path.join(corpus, source, model)
    expected = manifest(source, corpus)["models"][model]
    try:
        built = loader.load(base + "." + fmt, fmt)
    except Exception as error:
        return _short(error)
    try:
        params = int(built.count_params())
    except Exception as error:
        return "count_params: " + _short(error)
    if params != expected["params"]:
        return f"params: {params}, source has {expected['params']}"
    if fmt != "h5":
        return None
    with np.load(base + ".npz") as data:
        inputs = [data[f"x{i}"] for i in range(expected["inputs"])]
        wanted = data["y"]
    try:
        got = loader.predict(built, inputs)
    except Exception as error:
        return "predict: " + _short(error)
    if got.shape != wanted.shape:
        return f"predictions: shape {got.shape}, source has {wanted.shape}"
    if not np.allclose(got, wanted, atol=ATOL, rtol=0):
        return f"predictions: differ by up to {float(np.max(np.abs(got - wanted))):.3g} (atol {ATOL:g})"
    return None


def run_mode(
    mode: str,
    target: str | None = None,
    source_names: Iterable[str] | None = None,
    models: Iterable[str] | None = None,
    corpus: str = CORPUS,
) -> list[Cell]:
    """Every cell of ``mode`` in THIS process (which must not have imported keras_deser for 'off').

    ``mode`` may chain modes with ``+`` (``"off+installed"``): run in that
    order in this one process, each set up after the previous one's cells.
    """
    target = target or detect_target()
    loader = _Loader()
    cells = []
    for one in mode.split("+"):
        cells.extend(_cells(loader, one, target, source_names, models, corpus))
    return cells


def _cells(
    loader: _Loader, mode: str, target: str, source_names: Iterable[str] | None, models: Iterable[str] | None,
    corpus: str,
) -> list[Cell]:
    unavailable = _prepare(mode)
    cells = []
    for source in list(source_names or sources(corpus)):
        for model in list(models or sorted(manifest(source, corpus)["models"])):
            for fmt in FORMATS:
                ok: bool | None = None
                error: str | None = unavailable
                started = time.perf_counter()
                if not unavailable:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        error = check_cell(loader, source, model, fmt, corpus)
                    ok = error is None
                cells.append(
                    {"target": target, "source": source, "model": model, "format": fmt, "mode": mode, "ok": ok,
                     "error": error, "seconds": round(time.perf_counter() - started, 3)}
                )
    return cells


def run_grid(
    modes: Sequence[str] = MODES,
    python: str = sys.executable,
    target: str | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 900,
    parallel: bool = False,
) -> list[Cell]:
    """Every mode in its own ``python tools/grid.py --mode M`` subprocess; their cells, in mode order.

    An entry of ``modes`` may chain modes with ``+`` (one subprocess for them).

    The subprocesses get this environment minus ``KERAS_DESER_INSTALL`` (so
    ``off`` really is off); ``parallel=True`` starts them all at once.  A
    worker that fails or prints no cell raises ``RuntimeError``.
    """
    env = dict(os.environ)
    env.pop("KERAS_DESER_INSTALL", None)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    target = target or os.environ.get("KERAS_DESER_ENV") or None
    cells: list[Cell] = []
    batches = [list(modes)] if parallel else [[mode] for mode in modes]
    for batch in batches:
        workers = []
        for mode in batch:
            command = [python, os.path.abspath(__file__), "--mode", mode, "--no-summary"] + list(extra_args)
            if target:
                command += ["--target", target]
            workers.append((mode, subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                   universal_newlines=True)))
        for mode, worker in workers:
            try:
                out, err = worker.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                worker.kill()
                out, err = worker.communicate()
            found = [json.loads(line) for line in out.splitlines() if line.startswith('{"target"')]
            if worker.returncode != 0 or not found:
                raise RuntimeError(f"grid worker for mode {mode!r} exited {worker.returncode}:\n{err[-3000:]}")
            cells.extend(found)
    return cells


def summarize(cells: Iterable[Cell]) -> dict[str, Any]:
    """``{mode: {"holds": n, "of": N, "unavailable": bool, "by_source": {source: [holds, of]}}}``."""
    summary: dict[str, Any] = {}
    for cell in cells:
        entry = summary.setdefault(cell["mode"], {"holds": 0, "of": 0, "unavailable": False, "by_source": {}})
        per_source = entry["by_source"].setdefault(cell["source"], [0, 0])
        entry["of"] += 1
        per_source[1] += 1
        if cell["ok"] is None:
            entry["unavailable"] = True
        elif cell["ok"]:
            entry["holds"] += 1
            per_source[0] += 1
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", default="all",
                        help="one of {}, or several joined by '+': in this process, in that order; 'all' (default) "
                             "or a comma-separated list of those: each in its own subprocess".format(", ".join(MODES)))
    parser.add_argument("--target", help="this environment's label (default: KERAS_DESER_ENV or guessed)")
    parser.add_argument("--sources", nargs="*", help="source labels (default: all of tests/corpus)")
    parser.add_argument("--models", nargs="*", help="model names (default: all)")
    parser.add_argument("--no-summary", action="store_true", help="cells only")
    args = parser.parse_args(argv)
    started = time.time()
    modes = MODES if args.mode == "all" else tuple(args.mode.split(","))
    unknown = [one for mode in modes for one in mode.split("+") if one not in MODES]
    if unknown:
        parser.error("unknown mode(s) {}; use {} or all".format(", ".join(unknown), ", ".join(MODES)))
    if len(modes) > 1:
        extra: list[str] = []
        if args.sources:
            extra += ["--sources"] + args.sources
        if args.models:
            extra += ["--models"] + args.models
        cells = run_grid(modes, target=args.target, extra_args=extra)
    else:
        cells = run_mode(args.mode, args.target, args.sources, args.models)
    for cell in cells:
        print(json.dumps(cell, sort_keys=False), flush=True)
    if not args.no_summary:
        print(json.dumps({"summary": summarize(cells), "seconds": round(time.time() - started, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
