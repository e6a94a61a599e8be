"""Translation's cost on a large config, as a ratio to the load itself.

    python benchmarks/bench_translate.py [--model ResNet152] [--repeat 3] [--json]

In one process: builds ``keras.applications.<model>(weights=None)`` (about
500 layers for ResNet152), takes its JSON, and times, best of ``--repeat``:

* ``load``: the release's own ``model_from_json`` (keras_deser installed,
  translation off);
* ``identity``: ``keras_deser.translate`` of that native config for the
  bound release (nothing to change: one walk);
* ``cross``: ``keras_deser.translate`` of the same config for another
  release (Keras 3 for a Keras 2 env, 2.9 for Keras 3): every layer changes;
* ``load+translate``: ``model_from_json`` with ``install(translate=True)``.

Prints the figures in milliseconds and the ratios to ``load`` (goal: at
most 5 %).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _keras() -> Any:
    try:
        import tensorflow as tf

        return tf.keras
    except ImportError:
        import keras

        return keras


def _best(function: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ResNet152")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    keras = _keras()
    import keras_deser
    from keras_deser import format_changes, translation

    model = getattr(keras.applications, args.model)(weights=None)
    text = model.to_json()
    config = json.loads(text)
    layers = len(config["config"]["layers"])
    bound = translation.bound_release()
    other = "2.9" if bound >= (3, 0) else "keras-3"

    keras_deser.install()
    figures: dict[str, float] = {}
    figures["load"] = _best(lambda: keras.models.model_from_json(text), args.repeat)
    figures["identity"] = _best(lambda: keras_deser.translate(config), args.repeat * 3)
    figures["cross"] = _best(lambda: keras_deser.translate(config, target=other), args.repeat * 3)
    keras_deser.install(translate=True)
    figures["load+translate"] = _best(lambda: keras.models.model_from_json(text), args.repeat)
    keras_deser.uninstall()
    report = {
        "model": args.model,
        "layers": layers,
        "config_bytes": len(text),
        "bound": format_changes.release_name(bound),
        "cross_target": other,
        "ms": {key: round(value * 1000, 2) for key, value in figures.items()},
        "ratio_to_load": {
            key: round(figures[key] / figures["load"], 4) for key in ("identity", "cross", "load+translate")
        },
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"{args.model}: {layers} layers, {len(text)} bytes of JSON, bound to {report['bound']}")
    for key, value in report["ms"].items():
        print(f"  {key:16s} {value:10.2f} ms")
    for key, value in report["ratio_to_load"].items():
        print(f"  {key:16s} {value * 100:9.2f} % of load")


if __name__ == "__main__":
    main()
