"""Detection of the live Keras and what keras_deser binds to.

Runs in every environment of the compat matrix.  ``KERAS_DESER_UPSTREAM``
(the package imported first) and ``KERAS_DESER_EXPECT`` (the flavour that
must be detected) come from ``compat/run.py``; without them (a plain
``pytest`` run) the upstream-facing checks skip.  What is expected of the
binding is measured from the installed release's public API, not read back
from the flavour table.
"""

import copy
import json
import pickle
import sys
import threading

import pytest
from _helpers import keras_api as _api
from _helpers import run_python
from conftest import EXPECT, UPSTREAM, needs_upstream

import keras_deser
from keras_deser import flavours
from keras_deser.scopes import STORES, GlobalStateStore, ThreadLocalStore

HEAVY = ("tensorflow", "tensorflow_core", "tf_keras", "keras", "jax", "numpy")


def _run(code):
    """Run ``code`` in a fresh interpreter (same environment); return stdout lines."""
    return run_python(code, check=True)


# --- no import-time work ------------------------------------------------------


def test_import_keras_deser_loads_no_upstream_even_when_installed():
    out = _run(
        "import sys, keras_deser, keras_deser._state as s\n"
        "print(s.is_bound())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(%r)))\n" % (HEAVY,)
    )
    assert out == ["False", "[]"]


def test_flavour_table_is_well_formed():
    names = [row.name for row in flavours.FLAVOURS]
    assert len(set(names)) == len(names) and "standalone" not in names
    for row in flavours.FLAVOURS:
        assert row.scope_store in STORES
        assert (row.scope_store == "global") == (row.scope_location is None), row.name
        assert row.legacy_module and row.keras_version and ":" in row.keras_version, row.name
        assert row.shared_objects in ("native", "supplied", "native-if-present"), row.name
        assert row.hidden_api_modules is None or row.hidden_api_modules.isidentifier(), row.name
        assert all(module.split(".")[0] == row.registry_module.split(".")[0] for module in row.new_signature_modules)
        assert all(":" in alias for alias in row.public_aliases), row.name
    # rows sharing a module must be told apart by `requires` or `registry`
    seen = {}
    for row in flavours.FLAVOURS:
        key = (row.registry_module, row.registry, row.requires)
        assert key not in seen, (row.name, seen.get(key))
        seen[key] = row.name


@needs_upstream
def test_detects_expected_flavour_in_fresh_process_keras_deser_first():
    out = _run(
        "import keras_deser, keras_deser._state as s, sys\n"
        "print(s.is_bound())\n"
        "import %s\n"
        "print(keras_deser.upstream_info()['flavour'])\n" % UPSTREAM
    )
    assert out == ["False", EXPECT]


@needs_upstream
def test_detects_expected_flavour_in_fresh_process_upstream_first():
    out = _run("import %s, keras_deser\nprint(keras_deser.upstream_info()['flavour'])\n" % UPSTREAM)
    assert out == [EXPECT]


@needs_upstream
def test_rebinding_after_upstream_import_adopts_earlier_registrations():
    """Registrations made while standalone are carried into upstream's registry."""
    out = _run(
        "import keras_deser\n"
        "class A:\n"
        "    def get_config(self): return {}\n"
        "print(keras_deser.upstream_info()['flavour'])\n"
        "keras_deser.register_keras_serializable('early')(A)\n"
        "import %s\n"
        "print(keras_deser.bind()['flavour'])\n"
        "import keras_deser._state as s\n"
        "print(s.registry.get('early>A') is A, keras_deser.get_registered_name(A))\n" % UPSTREAM
    )
    assert out == ["standalone", EXPECT, "True early>A"]


# --- no second copy of any module (TF 1.15's trap) --------------------------

_DUPLICATES = r"""
import collections, sys

def duplicates():
    # vars() does not trigger TF's lazy loaders (getattr on them would).
    by_file = collections.defaultdict(set)
    for name, module in list(sys.modules.items()):
        try:
            path = vars(module).get("__file__")
        except TypeError:
            continue
        if path:
            by_file[path].add(id(module))
    return {path for path, ids in by_file.items() if len(ids) > 1}
"""


