"""Record Keras 2.9.0's outcomes for every case of ``tests/battery.py``.

    /root/venvs/tf29/bin/python tools/record_golden.py            # writes the file
    /root/venvs/tf29/bin/python tools/record_golden.py --check    # compare only

Runs the battery with ``api`` = Keras 2.9's own ``keras.utils.generic_utils``
(keras_deser is not imported) and writes ``tests/golden/keras-2.9.0.json``:
``{"metadata": {...}, "cases": {name: outcome}}``.  Needs an environment with
TensorFlow 2.9 and keras 2.9.0 (the ``tf2.9`` entry of ``compat/matrix.toml``).
"""

import argparse
import json
import os
import platform
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden", "keras-2.9.0.json")
KERAS_VERSION = "2.9.0"


def record():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import tensorflow as tf
    import keras
    from keras.utils import generic_utils

    import battery

    if keras.__version__ != KERAS_VERSION:
        sys.exit(f"record_golden.py: needs keras {KERAS_VERSION}, found {keras.__version__}")
    if "keras_deser" in sys.modules:
        sys.exit("record_golden.py: keras_deser must not be loaded while recording")
    api = battery.make_api(generic_utils, generic_utils._GLOBAL_CUSTOM_NAMES, "keras " + keras.__version__)
    cases = battery.run_all(api)
    metadata = {
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "python_version": platform.python_version(),
        "api": generic_utils.__name__,
        "cases": len(cases),
        "recorded_by": "tools/record_golden.py",
    }
    return {"metadata": metadata, "cases": cases}


def dump(data):
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    parser.add_argument("--output", default=GOLDEN)
    args = parser.parse_args(argv)
    data = record()
    text = dump(data)
    if args.check:
        with open(args.output) as handle:
            old = json.load(handle)
        stale = sorted(set(old["cases"]) ^ set(data["cases"]))
        stale += [name for name in data["cases"] if name in old["cases"] and old["cases"][name] != data["cases"][name]]
        if stale:
            print("golden file differs for: " + ", ".join(stale))
            return 1
        print(f"golden file up to date ({len(data['cases'])} cases)")
        return 0
    with open(args.output, "w") as handle:
        handle.write(text)
    print(f"wrote {args.output}: {len(data['cases'])} cases (keras {data['metadata']['keras_version']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
