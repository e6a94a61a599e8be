"""Safe mode's cost: safe-mode load time / plain load time, in one process.

Run inside an environment with TensorFlow (from the repository root)::

    python3 compat/run.py --exec tf2.9 -- python benchmarks/bench_safe.py [--rounds 5]

Two configs, each loaded through the release's own ``model_from_json`` with
keras_deser installed, alternately with safe mode off and on (the two
take turns within each round, so a busy machine slows both alike); the
median of each is reported with their ratio:

* ``hostile``: the shape of issue 9's case, about 2.3 MB of JSON: 200
  levels of ``Sequential`` nested in one another, each holding a
  ``Dense(1500)`` whose ``bias_initializer`` is a ``Constant`` of 1,500
  ints (300,000 junk ints in all);
* ``application``: the largest ``keras.applications`` model of the release
  by JSON size (built with ``weights=None``);
* ``InceptionResNetV2``: on Keras 2 up to 2.9, 40 ``Lambda`` layers holding
  the release's own code, which safe mode compares byte for byte with the
  installed code (:mod:`keras_deser.shipped_code`); a ``CustomScaleLayer``
  from Keras 2.12 on.

Also printed: the time of :func:`keras_deser.audit` alone on each config.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any, Callable

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "tensorflow")


def _keras() -> Any:
    if UPSTREAM == "keras":
        import keras

        return keras
    import tensorflow as tf

    return tf.keras


def hostile_config(levels: int = 200, ints: int = 300_000) -> dict[str, Any]:
    """``levels`` nested Sequentials, ``ints`` junk ints spread over their Dense layers' bias initializers."""
    width = ints // levels
    inner: dict[str, Any] = {}
    for level in range(levels):
        dense = {"class_name": "Dense", "config": {
            "name": f"dense_{level}", "trainable": True, "dtype": "float32", "units": width, "activation": "linear",
            "use_bias": True, "kernel_initializer": {"class_name": "Zeros", "config": {}},
            "bias_initializer": {"class_name": "Constant", "config": {
                "value": [(level * 7919 + i * 104729) % 10**7 for i in range(width)]}},
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}}
        inner = {"class_name": "Sequential", "config": {"name": f"level_{level + 1}",
                                                         "layers": [inner, dense] if inner else [dense]}}
    return inner


def application_config(keras: Any) -> tuple[str, str]:
    best = ("", "")
    for name in ("NASNetLarge", "EfficientNetB7", "EfficientNetV2L", "ResNet152V2", "DenseNet201"):
        build = getattr(keras.applications, name, None)
        if build is None:
            continue
        text = build(weights=None).to_json()
        keras.backend.clear_session()
        if len(text) > len(best[1]):
            best = (name, text)
        if len(best[1]) > 1_000_000:
            break
    return best


def inception_config(keras: Any) -> str:
    text = keras.applications.InceptionResNetV2(weights=None).to_json()
    keras.backend.clear_session()
    return text


def _labelled(label: str, named: tuple[str, str]) -> tuple[str, str]:
    return f"{label} ({named[0]})", named[1]


def _time(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def measure(text: str, rounds: int) -> dict[str, float]:
    import keras_deser

    keras = _keras()
    plain: list[float] = []
    safe: list[float] = []
    for _ in range(rounds):
        for on, into in ((False, plain), (True, safe)):
            keras_deser.set_safe_mode(on)
            into.append(_time(lambda: keras.models.model_from_json(text)))
            keras_deser.set_safe_mode(False)
            keras.backend.clear_session()
    config = json.loads(text)
    audit = statistics.median(_time(lambda: keras_deser.audit(config)) for _ in range(rounds))
    return {"plain": statistics.median(plain), "safe": statistics.median(safe), "audit": audit}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="run only the cases whose label starts with this")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    keras = _keras()
    import keras_deser

    keras_deser.install()
    try:
        cases: list[tuple[str, Callable[[], tuple[str, str]]]] = [
            ("hostile", lambda: ("hostile", json.dumps(hostile_config()))),
            ("application", lambda: _labelled("application", application_config(keras))),
            ("InceptionResNetV2", lambda: ("InceptionResNetV2", inception_config(keras))),
        ]
        for key, build in cases:
            if args.only and not key.startswith(args.only):
                continue
            label, text = build()
            figures = measure(text, args.rounds)
            print(f"{label}: {len(text) / 1e6:.2f} MB, plain {figures['plain']:.3f} s, safe {figures['safe']:.3f} s, "
                  f"ratio {figures['safe'] / figures['plain']:.2f}, audit alone {figures['audit']:.3f} s", flush=True)
    finally:
        keras_deser.uninstall()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
