"""Run the test suite in every environment of the compat matrix.

    python3 compat/run.py              # every environment
    python3 compat/run.py --ci         # the environments marked ci = true
    python3 compat/run.py tf2.9 core-py3.13
    python3 compat/run.py --list
    python3 compat/run.py --exec tf2.9 -- keras-deser load   # a command in one env

Each environment of ``compat/matrix.toml`` gets a virtual environment under
``.venvs/<name>`` made with ``uv`` from a local interpreter (pyenv's or one
on PATH; nothing is downloaded), with keras_deser installed editable plus
the environment's exact pins.  An environment is rebuilt only when its pins
change.  Extra arguments after ``--`` go to pytest.  Exits non-zero when any
environment fails to build or has a failing test.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATRIX = os.path.join(ROOT, "compat", "matrix.toml")
VENVS = os.path.join(ROOT, ".venvs")


def load_matrix(path=MATRIX):
    """The matrix as ``{name: entry}``, in file order (needs Python 3.11+)."""
    import tomllib

    with open(path, "rb") as handle:
        return tomllib.load(handle)


def find_python(version):
    """Path of a local interpreter for ``version`` ("3.10"), or exit."""
    roots = []
    if os.environ.get("PYENV_ROOT"):
        roots.append(os.environ["PYENV_ROOT"])
    roots.append(os.path.expanduser("~/.pyenv"))
    for root in roots:
        found = sorted(glob.glob(os.path.join(root, "versions", version + ".*", "bin", "python")))
        if found:
            return found[-1]
    on_path = shutil.which("python" + version)
    if on_path:
        return on_path
    sys.exit(f"compat/run.py: no Python {version} found under pyenv or on PATH")


def uv():
    found = shutil.which("uv")
    if found:
        return [found]
    return [sys.executable, "-m", "uv"]


def build(name, entry, log):
    """Create or reuse ``.venvs/<name>``; return its python."""
    venv = os.path.join(VENVS, name)
    python = os.path.join(venv, "bin", "python")
    stamp_path = os.path.join(venv, ".keras_deser_stamp")
    stamp = json.dumps({"python": entry["python"], "pins": entry.get("pins", [])}, sort_keys=True)
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never", VIRTUAL_ENV=venv)
    if os.path.exists(stamp_path) and open(stamp_path).read() == stamp and os.path.exists(python):
        subprocess.run(uv() + ["pip", "install", "-q", "--no-deps", "-e", ROOT], env=env, check=True, stdout=log, stderr=log)
        return python
    if os.path.exists(venv):
        shutil.rmtree(venv)
    interpreter = find_python(entry["python"])
    subprocess.run(uv() + ["venv", "-q", "-p", interpreter, venv], env=env, check=True, stdout=log, stderr=log)
    subprocess.run(
        uv() + ["pip", "install", "-q", "-e", ROOT + "[test]"] + list(entry.get("pins", [])),
        env=env, check=True, stdout=log, stderr=log,
    )
    with open(stamp_path, "w") as handle:
        handle.write(stamp)
    return python


def run(name, entry, pytest_args):
    os.makedirs(VENVS, exist_ok=True)
    log_path = os.path.join(VENVS, name + ".build.log")
    started = time.time()
    print(f"=== {name}: Python {entry['python']}, {' '.join(entry.get('pins', [])) or 'no upstream'}", flush=True)
    try:
        with open(log_path, "w") as log:
            python = build(name, entry, log)
    except subprocess.CalledProcessError:
        print(open(log_path).read()[-4000:])
        print(f"=== {name}: BUILD FAILED (log: {log_path})", flush=True)
        return "build failed", time.time() - started
    env = dict(os.environ)
    env.update({key: str(value) for key, value in entry.get("env", {}).items()})
    env["KERAS_DESER_ENV"] = name
    env["KERAS_DESER_EXPECT"] = entry.get("expect", "")
    env["KERAS_DESER_UPSTREAM"] = entry.get("upstream", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The whole suite unless the arguments name test paths themselves.
    named = any(arg.startswith("tests") or arg.endswith(".py") or "::" in arg for arg in pytest_args)
    command = [python, "-m", "pytest", "-p", "no:cacheprovider"] + ([] if named else [os.path.join(ROOT, "tests")]) + pytest_args
    code = subprocess.run(command, cwd=ROOT, env=env).returncode
    outcome = "passed" if code == 0 else f"FAILED (pytest exit {code})"
    print(f"=== {name}: {outcome} in {time.time() - started:.0f} s", flush=True)
    return outcome, time.time() - started


def execute(name, entry, command):
    """Build ``name`` and run ``command`` with its virtualenv first on PATH."""
    os.makedirs(VENVS, exist_ok=True)
    log_path = os.path.join(VENVS, name + ".build.log")
    print(f"=== building {name} (Python {entry['python']}; log: {log_path})", file=sys.stderr, flush=True)
    try:
        with open(log_path, "w") as log:
            python = build(name, entry, log)
    except subprocess.CalledProcessError:
        print(open(log_path).read()[-4000:], file=sys.stderr)
        return 1
    env = dict(os.environ)
    env.update({key: str(value) for key, value in entry.get("env", {}).items()})
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    bindir = os.path.dirname(python)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = os.path.dirname(bindir)
    return subprocess.run(command, env=env).returncode


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    pytest_args = []
    if "--" in argv:
        cut = argv.index("--")
        argv, pytest_args = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="environments to run (default: all)")
    parser.add_argument("--ci", action="store_true", help="only the environments marked ci = true")
    parser.add_argument("--list", action="store_true", help="list the environments and exit")
    parser.add_argument("--exec", metavar="ENV", dest="exec_env",
                        help="build ENV and run the command given after -- inside it")
    args = parser.parse_args(argv)
    matrix = load_matrix()
    if args.exec_env:
        if args.exec_env not in matrix:
            parser.error(f"unknown environment {args.exec_env!r}; see --list")
        if not pytest_args:
            parser.error("--exec needs a command after --")
        return execute(args.exec_env, matrix[args.exec_env], pytest_args)
    if args.list:
        for name, entry in matrix.items():
            print(f"{name:16} python {entry['python']:5} ci={str(entry.get('ci', False)).lower():5} {' '.join(entry.get('pins', []))}")
        return 0
    unknown = [name for name in args.names if name not in matrix]
    if unknown:
        parser.error(f"unknown environment(s): {', '.join(unknown)}; see --list")
    names = args.names or [name for name, entry in matrix.items() if entry.get("ci") or not args.ci]
    results = {name: run(name, matrix[name], pytest_args) for name in names}
    print("\n=== compat matrix summary")
    for name, (outcome, seconds) in results.items():
        print(f"{name:16} {outcome:28} {seconds:6.0f} s")
    failed = [name for name, (outcome, _) in results.items() if outcome != "passed"]
    print(f"{len(results) - len(failed)} environments passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
