"""The cross-release grid of issue 10, checked against tests/corpus/expected.json.

In this environment, every source's corpus (tests/corpus/<source>/) is loaded
with the release's own ``model_from_json`` and ``load_model(..., compile=False)``
in three modes (tools/grid.py): keras_deser not imported (``off``), then
``keras_deser.install()`` in the same interpreter (``installed``), and
``keras_deser.install(translate=True)`` in a second one (``translate``).
Checked:

(i)   every cell that holds ``off`` also holds ``installed`` and ``translate``;
(ii)  the ``off`` cells are exactly those recorded (upstream's own result);
(iii) every cell holds with ``translate`` except the recorded known gaps, and
      a recorded gap that holds fails (the list cannot go stale).

Skipped only where neither TensorFlow nor Keras is installed (core envs).
"""

import importlib.util
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import grid  # noqa: E402

HAS_KERAS = any(importlib.util.find_spec(name) is not None for name in ("tensorflow", "keras"))
pytestmark = [
    pytest.mark.upstream,
    pytest.mark.skipif(not HAS_KERAS, reason="no TensorFlow or Keras in this environment"),
]

EXPECTED_PATH = os.path.join(grid.CORPUS, "expected.json")


@pytest.fixture(scope="module")
def target():
    return grid.detect_target()


@pytest.fixture(scope="module")
def expected(target):
    with open(EXPECTED_PATH) as handle:
        recorded = json.load(handle)["targets"]
    if target not in recorded:
        pytest.fail(
            f"tests/corpus/expected.json records nothing for {target!r}; "
            f"run tools/grid_report.py --envs {target} --update"
        )
    return recorded[target]


@pytest.fixture(scope="module")
def cells(target):
    by_mode = {}
    # 'installed' runs after 'off' in the same interpreter (off is measured before keras_deser is imported);
    # 'translate' in a second one, at the same time.
    for cell in grid.run_grid(["off+installed", "translate"], target=target, parallel=True):
        by_mode.setdefault(cell["mode"], {})[grid.cell_key(cell)] = cell
    return by_mode


def _lines(cells, keys):
    return "\n".join("  {}: {}".format(key, cells[key]["error"]) for key in sorted(keys))


def _available(cells, mode):
    unavailable = [cell for cell in cells[mode].values() if cell["ok"] is None]
    if unavailable:
        pytest.fail(f"mode {mode!r}: {unavailable[0]['error']}")


def test_off_is_upstream_as_recorded(cells, expected):
    off = cells["off"]
    assert len(off) == expected["cells"], "the corpus changed: re-record tests/corpus/expected.json"
    holds = {key for key, cell in off.items() if cell["ok"]}
    recorded = set(expected["off"])
    assert holds - recorded == set(), "cells now load upstream that were recorded as failing"
    missing = recorded - holds
    assert not missing, "cells recorded as loading upstream no longer do:\n" + _lines(off, missing)


@pytest.mark.parametrize("mode", ["installed", "translate"])
def test_upstream_cells_still_hold(cells, mode):
    _available(cells, mode)
    upstream = {key for key, cell in cells["off"].items() if cell["ok"]}
    broken = {key for key in upstream if not cells[mode][key]["ok"]}
    assert not broken, (
        f"{len(broken)} cells that load without keras_deser fail in mode {mode!r}:\n{_lines(cells[mode], broken)}"
    )


def test_translate_holds_except_known_gaps(cells, expected):
    _available(cells, "translate")
    gaps = expected.get("known_gaps")
    if gaps is None:
        pytest.fail("expected.json has no known_gaps for this env (recorded while translate was unavailable)")
    translate = cells["translate"]
    failing = {key for key, cell in translate.items() if not cell["ok"]}
    new = failing - set(gaps)
    stale = set(gaps) - failing
    assert not new, f"{len(new)} cells fail with translation and are not known gaps:\n{_lines(translate, new)}"
    assert not stale, f"known gaps that now hold (remove them from expected.json): {', '.join(sorted(stale))}"
