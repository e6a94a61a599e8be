"""Per-object cost of ``deserialize_keras_object``, measured in one process.

    python benchmarks/bench_deserialize.py [--objects 20000] [--repeat 5] [--json]

Builds ``--objects`` small objects from ``{'class_name', 'config'}`` dicts
three ways, at registry sizes 0, 1,000 and 10,000 (dummy entries added to
the live registry on top of what the installed Keras registers itself):

* ``bare``: ``cls.from_config(config)`` in a plain loop (the floor);
* ``keras_deser``: :func:`keras_deser.deserialize_keras_object`;
* ``upstream``: the installed Keras's own 4-argument function, when
  TensorFlow/Keras is importable (Keras 2.9 in the ``tf2.9`` environment).

Each figure is the best of ``--repeat`` rounds, in microseconds per object,
the three loops taking turns within each round; the ratios printed are the
ones the project's targets are stated in.
Configs are copied before each run because deserialization changes them.
"""

import argparse
import copy
import importlib.util
import json
import os
import sys
import time

SIZES = (0, 1000, 10000)


class Small:
    """A minimal serializable object (positional ``from_config``)."""

    def __init__(self, units=1, rate=0.0, name=None):
        self.units, self.rate, self.name = units, rate, name

    def get_config(self):
        return {"units": self.units, "rate": self.rate, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _configs(count):
    return [{"class_name": "Small", "config": {"units": i % 7, "rate": 0.5, "name": f"small_{i}"}} for i in range(count)]


def _interleaved(runs, configs, repeat):
    """Best time per object of each run, in µs, the runs taking turns.

    Taking turns within each round exposes every run to the same machine
    load, so the ratios hold even on a busy machine.
    """
    best = {name: float("inf") for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            batch = copy.deepcopy(configs)
            start = time.perf_counter()
            run(batch)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds / len(configs) * 1e6 for name, seconds in best.items()}


def _upstream():
    """The installed Keras's 4-argument function, or None."""
    if importlib.util.find_spec("tensorflow") is None and importlib.util.find_spec("keras") is None:
        return None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if importlib.util.find_spec("tensorflow") is not None:
        import tensorflow  # noqa: F401  (binds the live Keras)
    else:
        import keras  # noqa: F401
    import keras_deser

    module = keras_deser.upstream_info()["legacy_module"]
    return sys.modules[module].deserialize_keras_object if module in sys.modules else None


def measure(objects, repeat):
    upstream = _upstream()
    import keras_deser

    info = keras_deser.upstream_info()
    module_objects = {"Small": Small}
    configs = _configs(objects)
    registry = keras_deser.get_custom_objects()

    def bare(batch):
        for config in batch:
            Small.from_config(config["config"])

    def ours(batch):
        deserialize = keras_deser.deserialize_keras_object
        for config in batch:
            deserialize(config, module_objects=module_objects)

    def theirs(batch):
        for config in batch:
            upstream(config, module_objects=module_objects)

    rows = []
    for size in SIZES:
        dummies = [f"BenchDummy>{i}" for i in range(size)]
        for key in dummies:
            registry[key] = Small
        try:
            row = {"registry_size": size, "registry_total": len(registry)}
            runs = {"bare_us": bare, "keras_deser_us": ours}
            if upstream is not None:
                runs["upstream_us"] = theirs
            row.update(_interleaved(runs, configs, repeat))
        finally:
            for key in dummies:
                registry.pop(key, None)
        rows.append(row)
    return info, rows


def report(info, rows):
    print(f"flavour {info['flavour']}, tensorflow {info['tensorflow_version']}, keras {info['keras_version']}, "
          f"python {sys.version.split()[0]}")
    print(f"{'registry':>9} {'bare µs':>9} {'keras_deser µs':>15} {'upstream µs':>12} {'upstream/ours':>14} {'ours/bare':>10}")
    for row in rows:
        upstream = row.get("upstream_us")
        theirs = "%.2f" % upstream if upstream else "-"
        speedup = "%.1fx" % (upstream / row["keras_deser_us"]) if upstream else "-"
        print(
            f"{row['registry_size']:>9} {row['bare_us']:>9.2f} {row['keras_deser_us']:>15.2f} "
            f"{theirs:>12} {speedup:>14} {row['keras_deser_us'] / row['bare_us']:>9.2f}x"
        )
    flat = rows[-1]["keras_deser_us"] / rows[0]["keras_deser_us"]
    print(f"keras_deser at {rows[-1]['registry_size']} vs {rows[0]['registry_size']} registered objects: {flat:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    info, rows = measure(args.objects, args.repeat)
    if args.json:
        print(json.dumps({"upstream": info, "rows": rows}, indent=2))
    else:
        report(info, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
