"""Run the cross-release grid in every environment; record and print it.

    python3 tools/grid_report.py                          # all envs, all modes, print the grids
    python3 tools/grid_report.py --modes off installed    # only those modes
    python3 tools/grid_report.py --envs tf2.9 --update    # and rewrite tests/corpus/expected.json for tf2.9
    python3 tools/grid_report.py --from-cells             # re-print from the last run's cells, run nothing

Runs ``tools/grid.py`` through ``compat/run.py --exec ENV`` (each mode in its
own interpreter) and keeps each env's cells in ``--cells-dir`` (one JSON line
per cell, as ``tools/grid.py`` prints them; a run of some modes replaces only
those modes' cells).  Prints, per mode, a markdown grid: rows = target env,
columns = source release, cell = holding cells of N (N = models x formats).

``--update`` rewrites, for the envs and modes measured, ``tests/corpus/expected.json``:
per target ``off`` (the sorted ``source/model.format`` keys that load
upstream) and ``known_gaps`` (``{key: reason}``: the cells that do not hold
with translation; a reason already recorded is kept, a new one is the cell's
error; ``null`` while the translate mode is unavailable).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import grid  # noqa: E402

TARGETS = ("tf1.15", "tf2.4", "tf2.6", "tf2.9", "tf2.12", "tf2.15", "tf2.21-tf_keras", "tf2.21-keras3", "keras3-jax")
EXPECTED = os.path.join(grid.CORPUS, "expected.json")
CORE_MODELS = ("mlp", "cnn", "rnn", "shared", "sequential")
DEFAULT_CELLS = os.path.join(os.environ.get("TMPDIR", "/tmp"), "keras_deser_grid")


def run_env(env: str, modes: Sequence[str]) -> list[grid.Cell]:
    command = [sys.executable, os.path.join(ROOT, "compat", "run.py"), "--exec", env, "--",
               "python", os.path.join(ROOT, "tools", "grid.py"), "--mode", ",".join(modes), "--target", env,
               "--no-summary"]
    environ = dict(os.environ)
    environ.pop("KERAS_DESER_INSTALL", None)
    done = subprocess.run(command, env=environ, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"grid in {env} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"target"')]


def cells_path(cells_dir: str, env: str) -> str:
    return os.path.join(cells_dir, env + ".jsonl")


def read_cells(cells_dir: str, env: str) -> list[grid.Cell]:
    path = cells_path(cells_dir, env)
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def store_cells(cells_dir: str, env: str, new: list[grid.Cell]) -> None:
    modes = {cell["mode"] for cell in new}
    kept = [cell for cell in read_cells(cells_dir, env) if cell["mode"] not in modes]
    os.makedirs(cells_dir, exist_ok=True)
    with open(cells_path(cells_dir, env), "w") as handle:
        for cell in kept + new:
            handle.write(json.dumps(cell) + "\n")


def markdown(cells: list[grid.Cell], mode: str, targets: Sequence[str], models: Sequence[str] | None = None) -> str:
    """Rows = target env, columns = source; each cell ``holds/N``."""
    chosen = [c for c in cells if c["mode"] == mode and (models is None or c["model"] in models)]
    sources = sorted({c["source"] for c in chosen}, key=lambda s: TARGETS.index(s) if s in TARGETS else 99)
    lines = ["| loading env \\ saved by | " + " | ".join(sources) + " | total |",
             "|---" * (len(sources) + 2) + "|"]
    total_holds = total_of = 0
    for target in targets:
        row = [c for c in chosen if c["target"] == target]
        if not row:
            continue
        if any(c["ok"] is None for c in row):
            lines.append(f"| {target} | " + " | ".join("n/a" for _ in sources) + " | unavailable |")
            continue
        entries = []
        for source in sources:
            here = [c for c in row if c["source"] == source]
            entries.append(f"{sum(1 for c in here if c['ok'])}/{len(here)}")
        holds = sum(1 for c in row if c["ok"])
        total_holds += holds
        total_of += len(row)
        lines.append(f"| {target} | {' | '.join(entries)} | {holds}/{len(row)} |")
    lines.append("")
    lines.append(f"All: {total_holds} of {total_of} cells hold.")
    return "\n".join(lines)


def update_expected(cells: list[grid.Cell], path: str = EXPECTED) -> dict[str, Any]:
    expected: dict[str, Any] = {}
    if os.path.exists(path):
        with open(path) as handle:
            expected = json.load(handle)
    expected["about"] = (
        "Written by tools/grid_report.py --update, read by tests/test_grid.py. Per target env: 'off' = the "
        "source/model.format cells that hold with the release's own loaders and keras_deser not imported; "
        "'known_gaps' = the cells that do not hold with keras_deser.install(translate=True), each with a reason "
        "(null: the translate mode was unavailable when recorded)."
    )
    targets = expected.setdefault("targets", {})
    for target in sorted({c["target"] for c in cells}):
        entry = targets.setdefault(target, {})
        mine = [c for c in cells if c["target"] == target]
        off = [c for c in mine if c["mode"] == "off"]
        if off:
            entry["off"] = sorted(grid.cell_key(c) for c in off if c["ok"])
            entry["cells"] = len(off)
        translate = [c for c in mine if c["mode"] == "translate"]
        if translate:
            if any(c["ok"] is None for c in translate):
                entry["known_gaps"] = None
            else:
                old = entry.get("known_gaps") or {}
                entry["known_gaps"] = {
                    grid.cell_key(c): old.get(grid.cell_key(c), c["error"]) for c in translate if not c["ok"]
                }
    with open(path, "w") as handle:
        json.dump(expected, handle, indent=1, sort_keys=True)
        handle.write("\n")
    return expected


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", nargs="*", default=list(TARGETS))
    parser.add_argument("--modes", nargs="*", default=list(grid.MODES))
    parser.add_argument("--cells-dir", default=DEFAULT_CELLS)
    parser.add_argument("--from-cells", action="store_true", help="do not run; use the stored cells")
    parser.add_argument("--update", action="store_true", help="rewrite tests/corpus/expected.json")
    args = parser.parse_args(argv)
    measured: list[grid.Cell] = []
    for env in args.envs:
        if not args.from_cells:
            print("grid_report: running {} ({})".format(env, ", ".join(args.modes)), file=sys.stderr, flush=True)
            new = run_env(env, args.modes)
            store_cells(args.cells_dir, env, new)
            measured.extend(new)
    cells = [cell for env in args.envs for cell in read_cells(args.cells_dir, env)]
    if args.from_cells:
        measured = [cell for cell in cells if cell["mode"] in args.modes]
    if args.update:
        update_expected(measured)
    for mode in grid.MODES:
        if not any(c["mode"] == mode for c in cells):
            continue
        print(f"\n### mode `{mode}`\n")
        print(markdown(cells, mode, args.envs))
        core = [c for c in cells if c["mode"] == mode and c["model"] in CORE_MODELS and c["source"] != "keras3-jax"]
        if core and all(c["ok"] is not None for c in core):
            holds = sum(1 for c in core if c["ok"])
            print(f"Issue 10's five models from its 8 saving releases: {holds} of {len(core)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