@needs_upstream
def test_binding_builds_no_second_module_copy():
    out = _run(
        _DUPLICATES
        + "import importlib, os\n"
        "up = importlib.import_module(%r)\n"
        "api = up.keras if %r == 'tensorflow' else up\n"
        "api.utils.get_custom_objects  # let upstream finish its own lazy loading\n"
        "before = duplicates()\n"
        "import keras_deser\n"
        "keras_deser.upstream_info()\n"
        "class A:\n"
        "    def get_config(self): return {}\n"
        "    @classmethod\n"
        "    def from_config(cls, config): return cls()\n"
        "keras_deser.register_keras_serializable('dup')(A)\n"
        "with keras_deser.CustomObjectScope({'A': A}), keras_deser.SharedObjectLoadingScope():\n"
        "    keras_deser.deserialize_keras_object({'class_name': 'A', 'config': {}, 'shared_object_id': 1})\n"
        "keras_deser.bind(%r)  # forced by name\n"
        "keras_deser.get_custom_objects()\n"
        "print(sorted(duplicates() - before))\n"
        "print(sorted(m for m in sys.modules if m.startswith('tensorflow_core.python.keras.utils.generic_utils')))\n"
        % (UPSTREAM, UPSTREAM, EXPECT)
    )
    assert out == ["[]", "[]"]


@needs_upstream
def test_forced_binding_uses_the_live_registry():
    out = _run(
        "import %s, keras_deser, keras_deser._state as s\n"
        "detected = keras_deser.bind()\n"
        "registry = s.registry\n"
        "forced = keras_deser.bind(detected['flavour'])\n"
        "print(forced == detected, s.registry is registry)\n" % UPSTREAM
    )
    assert out == ["True True"]


# --- upstream_info() --------------------------------------------------------


def test_upstream_info_keys():
    info = keras_deser.upstream_info()
    assert set(info) >= {
        "flavour", "releases", "tensorflow_version", "keras_version", "registry",
        "scopes", "shared_objects", "registered_names", "legacy_module",
    }
    assert info["shared_objects"] in ("native", "supplied")
    assert info["registered_names"] in ("native", "supplied")
    assert info["scopes"]["kind"] in STORES


@pytest.mark.skipif(bool(UPSTREAM), reason="core environment only")
def test_upstream_info_standalone():
    info = keras_deser.upstream_info()
    assert info["flavour"] == "standalone"
    assert info["registry"] == "keras_deser (own)"
    assert info["tensorflow_version"] is None and info["keras_version"] is None
    assert info["shared_objects"] == "supplied" and info["registered_names"] == "supplied"
    assert info["scopes"]["kind"] == "global"


@needs_upstream
def test_upstream_info_versions():
    info = keras_deser.upstream_info()
    assert info["flavour"] == EXPECT
    api = _api()
    tf = sys.modules.get("tensorflow")
    assert info["tensorflow_version"] == (tf.__version__ if tf is not None else None)
    # The Keras actually serving the API: its own package, or TensorFlow's
    # bundled copy (TF 1.15 - 2.5, no keras package) reporting tf.keras.__version__.
    package = api.utils.get_custom_objects.__module__.split(".")[0]
    if package == "tensorflow":
        expected = api.__version__
    else:
        expected = sys.modules[package].__version__
    assert info["keras_version"] == expected
    assert info["keras_version"] != info["tensorflow_version"] or package != "tensorflow"


@needs_upstream
def test_upstream_info_locations_are_upstreams():
    import keras_deser._state as state

    info = keras_deser.upstream_info()
    utils = _api().utils
    upstream_get = utils.get_custom_objects
    assert info["registry"].split(":")[0] == upstream_get.__module__
    assert state.registry is upstream_get()
    legacy = getattr(getattr(utils, "legacy", None), "deserialize_keras_object", None) or utils.deserialize_keras_object
    assert info["legacy_module"] == legacy.__module__
    native_shared = "SharedObjectLoadingScope" in legacy.__globals__
    assert info["shared_objects"] == ("native" if native_shared else "supplied")
    assert info["registered_names"] == ("native" if hasattr(utils, "get_registered_name") else "supplied")


def _measured_scope_kind(utils):
    """How upstream's own CustomObjectScope stores entries, by behaviour."""
    with utils.CustomObjectScope({"kd_probe_outer": object}):
        if "kd_probe_outer" in utils.get_custom_objects():
            return "global"
        with utils.CustomObjectScope({"kd_probe_inner": object}):
            outer_hidden = utils.get_registered_object("kd_probe_outer") is None
        return "global_state" if outer_hidden else "thread_local"


@needs_upstream
def test_scope_store_kind_matches_upstream_behaviour():
    info = keras_deser.upstream_info()
    assert info["scopes"]["kind"] == _measured_scope_kind(_api().utils)


