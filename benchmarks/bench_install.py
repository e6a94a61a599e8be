"""Cost of ``install()`` + ``uninstall()`` with TensorFlow/Keras and a model loaded.

    python benchmarks/bench_install.py [--repeat 20] [--layers 50] [--json]

In one process: imports the environment's Keras (``tensorflow`` where it is
installed, else ``keras``), builds a model of ``--layers`` Dense layers (so
the process holds the objects a real program does), then times, best of
``--repeat`` rounds taking turns:

* ``install_uninstall``: ``keras_deser.install()`` then ``uninstall()``;
* ``model_from_json``: upstream's ``model_from_json`` of a small model (two
  Dense layers), the unit the target is stated in.

Prints both in milliseconds and their ratio.  The project's target is
``install_uninstall`` <= 50 ms on every release of the compat matrix.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from typing import Any, Callable


def _keras() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if importlib.util.find_spec("tensorflow") is not None:
        import tensorflow as tf

        return tf.keras
    import keras

    return keras


def _best(runs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    best = {name: float("inf") for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds * 1e3 for name, seconds in best.items()}


def measure(repeat: int, layers: int) -> dict[str, Any]:
    K = _keras()
    import keras_deser

    big = K.Sequential([K.layers.Dense(8, input_shape=(8,))] + [K.layers.Dense(8) for _ in range(layers - 1)])
    small = K.Sequential([K.layers.Dense(4, input_shape=(3,)), K.layers.Dense(2)]).to_json()

    def cycle() -> None:
        keras_deser.install()
        keras_deser.uninstall()

    def load() -> None:
        K.models.model_from_json(small)

    cycle()  # first install: imports and lazy modules out of the figures
    first = time.perf_counter()
    sites = len(keras_deser.install())
    keras_deser.uninstall()
    first = (time.perf_counter() - first) * 1e3
    figures = _best({"install_uninstall": cycle, "model_from_json": load}, repeat)
    info = keras_deser.upstream_info()
    return {
        "env": os.environ.get("KERAS_DESER_ENV", ""),
        "flavour": info["flavour"],
        "tensorflow": info["tensorflow_version"],
        "keras": info["keras_version"],
        "python": sys.version.split()[0],
        "model_layers": len(big.layers),
        "sites": sites,
        "install_uninstall_ms": figures["install_uninstall"],
        "one_cycle_ms": first,
        "model_from_json_ms": figures["model_from_json"],
        "ratio": figures["install_uninstall"] / figures["model_from_json"],
    }


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    row = measure(args.repeat, args.layers)
    if args.json:
        print(json.dumps(row))
    else:
        print(
            f"flavour {row['flavour']}, tensorflow {row['tensorflow']}, keras {row['keras']}, python {row['python']}; "
            f"{row['model_layers']}-layer model loaded, {row['sites']} sites"
        )
        print(
            f"install+uninstall {row['install_uninstall_ms']:.2f} ms "
            f"(one cycle, not best-of: {row['one_cycle_ms']:.2f} ms), "
            f"model_from_json {row['model_from_json_ms']:.2f} ms, ratio {row['ratio']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
