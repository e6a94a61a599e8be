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
    '''
)


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


def run(args, hide_keras=False, cwd=None, stdin=None):
    """Run the command in a fresh interpreter; return the CompletedProcess."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    code = (_HIDE if hide_keras else "") + _RUN
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


# --- doctor -----------------------------------------------------------------


def test_doctor_json():
    proc, report = run_json(["doctor"])
    assert proc.returncode == 0, proc.stderr
    assert report["ok"] is True
    assert report["keras_deser"]["version"] == keras_deser.__version__
    info = report["upstream"]
    assert {"flavour", "registry", "scopes", "shared_objects", "legacy_module"} <= set(info)
    assert set(report["install"]) >= {"available", "installed", "sites"}
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
    for label in ("flavour", "registry", "scopes", "shared objects", "installed into TF"):
        assert label in out
    if getattr(keras_deser, "is_installed", None) is None:
        assert "install API not available" in out


# --- load -------------------------------------------------------------------


@needs_tf
def test_load_bundled_example():
    proc, summary = run_json(["load"])
    assert proc.returncode == 0, proc.stderr
    assert summary["class_name"] == "Functional"
    assert summary["name"] == "example_two_branch"
    assert summary["layers"] == 8
    assert summary["parameters"] == 225
    assert summary["seconds"] > 0
    expected = "installed" if hasattr(keras_deser, "patched") else "top-level"
    assert summary["routing"]["mode"] == expected


@needs_tf
def test_load_no_patch_top_level_only():
    proc, summary = run_json(["load", "--no-patch"])
    assert proc.returncode == 0, proc.stderr
    assert summary["routing"]["mode"] == "top-level"
    assert summary["parameters"] == 225


@needs_tf
def test_load_example_text_with_progress():
    proc = run(["load", cli.EXAMPLE, "--progress"])
    assert proc.returncode == 0, proc.stderr
    assert "layers      8" in proc.stdout
    assert "parameters  225" in proc.stdout
    assert "built 8 layers" in proc.stderr


@needs_tf
def test_load_unknown_keras_layer(tmp_path):
    config = json.load(open(cli.EXAMPLE))
    index = next(i for i, layer in enumerate(config["config"]["layers"]) if layer["class_name"] == "Concatenate")
    config["config"]["layers"][index]["class_name"] = "NoSuchMerge"
    proc = run(["load", write_json(tmp_path / "broken.json", config)])
    assert proc.returncode == 1
    assert "NoSuchMerge" in proc.stderr
    assert f"$.config.layers[{index}].class_name" in proc.stderr
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
    assert "$.config.points[1].class_name" in err
    assert "polygon.json" in err


def test_unresolvable_name_json_error(workdir, capsys):
    path = write_json(workdir / "polygon.json", polygon_config("Nowhere"))
    code = cli.main(["load", path, "--no-keras", "--json", "--custom-objects", "polygons:OBJECTS"])
    captured = capsys.readouterr()
    assert code == 1
    document = json.loads(captured.out)
    assert document["ok"] is False
    assert document["error"]["path"] == "$.config.points[0].class_name"
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
    proc, summary = run_json(["load", path])
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


@pytest.mark.skipif(hasattr(keras_deser, "safe_mode"), reason="safe mode exists")
def test_safe_unavailable_is_usage_error(workdir, capsys):
    path = write_json(workdir / "point.json", {"class_name": "Point", "config": {"x": 1, "y": 2}})
    assert cli.main(["load", path, "--no-keras", "--safe", "--custom-objects", "polygons:Point"]) == 2
    assert "safe mode is not available" in capsys.readouterr().err


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
    proc = run(["verify", cli.EXAMPLE])
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


def test_verify_without_keras_fails():
    proc = run(["verify", cli.EXAMPLE], hide_keras=True)
    assert proc.returncode == 1
    assert "verify needs an installed TensorFlow/Keras" in proc.stderr


def test_describe_diff_is_readable():
    class A:
        def __init__(self, **config):
            self.config = config

        def get_config(self):
            return self.config

    left, right = cli.describe(A(units=3, name="a")), cli.describe(A(units=4, name="a"))
    assert left != right
    assert json.loads(left)["config"] == {"name": "a", "units": 3}


# --- audit ------------------------------------------------------------------


FAKE_REPORT = {
    "entries": [
        {"name": "Functional", "kind": "class", "resolves_from": "module_objects", "unsafe": None, "path": "$.class_name"},
        {"name": "relu", "kind": "function", "resolves_from": "registry", "unsafe": None, "path": "$.config.layers[1].config.activation"},
        {"name": "Lambda", "kind": "class", "resolves_from": "module_objects", "unsafe": "runs marshalled bytecode", "path": "$.config.layers[2].class_name"},
        {"name": "MyLayer", "kind": "class", "resolves_from": "unresolved", "unsafe": None, "key_path": "$.config.layers[3].class_name"},
    ]
}


def test_format_audit_table_from_fake_report():
    table = cli.format_audit_table(FAKE_REPORT)
    lines = table.splitlines()
    assert lines[0].split() == ["PATH", "NAME", "KIND", "RESOLVES", "FROM", "UNSAFE"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert "runs marshalled bytecode" in table
    row = next(line for line in lines if "MyLayer" in line)
    assert "$.config.layers[3].class_name" in row and "unresolved" in row
    assert lines[-1] == "4 names, 1 unresolved, 1 unsafe"
    # columns line up: every NAME cell starts at the same offset
    offset = lines[0].index("NAME")
    for line, name in zip(lines[2:6], ("Functional", "relu", "Lambda", "MyLayer")):
        assert line[offset:].startswith(name)
    assert cli.audit_findings(FAKE_REPORT)


def test_audit_report_shapes():
    class Entry:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    class Report:
        entries = [Entry(name="Point", kind="class", resolves_from="custom_objects", unsafe=False, path="$.class_name")]

    entries = cli.audit_entries(Report())
    assert entries[0]["name"] == "Point" and entries[0]["unsafe"] is None
    assert not cli.audit_findings(Report())
    assert cli.audit_entries(FAKE_REPORT["entries"])[3]["path"] == "$.config.layers[3].class_name"
    flagged = cli.audit_entries([{"name": "x", "unsafe": True, "reason": "imports a module"}])
    assert flagged[0]["unsafe"] == "imports a module"
    assert cli.format_audit_table([]).splitlines()[-1] == "0 names, 0 unresolved, 0 unsafe"


@pytest.mark.skipif(hasattr(keras_deser, "audit"), reason="keras_deser.audit exists")
def test_audit_unavailable_exit_2(capsys):
    assert cli.main(["audit", cli.EXAMPLE, "--no-keras"]) == 2
    assert "audit is not available in this version" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(keras_deser, "audit"), reason="keras_deser.audit not written yet")
def test_audit_custom_objects(workdir, capsys):
    path = write_json(workdir / "polygon.json", polygon_config("Point", "Nowhere"))
    code = cli.main(["audit", path, "--no-keras", "--custom-objects", "polygons:OBJECTS"])
    out = capsys.readouterr().out
    assert "Nowhere" in out and "PATH" in out
    assert code == 1


# --- helpers ----------------------------------------------------------------


def test_key_paths():
    config = {
        "class_name": "Model",
        "config": {"layers": [{"class_name": "Dense", "config": {"activation": "swishy"}}, {"odd key": "swishy"}]},
    }
    assert cli.key_paths(config, "Dense") == ["$.config.layers[0].class_name"]
    assert cli.key_paths(config, "swishy") == ["$.config.layers[0].config.activation", '$.config.layers[1]["odd key"]']
    assert cli.key_paths(config, "absent") == []
