"""Run the test suite in every environment of the compat matrix.

    python3 compat/run.py              # every environment
    python3 compat/run.py --ci         # the environments marked ci = true
    python3 compat/run.py tf2.9 core-py3.13
    python3 compat/run.py --list
    python3 compat/run.py --exec tf2.9 -- keras-deser load   # a command in one env
    python3 compat/run.py --lint       # ruff check and mypy, from .venvs/lint
    python3 compat/run.py --jobs 2     # two environments at a time (CI: one per core)

Each environment of ``compat/matrix.toml`` gets a virtual environment under
``.venvs/<name>`` made with ``uv`` from a local interpreter (pyenv's or one
on PATH; no interpreter is downloaded), with keras_deser installed editable
plus the environment's exact pins.  An environment is rebuilt only when its
pins change.  ``uv`` is the one on PATH or, on a machine without it, one
this script installs with pip into ``.venvs/_uv``; every ``uv pip`` call
names its target interpreter (``--python``), so it never installs into the
interpreter running uv.  Extra arguments after ``--`` go to pytest.  Exits
non-zero when any environment fails to build or has a failing test.

Needs Python 3.11+ (``tomllib``); started by an older ``python3``, it runs
itself again under the newest pyenv Python 3.11+.
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


#: The lint environment: tools pinned, keras_deser installed editable.
LINT = {"python": "3.12", "pins": ["ruff==0.17.6", "mypy==2.4.1"]}
LINT_COMMANDS = (["ruff", "check", "keras_deser"], ["mypy"])


def _reexec_if_old():
    """Run this script again under a Python with ``tomllib`` (3.11+)."""
    if sys.version_info >= (3, 11):
        return
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", "3.1[1-9]*", "bin", "python")))
    if not found:
        sys.exit("compat/run.py needs Python 3.11 or newer (tomllib); none found under pyenv")
    os.execv(found[-1], [found[-1], os.path.abspath(__file__)] + sys.argv[1:])


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


def uv(log=None):
    """The ``uv`` command: on PATH, or bootstrapped into ``.venvs/_uv`` with pip."""
    found = shutil.which("uv")
    if found:
        return [found]
    home = os.path.join(VENVS, "_uv")
    private = os.path.join(home, "bin", "uv")
    if not os.path.exists(private):
        print(f"compat/run.py: no uv on PATH; installing it with pip into {home}", file=sys.stderr, flush=True)
        os.makedirs(VENVS, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", home], check=True, stdout=log, stderr=log)
        subprocess.run(
            [os.path.join(home, "bin", "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "uv"],
            check=True, stdout=log, stderr=log,
        )
    return [private]


def build(name, entry, log):
    """Create or reuse ``.venvs/<name>``; return its python.

    Every ``uv pip`` call names the venv's interpreter (``--python``), so it
    installs there whichever uv (or ``python -m uv``) runs it.
    """
    venv = os.path.join(VENVS, name)
    python = os.path.join(venv, "bin", "python")
    stamp_path = os.path.join(venv, ".keras_deser_stamp")
    stamp = json.dumps({"python": entry["python"], "pins": entry.get("pins", [])}, sort_keys=True)
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never", VIRTUAL_ENV=venv)
    command = uv(log)
    if os.path.exists(stamp_path) and open(stamp_path).read() == stamp and os.path.exists(python):
        subprocess.run(command + ["pip", "install", "--python", python, "-q", "--no-deps", "-e", ROOT],
                       env=env, check=True, stdout=log, stderr=log)
        return python
    if os.path.exists(venv):
        shutil.rmtree(venv)
    interpreter = find_python(entry["python"])
    subprocess.run(command + ["venv", "-q", "-p", interpreter, venv], env=env, check=True, stdout=log, stderr=log)
    subprocess.run(
        command + ["pip", "install", "--python", python, "-q", "-e", ROOT + "[test]"] + list(entry.get("pins", [])),
        env=env, check=True, stdout=log, stderr=log,
    )
    with open(stamp_path, "w") as handle:
        handle.write(stamp)
    return python


def prepare(name, entry, out=sys.stdout):
    """Build ``name`` (logging to ``.venvs/<name>.build.log``); return
    ``(python, env)`` for running in it, or ``(None, None)`` when the build
    failed (the log's tail is printed to ``out``).  Shared by every mode."""
    os.makedirs(VENVS, exist_ok=True)
    log_path = os.path.join(VENVS, name + ".build.log")
    try:
        with open(log_path, "w") as log:
            python = build(name, entry, log)
    except subprocess.CalledProcessError:
        print(open(log_path).read()[-4000:], file=out)
        print(f"=== {name}: BUILD FAILED (log: {log_path})", file=out, flush=True)
        return None, None
    env = dict(os.environ)
    env.update({key: str(value) for key, value in entry.get("env", {}).items()})
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    bindir = os.path.dirname(python)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = os.path.dirname(bindir)
    return python, env


def run(name, entry, pytest_args, out=None):
    """Build ``name`` and run its tests; output to ``out`` (a file) or stdout."""
    started = time.time()
    stream = out if out is not None else sys.stdout
    print(f"=== {name}: Python {entry['python']}, {' '.join(entry.get('pins', [])) or 'no upstream'}",
          file=stream, flush=True)
    python, env = prepare(name, entry, out=stream)
    if python is None:
        return "build failed", time.time() - started
    env["KERAS_DESER_ENV"] = name
    env["KERAS_DESER_EXPECT"] = entry.get("expect", "")
    env["KERAS_DESER_UPSTREAM"] = entry.get("upstream", "")
    # The whole suite unless the arguments name test paths themselves.
    named = any(arg.startswith("tests") or arg.endswith(".py") or "::" in arg for arg in pytest_args)
    command = [python, "-m", "pytest", "-p", "no:cacheprovider"] + ([] if named else [os.path.join(ROOT, "tests")]) + pytest_args
    if out is None:
        code = subprocess.run(command, cwd=ROOT, env=env).returncode
    else:
        code = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    outcome = "passed" if code == 0 else f"FAILED (pytest exit {code})"
    print(f"=== {name}: {outcome} in {time.time() - started:.0f} s", file=stream, flush=True)
    return outcome, time.time() - started


def run_all(names, matrix, pytest_args, jobs):
    """``{name: (outcome, seconds)}`` for ``names``, ``jobs`` environments at a
    time; with more than one, each environment's output is kept in
    ``.venvs/<name>.test.log`` and printed whole when it ends."""
    if jobs <= 1 or len(names) <= 1:
        return {name: run(name, matrix[name], pytest_args) for name in names}
    import concurrent.futures
    import threading

    os.makedirs(VENVS, exist_ok=True)
    printing = threading.Lock()

    def one(name):
        path = os.path.join(VENVS, name + ".test.log")
        with open(path, "w") as out:
            result = run(name, matrix[name], pytest_args, out)
        with printing, open(path) as log:
            sys.stdout.write(log.read())
            sys.stdout.flush()
        return result

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(zip(names, pool.map(one, names)))


def execute(name, entry, command):
    """Build ``name`` and run ``command`` with its virtualenv first on PATH."""
    print(f"=== building {name} (Python {entry['python']}; log: .venvs/{name}.build.log)", file=sys.stderr, flush=True)
    python, env = prepare(name, entry, out=sys.stderr)
    if python is None:
        return 1
    return subprocess.run(command, env=env).returncode


def lint():
    """``ruff check keras_deser`` and ``mypy`` (pyproject.toml's settings) from
    ``.venvs/lint``; non-zero when either fails."""
    python, env = prepare("lint", LINT)
    if python is None:
        return 1
    failed = []
    for command in LINT_COMMANDS:
        print(f"=== lint: {' '.join(command)}", flush=True)
        if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
            failed.append(command[0])
    print(f"=== lint: {'FAILED (' + ', '.join(failed) + ')' if failed else 'passed'}", flush=True)
    return 1 if failed else 0


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
    parser.add_argument("--lint", action="store_true", help="run ruff check and mypy from .venvs/lint")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="run N environments at a time (output per environment, printed as each ends)")
    args = parser.parse_args(argv)
    if args.lint:
        return lint()
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
    results = run_all(names, matrix, pytest_args, args.jobs)
    print("\n=== compat matrix summary")
    for name, (outcome, seconds) in results.items():
        print(f"{name:16} {outcome:28} {seconds:6.0f} s")
    failed = [name for name, (outcome, _) in results.items() if outcome != "passed"]
    print(f"{len(results) - len(failed)} environments passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    _reexec_if_old()
    sys.exit(main())
