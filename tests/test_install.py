"""install() / uninstall() / patched() against the real upstream of this environment.

Tests that need a Keras run in every upstream environment of the compat
matrix (conftest imports it first); in the core environments only the
refusals, which need none, run.
"""

import importlib
import sys
import threading
import warnings

import pytest
from _helpers import gc_module_holders, resolve, run_python
from _helpers import legacy_function as _legacy
from conftest import UPSTREAM, needs_upstream

import keras_deser
from keras_deser import _state, installer
from keras_deser.patching import RepatchedWarning


def test_install_refuses_when_no_keras_is_loaded():
    result = run_python(
        """
        import keras_deser
        try:
            keras_deser.install()
        except keras_deser.installer.NotInstallableError as error:
            print("refused:", error)
        """
    )
    assert "refused: no TensorFlow or Keras is loaded" in result.stdout, result.stderr


def test_install_refuses_an_unknown_layout(tmp_path):
    package = tmp_path / "keras"
    (package / "utils").mkdir(parents=True)
    (package / "__init__.py").write_text("from . import utils\n")
    (package / "utils" / "__init__.py").write_text("from .registry import get_custom_objects\n")
    (package / "utils" / "registry.py").write_text("REG = {}\ndef get_custom_objects():\n    return REG\n")
    result = run_python(
        """
        import keras, keras_deser
        try:
            keras_deser.install()
        except keras_deser.installer.NotInstallableError as error:
            print("refused:", error)
        """,
        extra_path=str(tmp_path),
    )
    assert "refused:" in result.stdout, result.stderr
    assert "'keras.utils.registry'" in result.stdout
    assert "install(flavour=" in result.stdout


@needs_upstream
def test_install_reaches_every_alias_and_uninstall_restores_by_identity(clean_install):
    original = _legacy()
    aliases = [a for a in _state.flavour.public_aliases if resolve(a) is original]
    # Every module binding it under its own name (the rule of docs/install.md),
    # also module objects outside sys.modules (TF 1.15 to 2.12), found the slow way.
    name = "deserialize_keras_object"
    modules = list(sys.modules.values()) + gc_module_holders(original)
    holders = [(m, name) for m in modules if getattr(m, "__dict__", {}).get(name) is original]
    assert holders, "the upstream function is bound nowhere?"

    sites = keras_deser.install()
    assert keras_deser.is_installed()
    assert sites and all(":" in site for site in sites)
    assert _legacy() is installer._entry
    for alias in aliases:
        assert resolve(alias) is installer._entry, alias
    for module, key in holders:
        assert module.__dict__[key] is installer._entry, (module.__name__, key)

    restored = keras_deser.uninstall()
    assert len(restored) == len(sites)
    assert not keras_deser.is_installed()
    assert _legacy() is original
    for alias in aliases:
        assert resolve(alias) is original, alias
    for module, key in holders:
        assert module.__dict__[key] is original


@needs_upstream
def test_second_install_changes_nothing(clean_install):
    first = keras_deser.install()
    snapshot = [(site.module, site.attribute) for site in installer._INSTALLED.patches]
    assert keras_deser.install() == first
    assert [(site.module, site.attribute) for site in installer._INSTALLED.patches] == snapshot


@needs_upstream
def test_uninstall_leaves_a_site_someone_else_repatched(clean_install):
    keras_deser.install()
    module = _state.binding.legacy_module
    theirs = lambda *args, **kwargs: "theirs"  # noqa: E731
    site = next(s for s in installer._INSTALLED.patches if s.attribute == "deserialize_keras_object" and s.module.__dict__ is vars(module))
    setattr(site.module, site.attribute, theirs)
    with pytest.warns(RepatchedWarning, match="changed after keras_deser patched it"):
        keras_deser.uninstall()
    assert site.module.__dict__[site.attribute] is theirs
    setattr(site.module, site.attribute, site.original)


@needs_upstream
def test_patched_context_manager(clean_install):
    original = _legacy()
    with keras_deser.patched() as sites:
        assert sites and _legacy() is installer._entry
    assert _legacy() is original and not keras_deser.is_installed()


