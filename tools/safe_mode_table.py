"""Print one environment's rows of docs/safe-mode.md's payload x release table.

Run inside an environment of the matrix (from the repository root)::

    python3 compat/run.py --exec tf2.9 -- python tools/safe_mode_table.py

For every payload of ``tests/malicious/releases.py`` that applies to the
release: loaded WITHOUT keras_deser through the release's own HDF5
``load_model`` and ``model_from_json`` (does the attack take hold?), then
with keras_deser installed in safe mode (is it refused?).  Payloads that
crash the process (``/dev/zero``) are not loaded without safe mode.
Output: one tab-separated line per payload: id, release, plain h5, plain
json, safe h5, safe json.  Payload ids given as arguments limit the run to
those payloads.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "tensorflow")
__import__(UPSTREAM)

from malicious import releases  # noqa: E402

import keras_deser  # noqa: E402


def _try(load: Callable[[], Any], effect: Callable[[Any], bool]) -> str:
    try:
        model = load()
    except Exception as error:  # noqa: BLE001
        if releases.refused(error):
            return "refused"
        return "runs" if effect(None) else f"error ({type(error).__name__})"
    return "runs" if effect(model) else "builds, no effect"


def main() -> int:
    keras = releases.keras_api(UPSTREAM)
    release = keras_deser.upstream_info().get("keras_version") or keras.__version__
    wanted = set(sys.argv[1:])
    for index in range(len(releases.payloads(keras, tempfile.mkdtemp()))):
        work = tempfile.mkdtemp()
        payload = releases.payloads(keras, work)[index]
        if wanted and payload.id not in wanted:
            continue
        config = payload.config()
        path = releases.h5_with_config(keras, os.path.join(work, "p.h5"), config)
        text = json.dumps(config)
        row = [payload.id, str(release)]
        for safe in (False, True):
            if safe:
                keras_deser.install(safe_mode=True)
            loads = (lambda path=path: keras.models.load_model(path, compile=False),
                     lambda text=text: keras.models.model_from_json(text))
            for load in loads:
                if payload.crashes and not safe:
                    row.append("crashes (not run)")
                    continue
                canary = os.path.join(work, "canary")
                if os.path.isdir(canary):  # a debug dump directory
                    shutil.rmtree(canary)
                elif os.path.exists(canary):
                    os.remove(canary)
                row.append(_try(load, payload.effect))
            if safe:
                keras_deser.uninstall()
                keras_deser.set_safe_mode(False)
        print("\t".join(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
