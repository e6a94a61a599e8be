"""The ``keras-deser`` command: subcommands, exit codes, errors, JSON output.

Tests that need TensorFlow run the command in a subprocess (so this test
process is not bound to a Keras it did not choose) and are skipped where
TensorFlow is not installed.  "No Keras" is simulated in a subprocess by
hiding the packages (``sys.modules[name] = None``), so those tests run in
every environment.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

import keras_deser
from keras_deser import cli

HAS_TF = importlib.util.find_spec("tensorflow") is not None
needs_tf = pytest.mark.skipif(not HAS_TF, reason="TensorFlow is not installed")

_HIDE = "import sys\nfor _n in ('tensorflow', 'keras', 'tf_keras'):\n    sys.modules[_n] = None\n"
_RUN = "import sys\nfrom keras_deser.cli import main\nsys.exit(main(sys.argv[1:]))\n"

POLYGON_MODULE = textwrap.dedent(
    '''
    import keras_deser


    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def get_config(self):
            return {"x": self.x, "y": self.y}

        @classmethod
        def from_config(cls, config):
            return cls(**config)


    class Polygon:
        """No from_config: built with **config inside the custom-object scope."""

        def __init__(self, name, points):
            self.name = name
            self.points = [keras_deser.deserialize_keras_object(p, printable_module_name="point") for p in points]

        def get_config(self):
            return {"name": self.name, "points": [keras_deser.serialize_keras_object(p) for p in self.points]}


    OBJECTS = {"Point": Point, "Polygon": Polygon}


    class Lambda:
        """Stands in for Keras's Lambda: building it "runs" the config's code."""

        def __init__(self, function=None, function_type=None, name=None):
            open("lambda-ran.txt", "w").write(str(function))


    def make_point(x, y):
        """A factory: Keras 2.9 calls it with arguments from the config."""
        open("factory-ran.txt", "w").write("called")
        return Point(x, y)


    UNSAFE = dict(OBJECTS, Lambda=Lambda, make_point=make_point)
    '''
)

#: The base64 of marshalled bytecode (as Keras writes a Lambda's function).
LAMBDA_CONFIG = {
    "class_name": "Lambda",
    "config": {"name": "lambda", "function": ["4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7p", None, None],
               "function_type": "lambda"},
}


def polygon_config(*class_names):
    points = [{"class_name": name, "config": {"x": i, "y": -i}} for i, name in enumerate(class_names)]
    return {"class_name": "Polygon", "config": {"name": "triangle", "points": points}}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A directory holding ``polygons.py``, importable, and the cwd."""
    (tmp_path / "polygons.py").write_text(POLYGON_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("polygons", None)


def write_json(path, value):
    path.write_text(json.dumps(value))
    return str(path)


def run(args, hide_keras=False, cwd=None, stdin=None, prelude=""):
    """Run the command in a fresh interpreter; return the CompletedProcess.

    ``prelude`` is Python run before the command (e.g. installing keras_deser).
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("KERAS_DESER_INSTALL", None)
    code = (_HIDE if hide_keras else "") + prelude + _RUN
    return subprocess.run(
        [sys.executable, "-c", code] + list(args),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        input=stdin,
        timeout=300,
    )


def run_json(args, **kwargs):
    proc = run(list(args) + ["--json"], **kwargs)
    return proc, json.loads(proc.stdout)


def own_lines(stderr):
    """keras-deser's own lines of a stderr (TensorFlow's logging and
    deprecation warnings, e.g. TF 1.15's, left out)."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(("keras-deser", "python -m keras_deser"))]
    return "\n".join(lines[starts[0]:]) if starts else ""


#: Builds the bundled example (saved by Keras 2.9) with the installed release's
#: own, unpatched, 4-argument function and with keras_deser (not installed),
#: both given the layer classes the command uses; prints both outcomes.
_EXAMPLE_PROBE = textwrap.dedent(
    """
    import json, sys
    import keras_deser
    from keras_deser import cli
    from keras_deser.testing import upstream_function

    up = cli.load_upstream()
    outcomes = {}
    for side, function in (("upstream", upstream_function()), ("keras_deser", keras_deser.deserialize_keras_object)):
        try:
            function(json.load(open(cli.EXAMPLE)), module_objects=up.layer_objects, printable_module_name="layer")
            outcomes[side] = None
        except Exception as error:
            outcomes[side] = {"types": [c.__name__ for c in type(error).__mro__], "message": str(error)}
    sys.stdout.write("\\nPROBE" + json.dumps(outcomes))
    """
)

_example_outcomes = []


def example_failure():
    """None where the installed release's own loader builds the bundled
    example; else how it fails: ``{"type", "message", "name"}``, ``name``
    being the object it cannot find (e.g. TF 1.15 has no ``L2`` regularizer
    class).  keras_deser must then fail the same way: checked here once,
    each test checks that the command exits 1 naming ``name``."""
    if not _example_outcomes:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        env.pop("KERAS_DESER_INSTALL", None)
        proc = subprocess.run([sys.executable, "-c", _EXAMPLE_PROBE], capture_output=True, text=True, env=env, timeout=300)
        assert "PROBE" in proc.stdout, proc.stderr[-3000:]
        _example_outcomes.append(json.loads(proc.stdout.rpartition("PROBE")[2]))
    outcomes = _example_outcomes[0]
    theirs, ours = outcomes["upstream"], outcomes["keras_deser"]
    if theirs is None:
        return None
    assert ours is not None, f"keras_deser builds the example, the release's own loader fails: {theirs}"
    assert theirs["types"][0] in ours["types"], (theirs, ours)
    match = re.search(r"Unknown [^:]*:\s*(\S+)", theirs["message"])
    assert match, theirs
    assert match.group(1) in ours["message"], (theirs, ours)
    return {"type": theirs["types"][0], "message": theirs["message"], "name": match.group(1)}


def release_builds_functional(config):
    """The exception the release's own loader (keras_deser not installed)
    raises building a Functional ``config`` from its public Model class, or None."""
    import copy

    import tensorflow as tf

    was = keras_deser.is_installed()
    if was:
        keras_deser.uninstall()
    try:
        tf.keras.Model.from_config(copy.deepcopy(config["config"]))
        return None
    except Exception as error:  # noqa: BLE001 - compared as an outcome
        return error
    finally:
        if was:
            keras_deser.install()


def assert_fails_like_release(proc, failure):
    """The command exits 1 naming what the release's own loader cannot find."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert failure["name"] in own_lines(proc.stderr) + proc.stdout, proc.stdout + proc.stderr


# --- doctor -----------------------------------------------------------------


def test_doctor_json():
    proc, report = run_json(["doctor"])
    assert proc.returncode == 0, proc.stderr
    assert report["ok"] is True
    assert report["keras_deser"]["version"] == keras_deser.__version__
    info = report["upstream"]
    assert {"flavour", "registry", "scopes", "shared_objects", "legacy_module"} <= set(info)
    assert report["install"] == {"installed": False, "sites": []}
    assert report["safe_mode"] == {"on": False, "env": None}
    if HAS_TF:
        assert report["installed"]["tensorflow"] is True
        assert info["flavour"] != "standalone"
        assert info["tensorflow_version"]
        assert report["layer_objects"]["count"] > 50


def test_doctor_without_keras():
    proc, report = run_json(["doctor"], hide_keras=True)
    assert proc.returncode == 0, proc.stderr
    assert report["upstream"]["flavour"] == "standalone"
    assert report["upstream"]["shared_objects"] == "supplied"
    assert report["installed"]["tensorflow"] is False
    assert report["imported"] == []


def test_doctor_text(capsys):
    assert cli.main(["doctor", "--no-keras"]) == 0
    out = capsys.readouterr().out
    for label in ("flavour", "registry", "scopes", "shared objects", "installed into TF", "safe mode"):
        assert label in out
    assert "not available" not in out
    row = next(line for line in out.splitlines() if line.startswith("safe mode"))
    assert row.split()[2] == "off"


def test_doctor_safe_mode_on():
    proc, report = run_json(["doctor"], hide_keras=True, prelude="import keras_deser\nkeras_deser.set_safe_mode(True)\n")
    assert proc.returncode == 0, proc.stderr
    assert report["safe_mode"]["on"] is True
    proc = run(["doctor"], hide_keras=True, prelude="import keras_deser\nkeras_deser.set_safe_mode(True)\n")
    assert "on for this process" in proc.stdout


@needs_tf
def test_doctor_reports_install_sites():
    prelude = "import tensorflow, keras_deser\nkeras_deser.install()\n"
    proc, report = run_json(["doctor"], prelude=prelude)
    assert proc.returncode == 0, proc.stderr
    assert report["install"]["installed"] is True
    assert any(site.endswith(":deserialize_keras_object") for site in report["install"]["sites"])


# --- load -------------------------------------------------------------------


@needs_tf
def test_load_bundled_example():
    failure = example_failure()
    proc = run(["load", "--json"])
    if failure:
        return assert_fails_like_release(proc, failure)
    summary = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert summary["class_name"] == "Functional"
    assert summary["name"] == "example_two_branch"
    assert summary["layers"] == 8
    assert summary["parameters"] == 225
    assert summary["seconds"] > 0
    assert summary["routing"]["mode"] == "installed"
    assert summary["routing"]["sites"] > 0 and summary["routing"]["nested_calls"] > 0


@needs_tf
def test_load_no_patch_top_level_only():
    failure = example_failure()
    proc = run(["load", "--no-patch", "--json"])
    if failure:
        return assert_fails_like_release(proc, failure)
    summary = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert summary["routing"]["mode"] == "top-level"
    assert summary["parameters"] == 225


@needs_tf
def test_load_example_text_with_progress():
    failure = example_failure()
    proc = run(["load", cli.EXAMPLE, "--progress"])
    if failure:
        return assert_fails_like_release(proc, failure)
    assert proc.returncode == 0, proc.stderr
    assert "layers      8" in proc.stdout
    assert "parameters  225" in proc.stdout
    assert "built 8 layers" in proc.stderr


@needs_tf
def test_load_unknown_keras_layer(tmp_path):
    config = json.load(open(cli.EXAMPLE))
    # Where the release cannot build the example (TF 1.15: no ``L2`` class), the
    # unknown class replaces the first layer built, ahead of what it lacks.
    wanted = ("Dense",) if example_failure() else ("Concatenate",)
    index = next(i for i, layer in enumerate(config["config"]["layers"]) if layer["class_name"] in wanted)
    config["config"]["layers"][index]["class_name"] = "NoSuchMerge"
    proc = run(["load", write_json(tmp_path / "broken.json", config)])
    assert proc.returncode == 1
    assert "broken.json" in proc.stderr
    theirs = release_builds_functional(config)
    if theirs is not None and "NoSuchMerge" not in str(theirs):
        # Keras 2.13+/tf-keras: a Functional's layers go through the release's
        # new-signature loader, which lets the unknown class through (the layer
        # is then a str): the command fails as the release's own loader does.
        assert f"{type(theirs).__name__}: {theirs}" in own_lines(proc.stderr), (theirs, proc.stderr)
        return
    assert "NoSuchMerge" in proc.stderr
    assert f"config['config']['layers'][{index}]['class_name']" in proc.stderr
    assert "broken.json" in proc.stderr


def test_load_keras_config_without_keras_says_keras_is_needed():
    proc = run(["load"], hide_keras=True)
    assert proc.returncode == 1
    assert "'Functional'" in proc.stderr
    assert "TensorFlow/Keras is needed to build Keras layers" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_load_custom_objects_without_keras(workdir):
    path = write_json(workdir / "polygon.json", polygon_config("Point", "Point", "Point"))
    proc, summary = run_json(["load", path, "--custom-objects", "polygons:OBJECTS"], hide_keras=True, cwd=str(workdir))
    assert proc.returncode == 0, proc.stderr
    assert summary["class"] == "polygons.Polygon"
    assert summary["name"] == "triangle"
    assert summary["flavour"] == "standalone"


def test_load_custom_objects_single_classes(workdir):
    path = write_json(workdir / "point.json", {"class_name": "Point", "config": {"x": 1, "y": 2}})
    proc, summary = run_json(["load", path, "--custom-objects", "polygons:Point"], hide_keras=True, cwd=str(workdir))
    assert proc.returncode == 0, proc.stderr
    assert summary["class"] == "polygons.Point"


def test_load_custom_objects_in_process(workdir, capsys):
    path = write_json(workdir / "polygon.json", polygon_config("Point", "Point"))
    assert cli.main(["load", path, "--no-keras", "--custom-objects", "polygons:OBJECTS"]) == 0
    out = capsys.readouterr().out
    assert "built polygons.Polygon" in out
    assert "triangle" in out


def test_load_progress_counts_objects(workdir, capsys):
    path = write_json(workdir / "point.json", {"class_name": "Point", "config": {"x": 1, "y": 2}})
    assert cli.main(["load", path, "--no-keras", "--progress", "--custom-objects", "polygons:Point"]) == 0
    err = capsys.readouterr().err
    assert "reading" in err and "built 0 layers" in err


def test_unresolvable_name_exit_1_names_class_and_path(workdir, capsys):
    path = write_json(workdir / "polygon.json", polygon_config("Point", "Nowhere", "Point"))
    code = cli.main(["load", path, "--no-keras", "--custom-objects", "polygons:OBJECTS"])
    err = capsys.readouterr().err
    assert code == 1
    assert "'Nowhere'" in err
    assert "config['config']['points'][1]['class_name']" in err
    assert "polygon.json" in err


def test_unresolvable_name_json_error(workdir, capsys):
    path = write_json(workdir / "polygon.json", polygon_config("Nowhere"))
    code = cli.main(["load", path, "--no-keras", "--json", "--custom-objects", "polygons:OBJECTS"])
    captured = capsys.readouterr()
    assert code == 1
    document = json.loads(captured.out)
    assert document["ok"] is False
    assert document["error"]["path"] == "config['config']['points'][0]['class_name']"
    assert document["error"]["exit_code"] == 1
    assert "Nowhere" in captured.err


def test_load_from_stdin(workdir):
    config = json.dumps({"class_name": "Point", "config": {"x": 1, "y": 2}})
    proc = run(["load", "-", "--custom-objects", "polygons:Point"], hide_keras=True, cwd=str(workdir), stdin=config)
    assert proc.returncode == 0, proc.stderr
    assert "<stdin>" in proc.stdout


# --- broken input -----------------------------------------------------------


def test_missing_file_is_usage_error(tmp_path, capsys):
    missing = str(tmp_path / "nope.json")
    assert cli.main(["load", missing, "--no-keras"]) == 2
    err = capsys.readouterr().err
    assert "nope.json" in err and "no such file" in err


def test_directory_is_usage_error(tmp_path, capsys):
    assert cli.main(["load", str(tmp_path), "--no-keras"]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"class_name": "Point", "config": {', "invalid JSON (line 1"),
        ("", "empty file"),
        ("[1, 2, 3]", "not a serialized object"),
        ('{"layers": []}', "not a serialized object"),
        (b"\xff\xfe\x00garbage", "not a UTF-8 JSON file"),
    ],
)
def test_broken_json_exit_1(tmp_path, capsys, content, expected):
    path = tmp_path / "broken.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert cli.main(["load", str(path), "--no-keras"]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert "broken.json" in err
    assert "Traceback" not in err


def test_hdf5_without_model_config(tmp_path, capsys):
    h5py = pytest.importorskip("h5py")
    path = str(tmp_path / "weights.h5")
    with h5py.File(path, "w") as handle:
        handle.create_dataset("kernel", data=[1.0, 2.0])
    assert cli.main(["load", path, "--no-keras"]) == 1
    err = capsys.readouterr().err
    assert "weights.h5" in err and "model_config" in err


def test_hdf5_model_config_custom_objects(workdir, capsys):
    h5py = pytest.importorskip("h5py")
    path = str(workdir / "polygon.h5")
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(polygon_config("Point", "Point")).encode("utf-8")
    assert cli.main(["load", path, "--no-keras", "--custom-objects", "polygons:OBJECTS"]) == 0
    assert "polygon.h5:/model_config" in capsys.readouterr().out


def test_not_really_hdf5(tmp_path, capsys):
    pytest.importorskip("h5py")
    path = tmp_path / "fake.h5"
    path.write_text("not hdf5 at all")
    assert cli.main(["load", str(path), "--no-keras"]) == 1
    assert "fake.h5" in capsys.readouterr().err


@needs_tf
def test_load_keras_hdf5_model(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = str(tmp_path / "model.h5")
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = open(cli.EXAMPLE).read().encode("utf-8")
    failure = example_failure()
    proc = run(["load", path, "--json"])
    if failure:
        return assert_fails_like_release(proc, failure)
    summary = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert summary["layers"] == 8 and summary["parameters"] == 225


# --- options ----------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("polygons", "expected module:attribute"),
        ("no_such_module_xyz:THING", "cannot import 'no_such_module_xyz'"),
        ("polygons:MISSING", "has no attribute 'MISSING'"),
        ("polygons:__doc__", "expected a dict"),
    ],
)
def test_bad_custom_objects_is_usage_error(workdir, capsys, spec, expected):
    path = write_json(workdir / "point.json", {"class_name": "Point", "config": {"x": 1, "y": 2}})
    assert cli.main(["load", path, "--no-keras", "--custom-objects", spec]) == 2
    assert expected in capsys.readouterr().err


# --- --safe -------------------------------------------------------------------


def test_load_safe_refuses_lambda_before_running_it(workdir, capsys):
    path = write_json(workdir / "lambda.json", LAMBDA_CONFIG)
    code = cli.main(["load", path, "--no-keras", "--safe", "--custom-objects", "polygons:UNSAFE"])
    err = capsys.readouterr().err
    assert code == 1
    assert "safe mode refused this config" in err
    assert "config['class_name']: Lambda" in err  # the unsafe key path, as the audit gives it
    assert "Traceback" not in err
    assert not (workdir / "lambda-ran.txt").exists()


def test_load_without_safe_runs_the_lambda(workdir):
    """The control: without --safe, Keras 2.9 semantics build (and run) it."""
    path = write_json(workdir / "lambda.json", LAMBDA_CONFIG)
    assert cli.main(["load", path, "--no-keras", "--custom-objects", "polygons:UNSAFE"]) == 0
    assert (workdir / "lambda-ran.txt").exists()


def test_load_safe_names_every_unsafe_path(workdir):
    config = polygon_config("Point", "make_point", "Point")
    config["config"]["points"].append(LAMBDA_CONFIG)
    path = write_json(workdir / "mixed.json", config)
    proc = run(["load", path, "--safe", "--custom-objects", "polygons:UNSAFE"], hide_keras=True, cwd=str(workdir))
    assert proc.returncode == 1
    assert "config['config']['points'][1]['class_name']: make_point" in proc.stderr
    assert "factory" in proc.stderr
    assert "config['config']['points'][3]['class_name']: Lambda" in proc.stderr
    assert not (workdir / "factory-ran.txt").exists() and not (workdir / "lambda-ran.txt").exists()


def test_load_safe_json_error_lists_findings(workdir, capsys):
    path = write_json(workdir / "polygon.json", polygon_config("make_point"))
    code = cli.main(["load", path, "--no-keras", "--safe", "--json", "--custom-objects", "polygons:UNSAFE"])
    captured = capsys.readouterr()
    assert code == 1
    document = json.loads(captured.out)
    assert document["ok"] is False
    error = document["error"]
    assert error["exit_code"] == 1 and "safe mode refused" in error["message"]
    assert [(f["path"], f["name"], f["kind"]) for f in error["unsafe"]] == [
        ("config['config']['points'][0]['class_name']", "make_point", "function")
    ]
    assert not (workdir / "factory-ran.txt").exists()


def test_load_safe_accepts_plain_classes(workdir, capsys):
    path = write_json(workdir / "polygon.json", polygon_config("Point", "Point"))
    assert cli.main(["load", path, "--no-keras", "--safe", "--custom-objects", "polygons:UNSAFE"]) == 0
    assert "built polygons.Polygon" in capsys.readouterr().out


def test_safe_mode_is_off_again_after_the_command(workdir):
    path = write_json(workdir / "polygon.json", polygon_config("make_point"))
    assert cli.main(["load", path, "--no-keras", "--safe", "--custom-objects", "polygons:UNSAFE"]) == 1
    assert not keras_deser.is_safe_mode()


def test_verify_safe_refuses_before_either_side_runs(workdir):
    """Upstream does not check safe mode, so verify refuses up front (no Keras needed)."""
    path = write_json(workdir / "lambda.json", LAMBDA_CONFIG)
    proc = run(["verify", path, "--safe", "--custom-objects", "polygons:UNSAFE"], hide_keras=True, cwd=str(workdir))
    assert proc.returncode == 1
    assert "config['class_name']: Lambda" in proc.stderr
    assert "verify needs" not in proc.stderr
    assert not (workdir / "lambda-ran.txt").exists()


@needs_tf
def test_load_safe_bundled_example():
    failure = example_failure()
    proc = run(["load", "--safe", "--json"])
    if failure:
        return assert_fails_like_release(proc, failure)
    summary = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert summary["parameters"] == 225 and summary["routing"]["mode"] == "installed"


@needs_tf
def test_load_safe_refuses_keras_lambda_layer(tmp_path):
    config = json.load(open(cli.EXAMPLE))
    config["config"]["layers"][3] = dict(LAMBDA_CONFIG, name="dropout", inbound_nodes=config["config"]["layers"][3]["inbound_nodes"])
    proc = run(["load", write_json(tmp_path / "lambda_model.json", config), "--safe"])
    assert proc.returncode == 1
    assert "config['config']['layers'][3]['class_name']: Lambda" in proc.stderr


def test_usage_errors_exit_2(capsys):
    assert cli.main([]) == 2
    assert cli.main(["frobnicate"]) == 2
    assert cli.main(["verify"]) == 2  # FILE is required
    assert cli.main(["load", "--bogus"]) == 2
    assert cli.main(["--version"]) == 0
    assert keras_deser.__version__ in capsys.readouterr().out


def test_python_dash_m_help():
    proc = subprocess.run([sys.executable, "-m", "keras_deser", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for command in ("doctor", "load", "verify", "audit"):
        assert command in proc.stdout
    assert "python -m keras_deser" in proc.stdout


def test_importing_cli_loads_no_upstream():
    code = (
        "import sys, keras_deser.cli, keras_deser.__main__\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'tf_keras', 'numpy', 'h5py'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


# --- verify -----------------------------------------------------------------


@needs_tf
def test_verify_identical_on_example():
    failure = example_failure()
    proc = run(["verify", cli.EXAMPLE])
    if failure:
        assert_fails_like_release(proc, failure)
        assert proc.stdout.startswith("not built: both fail")
        sides = dict(line.strip().split(": ", 1) for line in proc.stdout.splitlines()[1:])
        assert failure["name"] in sides["upstream"] and failure["name"] in sides["keras_deser"]
        return
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("identical")


@needs_tf
def test_verify_json_and_custom_objects(workdir):
    path = write_json(workdir / "polygon.json", polygon_config("Point", "Point"))
    proc, result = run_json(["verify", path, "--custom-objects", "polygons:OBJECTS"], cwd=str(workdir))
    assert proc.returncode == 0, proc.stderr
    assert result["identical"] is True and result["status"] == "identical"
    assert result["upstream"].endswith(".deserialize_keras_object")


@needs_tf
def test_verify_both_fail_alike_is_exit_1(workdir):
    path = write_json(workdir / "polygon.json", polygon_config("Nowhere"))
    proc, result = run_json(["verify", path, "--custom-objects", "polygons:OBJECTS"], cwd=str(workdir))
    assert proc.returncode == 1
    assert result["status"] == "both-failed-alike"


@needs_tf
def test_verify_where_keras_deser_is_installed():
    """verify compares against upstream's own function even while installed, and
    leaves keras_deser installed at the same sites afterwards."""
    prelude = (
        "import atexit, tensorflow, keras_deser\n"
        "_before = keras_deser.install()\n"
        "atexit.register(lambda: print('AFTER', keras_deser.is_installed(), sorted(keras_deser.installed_sites()) == sorted(_before)))\n"
    )
    proc = run(["verify", cli.EXAMPLE, "--json"], prelude=prelude)
    document, _, after = proc.stdout.rpartition("AFTER")
    result = json.loads(document)
    assert after.split() == ["True", "True"]
    failure = example_failure()
    if failure:
        assert_fails_like_release(proc, failure)
        assert result["status"].startswith("both-failed") and result["was_installed"] is True
        assert all(failure["name"] in error for error in result["errors"].values())
        return
    assert proc.returncode == 0, proc.stderr
    assert result["identical"] is True and result["was_installed"] is True
    assert result["upstream"].endswith(".deserialize_keras_object")
    assert after.split() == ["True", "True"]


PROBE_MODULE = textwrap.dedent(
    """
    import os, sys
    import keras_deser
    import tensorflow as tf

    _OURS = os.path.dirname(os.path.abspath(keras_deser.__file__))
    LOADERS = []


    def _loader():
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_name == "deserialize_keras_object":
                return "keras_deser" if os.path.abspath(frame.f_code.co_filename).startswith(_OURS) else "upstream"
            frame = frame.f_back


    class Probe(tf.keras.layers.Layer):
        \"\"\"Records whose deserialize_keras_object built it, in its config.\"\"\"

        def __init__(self, loader=None, **kwargs):
            super().__init__(**kwargs)
            self.loader = loader

        def call(self, inputs):
            return inputs

        def get_config(self):
            return dict(super().get_config(), loader=self.loader)

        @classmethod
        def from_config(cls, config):
            LOADERS.append(_loader())
            return super().from_config(dict(config, loader=LOADERS[-1]))


    def save(path):
        inputs = tf.keras.layers.Input(shape=(2,), name="x")
        model = tf.keras.models.Model(inputs, tf.keras.layers.Dense(1, name="out")(Probe(name="probe")(inputs)))
        open(path, "w").write(model.to_json())
    """
)


@needs_tf
@pytest.mark.parametrize("installed_first", [False, True])
def test_verify_builds_the_upstream_side_with_upstream_throughout(workdir, installed_first):
    """A Functional whose nested layer records its loader: verify's upstream
    side builds it with upstream's function even while keras_deser is
    installed; the keras_deser side with keras_deser where the release routes
    a Functional's layers through the 4-argument function (then the outcomes
    differ, and verify says so), else upstream too (Keras 2.13+'s loaders)."""
    (workdir / "probes.py").write_text(PROBE_MODULE)
    path = str(workdir / "probe_model.json")
    subprocess.run([sys.executable, "-c", f"import probes; probes.save({path!r})"], cwd=str(workdir), check=True,
                   capture_output=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    prelude = "import atexit, probes\natexit.register(lambda: print('LOADERS', *probes.LOADERS))\n"
    if installed_first:
        prelude = "import tensorflow, keras_deser\nkeras_deser.install()\n" + prelude
    proc = run(["verify", path, "--json", "--custom-objects", "probes:Probe"], cwd=str(workdir), prelude=prelude)
    document, _, loaders = proc.stdout.rpartition("LOADERS")
    result = json.loads(document)
    upstream_side, ours = loaders.split()
    assert upstream_side == "upstream", (loaders, proc.stderr)
    if ours == "keras_deser":
        assert proc.returncode == 1 and result["status"] == "different", result
        changed = [line.split() for line in result["diff"].splitlines() if '"loader"' in line]
        assert changed == [["-", '"loader":', '"upstream"'], ["+", '"loader":', '"keras_deser"']], result["diff"]
    else:
        assert proc.returncode == 0 and result["status"] == "identical", result


@needs_tf
def test_verify_with_the_no_code_change_switch():
    env_prelude = "import os\nos.environ['KERAS_DESER_INSTALL'] = 'safe'\nimport keras_deser._activation as a\na.activate()\nimport tensorflow\n"
    proc = run(["verify", cli.EXAMPLE], prelude=env_prelude)
    failure = example_failure()
    if failure:
        assert_fails_like_release(proc, failure)
        assert proc.stdout.startswith("not built: both fail")
        return
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("identical")
    assert "uninstalled for the build" in proc.stdout


def test_verify_without_keras_fails():
    proc = run(["verify", cli.EXAMPLE], hide_keras=True)
    assert proc.returncode == 1
    assert "verify needs an installed TensorFlow/Keras" in proc.stderr


def test_verify_outcome_diff_is_readable():
    """verify shows keras_deser.testing's outcomes (class and get_config()) and their diff."""
    from keras_deser import testing

    class A:
        def __init__(self, **config):
            self.config = config

        def get_config(self):
            return self.config

    left = testing.outcome_of(lambda config, *a: A(**config), {"units": 3, "name": "a"})
    right = testing.outcome_of(lambda config, *a: A(**config), {"units": 4, "name": "a"})
    assert left != right
    assert json.loads(left.render())["detail"] == {"name": "a", "units": 3}
    diff = testing.Comparison(False, right, left).diff("upstream (x)", "keras_deser")
    assert '-    "units": 3' in diff and '+    "units": 4' in diff and diff.startswith("--- upstream (x)")


# --- audit ------------------------------------------------------------------


def _mixed_config():
    """Point (fine), make_point (a factory), Nowhere (unresolved), a Lambda."""
    config = polygon_config("Point", "make_point", "Nowhere")
    config["config"]["points"].append(LAMBDA_CONFIG)
    return config


def test_audit_table_unsafe_and_unresolved(workdir, capsys):
    path = write_json(workdir / "mixed.json", _mixed_config())
    code = cli.main(["audit", path, "--no-keras", "--custom-objects", "polygons:UNSAFE"])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"audit of {path}"
    assert lines[1].split() == ["PATH", "NAME", "KIND", "RESOLVES", "FROM", "UNSAFE"]
    rows = {line.split()[0]: line.split(None, 4) for line in lines[3:] if line.startswith("config")}
    assert rows["config['class_name']"][1:4] == ["Polygon", "class", "custom_objects"]
    assert rows["config['config']['points'][0]['class_name']"][1:5] == ["Point", "class", "custom_objects", "-"]
    factory = rows["config['config']['points'][1]['class_name']"]
    assert factory[1:4] == ["make_point", "function", "custom_objects"] and "factory" in factory[4]
    assert rows["config['config']['points'][2]['class_name']"][1:5] == ["Nowhere", "-", "unresolved", "-"]
    assert "bytecode" in rows["config['config']['points'][3]['class_name']"][4]
    assert "4 unresolved" not in out
    summary = next(line for line in lines if line.endswith("unsafe") and "findings" in line)
    report = keras_deser.audit(_mixed_config(), custom_objects=__import__("polygons").UNSAFE)
    assert summary == f"{len(report.findings)} findings, {len(report.unresolved)} unresolved, {len(report.unsafe)} unsafe"
    assert "safe mode would refuse this config" in out
    assert not (workdir / "factory-ran.txt").exists() and not (workdir / "lambda-ran.txt").exists()


def test_audit_json_shape(workdir, capsys):
    path = write_json(workdir / "mixed.json", _mixed_config())
    code = cli.main(["audit", path, "--no-keras", "--json", "--custom-objects", "polygons:UNSAFE"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["ok"] is False and document["file"] == path
    report = keras_deser.audit(_mixed_config(), custom_objects=__import__("polygons").UNSAFE)
    assert document["entries"] == [finding._asdict() for finding in report.findings]
    assert document["unresolved"] == [finding.name for finding in report.unresolved]
    assert document["unsafe"] == [finding._asdict() for finding in report.unsafe]
    assert document["counts"] == {
        "findings": len(report.findings), "unresolved": len(report.unresolved), "unsafe": len(report.unsafe)
    }
    assert document["safe_mode_would_refuse"] is True
    for entry in document["entries"]:
        assert set(entry) == {"path", "name", "kind", "resolves_from", "unsafe"}


def test_audit_clean_config_exit_0(workdir, capsys):
    path = write_json(workdir / "polygon.json", polygon_config("Point", "Point"))
    assert cli.main(["audit", path, "--no-keras", "--safe", "--custom-objects", "polygons:OBJECTS"]) == 0
    out = capsys.readouterr().out
    assert "3 findings, 0 unresolved, 0 unsafe" in out
    assert "safe mode would accept this config" in out
    assert not keras_deser.is_safe_mode()


def test_audit_unresolved_only_is_exit_1(workdir, capsys):
    path = write_json(workdir / "polygon.json", polygon_config("Point", "Nowhere"))
    code = cli.main(["audit", path, "--no-keras", "--json", "--custom-objects", "polygons:OBJECTS"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["unresolved"] == ["Nowhere"] and document["unsafe"] == []
    assert document["safe_mode_would_refuse"] is False


def test_audit_without_keras_notes_why(workdir):
    proc = run(["audit", cli.EXAMPLE], hide_keras=True, cwd=str(workdir))
    assert proc.returncode == 1
    assert "Dense" in proc.stdout and "unresolved" in proc.stdout
    assert "no TensorFlow/Keras could be imported" in proc.stdout


def test_audit_hdf5_model_config(workdir, capsys):
    h5py = pytest.importorskip("h5py")
    path = str(workdir / "mixed.h5")
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(_mixed_config()).encode("utf-8")
    assert cli.main(["audit", path, "--no-keras", "--custom-objects", "polygons:UNSAFE"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"audit of {path}:/model_config")
    assert "make_point" in out


@needs_tf
def test_audit_keras_model_uses_keras_public_objects():
    proc, document = run_json(["audit", cli.EXAMPLE])
    by_path = {entry["path"]: entry for entry in document["entries"]}
    dense = by_path["config['config']['layers'][1]['class_name']"]
    assert (dense["name"], dense["kind"], dense["resolves_from"]) == ("Dense", "class", "keras")
    initializer = by_path["config['config']['layers'][1]['config']['kernel_initializer']['class_name']"]
    assert initializer["resolves_from"] == "keras"
    assert document["unsafe"] == [] and document["safe_mode_would_refuse"] is False
    assert proc.returncode == (1 if document["unresolved"] else 0)


@needs_tf
def test_audit_bundled_example_is_clean():
    proc, document = run_json(["audit", cli.EXAMPLE])
    assert document["unsafe"] == []
    failure = example_failure()
    if failure:  # unresolved where the release lacks it
        assert failure["name"] in document["unresolved"], document["unresolved"]
        assert proc.returncode == 1
        return
    assert document["unresolved"] == []
    assert proc.returncode == 0


@needs_tf
def test_audit_keras_lambda_layer(tmp_path):
    config = json.load(open(cli.EXAMPLE))
    config["config"]["layers"][3] = dict(LAMBDA_CONFIG, name="dropout", inbound_nodes=config["config"]["layers"][3]["inbound_nodes"])
    proc = run(["audit", write_json(tmp_path / "lambda_model.json", config)])
    assert proc.returncode == 1
    row = next(line for line in proc.stdout.splitlines() if line.startswith("config['config']['layers'][3]['class_name']"))
    assert "Lambda" in row and "keras" in row and "bytecode" in row


def test_format_audit_table_aligns_columns():
    Finding = keras_deser.Finding
    report = keras_deser.AuditReport([
        Finding("config['class_name']", "Functional", "class", "module_objects"),
        Finding("config['config']['layers'][2]['class_name']", "Lambda", "class", "keras", "carries Python bytecode"),
        Finding("config['config']['layers'][3]['class_name']", "MyLayer", None, "unresolved"),
    ])
    lines = cli.format_audit_table(report).splitlines()
    assert set(lines[1].replace(" ", "")) == {"-"}
    offset = lines[0].index("NAME")
    for line, name in zip(lines[2:5], ("Functional", "Lambda", "MyLayer")):
        assert line[offset:].startswith(name)
    assert lines[4].split()[2:] == ["-", "unresolved", "-"]
    assert lines[-1] == "3 findings, 1 unresolved, 1 unsafe"
    assert cli.audit_findings(report)
    assert cli.format_audit_table(keras_deser.AuditReport([])).splitlines()[-1] == "0 findings, 0 unresolved, 0 unsafe"
    assert not cli.audit_findings(keras_deser.AuditReport([]))


# --- helpers ----------------------------------------------------------------


def test_key_paths():
    config = {
        "class_name": "Model",
        "config": {"layers": [{"class_name": "Dense", "config": {"activation": "swishy"}}, {"odd key": "swishy"}]},
    }
    assert cli.key_paths(config, "Dense") == ["config['config']['layers'][0]['class_name']"]
    assert cli.key_paths(config, "swishy") == [
        "config['config']['layers'][0]['config']['activation']", "config['config']['layers'][1]['odd key']"
    ]
    assert cli.key_paths(config, "absent") == []