@needs_upstream
def test_modules_imported_after_install_are_patched(clean_install, tmp_path, monkeypatch):
    original = _legacy()
    # Hidden in a list, so only the module's own namespace will bind it.
    monkeypatch.setattr("builtins._keras_deser_test_carrier", [original], raising=False)
    (tmp_path / "late_binder.py").write_text(
        "import builtins\n"
        "deserialize_keras_object = builtins._keras_deser_test_carrier[0]\n"
        "KEPT = builtins._keras_deser_test_carrier[0]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    keras_deser.install()
    late = importlib.import_module("late_binder")
    try:
        assert late.deserialize_keras_object is installer._entry
        assert late.KEPT is original  # another name: the user's own variable
        keras_deser.uninstall()
        assert late.deserialize_keras_object is original
    finally:
        sys.modules.pop("late_binder", None)


@needs_upstream
def test_same_named_imports_are_patched_renamed_variables_are_not(clean_install, tmp_path, monkeypatch):
    """The rule of docs/install.md: a module attribute is replaced when it
    holds upstream's function under the function's own name; a variable
    holding it under another name is the user's and stays upstream's."""
    original = _legacy()
    public = "tensorflow.keras.utils" if UPSTREAM == "tensorflow" else "keras.utils.legacy"
    if resolve(public.split(".")[0] + ":" + ".".join(public.split(".")[1:] + ["deserialize_keras_object"])) is not original:
        public = _state.binding.legacy_module.__name__
    (tmp_path / "third_party_user.py").write_text(
        f"from {public} import deserialize_keras_object\n"
        f"from {public} import deserialize_keras_object as renamed\n"
        f"import {public} as api\n"
        "_orig = api.deserialize_keras_object\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    user = importlib.import_module("third_party_user")
    try:
        if user.deserialize_keras_object is not original:
            pytest.skip(f"{public}.deserialize_keras_object is not the 4-argument function here")
        keras_deser.install()
        assert user.deserialize_keras_object is installer._entry
        assert user.renamed is original and user._orig is original
        assert "third_party_user:deserialize_keras_object" in keras_deser.installed_sites()
        assert not any(site.startswith("third_party_user:") and not site.endswith(":deserialize_keras_object")
                       for site in keras_deser.installed_sites())
        keras_deser.uninstall()
        assert user.deserialize_keras_object is original
    finally:
        sys.modules.pop("third_party_user", None)


@needs_upstream
def test_upstream_binds_its_functions_under_their_own_names_only():
    """Why the same-name rule patches every upstream binding: in every release
    of the matrix no upstream module (in sys.modules or held by a module
    wrapper) binds the replaced functions under another name, and every
    module the garbage collector knows to bind them is found without it."""
    import gc
    import types

    originals = installer._originals(_state.binding)
    assert originals
    found = {id(m) for m in installer._candidates(_state.binding.hidden_api_modules)}
    for referrer in gc.get_referrers(*originals):
        if not isinstance(referrer, dict):
            continue
        owners = [o for o in gc.get_referrers(referrer) if isinstance(o, types.ModuleType) and o.__dict__ is referrer]
        for owner in owners:
            if owner.__name__.split(".")[0] not in ("tensorflow", "tensorflow_core", "keras", "tf_keras"):
                continue
            assert id(owner) in found, owner.__name__
            for name, value in list(referrer.items()):
                if any(value is original for original in originals):
                    assert name == value.__name__, (owner.__name__, name)


@needs_upstream
def test_concurrent_deserialization_during_install_cycles(clean_install):
    class Probe:
        def __init__(self, value=0):
            self.value = value

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    errors, done = [], threading.Event()

    def worker():
        try:
            while not done.is_set():
                deserialize = vars(_state.binding.legacy_module)["deserialize_keras_object"]
                obj = deserialize({"class_name": "Probe", "config": {"value": 3}}, module_objects={"Probe": Probe})
                assert obj.value == 3
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(10):
            keras_deser.install()
            keras_deser.uninstall()
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert not errors
    assert not keras_deser.is_installed()


@needs_upstream
def test_new_signature_public_name_passes_through(clean_install):
    """From TF 2.13 the public name is (config, custom_objects, safe_mode, **kw)."""
    tf_utils = resolve("tensorflow:keras.utils") or resolve("keras:utils")
    public = getattr(tf_utils, "deserialize_keras_object", None)
    if public is None:
        pytest.skip("this release has no public deserialize_keras_object")
    keras_deser.install()
    still = getattr(tf_utils, "deserialize_keras_object")
    if still is installer._entry:
        assert installer.original_of(still) is public
        return  # the public name is the 4-argument function: replaced, as it should be
    # The new-signature function: a pass-through to upstream's own function.
    assert still.__wrapped__ is public and installer.original_of(still) is public
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert still("relu", safe_mode=True) is public("relu", safe_mode=True)
        assert still("relu", None, True) is public("relu", None, True)
    keras_deser.uninstall()
    assert getattr(tf_utils, "deserialize_keras_object") is public


@needs_upstream
def test_call_count_shows_upstream_routes(clean_install, tmp_path, K):
    keras_deser.install()
    if keras_deser.upstream_info()["flavour"] == "keras-3":
        # Keras 3 reaches the 4-arg function only from its legacy HDF5
        # loader (layers.deserialize uses the new-signature one).
        pytest.importorskip("h5py")
        path = str(tmp_path / "model.h5")
        K.Sequential([K.Input((3,)), K.layers.Dense(2, name="d")]).save(path)
        before = installer.call_count()
        layer = K.models.load_model(path, compile=False).get_layer("d")
    else:
        before = installer.call_count()
        config = {"class_name": "Dense", "config": {"units": 2, "name": "d"}}
        layer = K.layers.deserialize(config)
    assert type(layer).__name__ == "Dense"
    assert installer.call_count() > before


@needs_upstream
def test_untested_release_is_refused_unless_forced(clean_install, monkeypatch):
    source, (lowest, too_new) = _state.flavour.tested
    assert keras_deser.upstream_info()["tested_release"] is True  # every matrix release is tested
    package, attribute = source.split(":")
    monkeypatch.setattr(sys.modules[package], attribute, too_new + ".0")
    try:
        with pytest.raises(keras_deser.NotInstallableError, match="was not tested with .* pass install\\(force=True\\)"):
            keras_deser.install()
        assert not keras_deser.is_installed()
        assert keras_deser.install(force=True)
        assert keras_deser.is_installed()
    finally:
        monkeypatch.undo()
        keras_deser.bind()  # the binding read the faked version: read it again


@needs_upstream
def test_install_with_an_explicit_flavour_and_the_deprecated_string_force(clean_install):
    name = _state.flavour.name
    try:
        assert keras_deser.install(flavour=name)
        assert _state.flavour.name == name and _legacy() is installer._entry
        keras_deser.uninstall()
        with pytest.warns(DeprecationWarning, match=r"install\(flavour="):
            assert keras_deser.install(force=name)
        assert _legacy() is installer._entry
    finally:
        keras_deser.uninstall()
        keras_deser.bind()


@needs_upstream
def test_install_undoes_itself_when_a_public_alias_is_not_reached(clean_install, monkeypatch):
    """install() checks Flavour.public_aliases; one still naming upstream's
    function (simulated: a loaded alias the search cannot see) is refused."""
    original = _legacy()
    hidden = type(sys)("kd_hidden_alias_holder")
    hidden.deserialize_keras_object = original
    carrier = type(sys)("kd_alias_carrier")
    carrier.api = hidden  # reachable by attribute, not in sys.modules
    monkeypatch.setitem(sys.modules, "kd_alias_carrier", carrier)
    row = _state.flavour._replace(public_aliases=_state.flavour.public_aliases + ("kd_alias_carrier:api.deserialize_keras_object",))
    monkeypatch.setattr(_state, "flavour", row)
    real_bind = _state.bind

    def bind(flavour=None):
        binding = real_bind(flavour)
        return binding._replace(flavour=row)

    monkeypatch.setattr(_state, "bind", bind)
    with pytest.raises(keras_deser.NotInstallableError, match="could not reach kd_alias_carrier:api.deserialize_keras_object"):
        keras_deser.install()
    assert not keras_deser.is_installed()
    assert _legacy() is original and hidden.deserialize_keras_object is original