# --- scope stores, also without upstream -------------------------------------


class _FakeGlobalState:
    """Keras 3's global_state API over a threading.local."""

    def __init__(self):
        self.local = threading.local()

    def get_global_attribute(self, name, default=None):
        return getattr(self.local, name, default)

    def set_global_attribute(self, name, value):
        setattr(self.local, name, value)


def _stores():
    registry = {"reg": 1}
    yield ThreadLocalStore(registry, threading.local())
    yield GlobalStateStore({"reg": 1}, _FakeGlobalState(), "custom_objects_scope_dict")


@pytest.mark.parametrize("store", list(_stores()), ids=["thread_local", "global_state"])
def test_scoped_registry_view_keeps_29_contract(store):
    view = store.visible()
    assert isinstance(view, dict)
    token = store.enter([{"a": "A"}, {"reg": "shadow"}])
    try:
        assert view["a"] == "A" and view["reg"] == "shadow" and "a" in view
        assert dict(view) == {"reg": "shadow", "a": "A"} == {**view} == view.copy()
        assert sorted(view) == ["a", "reg"] and len(view) == 2 and view == {"a": "A", "reg": "shadow"}
        inner = store.enter([{"b": "B"}])
        assert view["a"] == "A" and view["b"] == "B"
        store.exit(inner)
        assert "b" not in view
        seen = {}
        thread = threading.Thread(target=lambda: seen.update(a="a" in view, reg=view.get("reg")))
        thread.start()
        thread.join()
        assert seen == {"a": False, "reg": 1}
        view["new"] = "N"  # writes go to the registry
        assert store.registry["new"] == "N"
    finally:
        store.exit(token)
    assert "a" not in view and view["reg"] == 1 and store.registry == {"reg": 1, "new": "N"}
    token = store.enter([{"s": "S"}])
    try:
        assert view != {} and not (view != dict(view)) and view.setdefault("s", "other") == "S"
        assert copy.copy(view) == copy.deepcopy(view) == pickle.loads(pickle.dumps(view)) == dict(view)
        assert type(copy.copy(view)) is dict and type(pickle.loads(pickle.dumps(view))) is dict
        assert json.loads(json.dumps(view))["s"] == "S" and list(reversed(view)) == list(reversed(list(view)))
        if sys.version_info >= (3, 9):
            assert (view | {"x": 1})["s"] == "S" and ({"s": 0} | view)["s"] == "S"
    finally:
        store.exit(token)
    assert "s" not in store.registry
    assert store.active() == {}
    # One view per store, as Keras 2.9 returns one dict.
    assert store.visible() is view
    # Writes to a name the scope holds act on the scope (undone on exit, as
    # in Keras 2.9's single dict); other names go to the registry.
    token = store.enter([{"t": "T", "u": "U"}])
    try:
        view["t"] = "T2"
        assert view["t"] == "T2" and "t" not in store.registry
        assert view.pop("u") == "U" and "u" not in view
        view.update({"t": "T3", "w": "W"})
        assert view["t"] == "T3" and store.registry["w"] == "W"
    finally:
        store.exit(token)
    assert "t" not in view and "u" not in view and view.pop("w") == "W"
    assert store.registry == {"reg": 1, "new": "N"} and store.active() == {}
    del view["new"]
    assert store.registry == {"reg": 1}


@pytest.mark.parametrize("store", list(_stores()), ids=["thread_local", "global_state"])
def test_scopes_left_out_of_order_restore_their_own_names(store):
    outer = store.enter([{"a": 1}])
    inner = store.enter([{"b": 2}])
    store.exit(outer)
    assert store.lookup("a") is None and store.lookup("b") == 2
    store.exit(inner)
    assert store.lookup("b") is None and store.active() == {}


@needs_upstream
def test_new_signature_functions_column_matches_what_the_release_has():
    """The row's ``new_signature_modules`` name exactly the loaded functions
    of the bound package that take ``safe_mode`` (the probe the column
    replaced, run here against the real release)."""
    from keras_deser import _state

    binding = _state.bind()
    package = binding.flavour.registry_module.split(".")[0]
    probed = {}
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] != package:
            continue
        function = getattr(module, "__dict__", {}).get("deserialize_keras_object")
        if function is None or getattr(function, "__keras_deser__", False):
            continue
        code = getattr(function, "__code__", None)
        if code is not None and "safe_mode" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
            probed[id(function)] = function
    assert {id(f) for f in binding.new_signature_functions} == set(probed), [f.__module__ for f in probed.values()]
