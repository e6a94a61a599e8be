"""keras_deser and the installed Keras see one registry, one scope, one shared-object scope.

Upstream-facing and generic over releases: everything upstream is reached
through the public API of the release that is loaded (``tf.keras`` when
TensorFlow is, else ``keras`` / ``tf_keras``), and every API a release lacks
is feature-detected (TF 1.15 has no ``register_keras_serializable``,
``get_registered_object`` or ``get_registered_name``; TF 1.15 to 2.4 have no
shared-object scopes).  Where upstream lacks something, what keras_deser
supplies instead is tested.  In the core environments (no upstream) the
module is skipped.

Where each release keeps its registry, scopes and shared objects: the rows
of ``keras_deser/flavours.py`` and docs/compat.md.
"""

import inspect
import threading
import uuid

import pytest
from _helpers import keras_api
from conftest import needs_upstream

import keras_deser

API = keras_api()
pytestmark = [needs_upstream, pytest.mark.skipif(API is None, reason="no upstream Keras loaded (core environment)")]

if API is not None:
    UTILS = API.utils
    #: Upstream's 4-argument ``deserialize_keras_object`` (public alias).
    _legacy_ns = getattr(UTILS, "legacy", None)
    LEGACY = getattr(_legacy_ns, "deserialize_keras_object", None) or UTILS.deserialize_keras_object
    assert "module_objects" in inspect.signature(LEGACY).parameters, LEGACY
    #: Upstream's shared-object loading scope, where the release has one.
    UP_SHARED_LOADING = LEGACY.__globals__.get("SharedObjectLoadingScope")
    UP_REGISTER = getattr(UTILS, "register_keras_serializable", None)
    UP_GET_REGISTERED_OBJECT = getattr(UTILS, "get_registered_object", None)
    UP_GET_REGISTERED_NAME = getattr(UTILS, "get_registered_name", None)
    UP_SCOPE = UTILS.CustomObjectScope


def _uniq(prefix="Kd"):
    return prefix + uuid.uuid4().hex[:10]


def _plain_class(name):
    """A plain serializable class called ``name`` (no Keras base)."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def get_config(self):
        return dict(self.kwargs)

    def from_config(cls, config):
        return cls(**config)

    return type(name, (), {"__init__": __init__, "get_config": get_config, "from_config": classmethod(from_config)})


def _layer_class(name):
    """A real upstream Layer subclass called ``name`` with a ``units`` arg."""

    class _Layer(API.layers.Layer):
        def __init__(self, units=1, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def call(self, inputs):
            return inputs

        def get_config(self):
            config = super().get_config()
            config["units"] = self.units
            return config

    _Layer.__name__ = _Layer.__qualname__ = name
    return _Layer


def _initializer_class(name):
    class _Init(API.initializers.Initializer):
        def __call__(self, shape, dtype=None, **kwargs):
            raise NotImplementedError

        def get_config(self):
            return {}

    _Init.__name__ = _Init.__qualname__ = name
    return _Init


def _config(class_name, **config):
    return {"class_name": class_name, "config": config}


def _upstream_lookup(name):
    """What upstream's own dict path resolves ``name`` to (its 4-arg function)."""
    try:
        return type(LEGACY(_config(name), module_objects={}))
    except ValueError:
        return None


@pytest.fixture
def upstream_registry_restored():
    """Snapshot upstream's registry and put it back after the test."""
    registry = UTILS.get_custom_objects()
    before = dict(registry)
    yield registry
    registry.clear()
    registry.update(before)


# --- upstream -> keras_deser -------------------------------------------------


@pytest.mark.skipif(API is not None and UP_REGISTER is None, reason="release has no register_keras_serializable")
def test_upstream_registration_resolves_in_keras_deser():
    package, name = _uniq("pkg"), _uniq()
    cls = UP_REGISTER(package=package)(_plain_class(name))
    key = package + ">" + name
    assert keras_deser.get_registered_object(key) is cls
    assert keras_deser.get_registered_name(cls) == key
    obj = keras_deser.deserialize_keras_object(_config(key, a=1))
    assert type(obj) is cls and obj.kwargs == {"a": 1}


def test_upstream_get_custom_objects_entry_resolves(upstream_registry_restored):
    name = _uniq()
    cls = _plain_class(name)
    UTILS.get_custom_objects()[name] = cls
    assert keras_deser.get_registered_object(name) is cls
    assert type(keras_deser.deserialize_keras_object(_config(name))) is cls
    assert type(keras_deser.deserialize_keras_object(name, module_objects={})) is cls
    assert keras_deser.get_custom_objects()[name] is cls


def test_upstream_scope_resolves_in_keras_deser():
    name = _uniq()
    cls = _plain_class(name)
    with UP_SCOPE({name: cls}):
        assert keras_deser.get_registered_object(name) is cls
        assert type(keras_deser.deserialize_keras_object(_config(name, b=2))) is cls
        assert type(keras_deser.deserialize_keras_object(name, module_objects={})) is cls
        # Keras 2.9's contract for keras_deser callers, on every release:
        assert name in keras_deser.get_custom_objects()
    assert keras_deser.get_registered_object(name) is None
    assert name not in keras_deser.get_custom_objects()
    with pytest.raises(ValueError):
        keras_deser.deserialize_keras_object(_config(name))


def test_upstream_scope_reaches_from_config_custom_objects():
    name, helper = _uniq(), _uniq("helper")
    seen = {}

    class Takes:
        def __init__(self, **kwargs):
            pass

        @classmethod
        def from_config(cls, config, custom_objects=None):
            seen.update(custom_objects or {})
            return cls(**config)

    marker = object()
    with UP_SCOPE({name: Takes, helper: marker}):
        keras_deser.deserialize_keras_object(_config(name))
    assert seen.get(helper) is marker


# --- keras_deser -> upstream -------------------------------------------------


def test_keras_deser_registration_seen_by_upstream():
    package, name = _uniq("pkg"), _uniq()
    cls = keras_deser.register_keras_serializable(package=package)(_plain_class(name))
    key = package + ">" + name
    assert UTILS.get_custom_objects()[key] is cls
    if UP_GET_REGISTERED_OBJECT is not None:
        assert UP_GET_REGISTERED_OBJECT(key) is cls
    if UP_GET_REGISTERED_NAME is not None:
        assert UP_GET_REGISTERED_NAME(cls) == key
    assert keras_deser.get_registered_name(cls) == key
    obj = LEGACY(_config(key, a=1), module_objects={})
    assert type(obj) is cls and obj.kwargs == {"a": 1}


def test_keras_deser_scope_seen_by_upstream():
    name = _uniq()
    cls = _plain_class(name)
    with keras_deser.CustomObjectScope({name: cls}):
        assert _upstream_lookup(name) is cls
        if UP_GET_REGISTERED_OBJECT is not None:
            assert UP_GET_REGISTERED_OBJECT(name) is cls
    assert _upstream_lookup(name) is None
    if UP_GET_REGISTERED_OBJECT is not None:
        assert UP_GET_REGISTERED_OBJECT(name) is None


def test_keras_deser_scope_seen_by_upstream_layers_deserialize():
    name = _uniq("Layer")
    cls = _layer_class(name)
    config = cls(units=3, name=_uniq("l").lower()).get_config()
    with keras_deser.CustomObjectScope({name: cls}):
        layer = API.layers.deserialize({"class_name": name, "config": dict(config)})
    assert type(layer) is cls and layer.units == 3


def test_keras_deser_scope_seen_by_upstream_initializers_get():
    name = _uniq("Init")
    cls = _initializer_class(name)
    with keras_deser.CustomObjectScope({name: cls}):
        assert type(API.initializers.get(name)) is cls
    with pytest.raises(ValueError):
        API.initializers.get(name)


def _sequential_json(layer):
    model = API.models.Sequential([layer])
    return model.to_json()


def test_keras_deser_scope_seen_by_upstream_model_from_json():
    name = _uniq("Layer")
    cls = _layer_class(name)
    text = _sequential_json(cls(units=4))
    with keras_deser.CustomObjectScope({name: cls}):
        model = API.models.model_from_json(text)
    assert type(model.layers[-1]) is cls and model.layers[-1].units == 4


def test_keras_deser_registration_seen_by_upstream_model_from_json():
    package, name = _uniq("pkg"), _uniq("Layer")
    cls = keras_deser.register_keras_serializable(package=package)(_layer_class(name))
    text = _sequential_json(cls(units=5))
    key = package + ">" + name
    if key not in text:
        # TF 1.15 serializes by bare class name (no registered names upstream).
        assert UP_GET_REGISTERED_NAME is None
        pytest.skip("upstream serializes layers by bare class name; registration keys are not written")
    model = API.models.model_from_json(text)
    assert type(model.layers[-1]) is cls and model.layers[-1].units == 5


# --- scopes: restoration, nesting, mixing, threads ---------------------------


def test_registry_as_before_after_scopes():
    registry = UTILS.get_custom_objects()
    before = dict(registry)
    outer, inner, shadow = _uniq(), _uniq(), next(iter(before), None)
    with keras_deser.CustomObjectScope({outer: _plain_class(outer)}):
        with pytest.raises(RuntimeError):
            with keras_deser.CustomObjectScope({inner: _plain_class(inner)}, {outer: _plain_class(outer)}):
                if shadow is not None:
                    with keras_deser.CustomObjectScope({shadow: object()}):
                        raise RuntimeError("boom")
                raise RuntimeError("boom")
    assert UTILS.get_custom_objects() is registry
    assert dict(registry) == before
    assert _upstream_lookup(outer) is None and _upstream_lookup(inner) is None
    if shadow is not None:
        assert keras_deser.get_custom_objects()[shadow] is before[shadow]
    assert keras_deser._state.store.active() == {}


def test_nested_keras_deser_scopes_keep_outer_entries():
    """Keras 2.9 nesting on every release (Keras 3's own scopes hide the outer one)."""
    a, b = _uniq(), _uniq()
    ca, cb = _plain_class(a), _plain_class(b)
    with keras_deser.CustomObjectScope({a: ca}):
        with keras_deser.CustomObjectScope({b: cb}):
            assert keras_deser.get_registered_object(a) is ca
            assert keras_deser.get_registered_object(b) is cb
            assert _upstream_lookup(a) is ca and _upstream_lookup(b) is cb
        assert keras_deser.get_registered_object(b) is None
        assert _upstream_lookup(a) is ca and _upstream_lookup(b) is None
    assert keras_deser.get_registered_object(a) is None


def test_several_dicts_later_wins_on_every_release():
    name = _uniq()
    first, second = _plain_class(name), _plain_class(name)
    with keras_deser.CustomObjectScope({name: first}, {name: second}):
        assert _upstream_lookup(name) is second
        assert keras_deser.get_registered_object(name) is second


def test_upstream_scope_inside_keras_deser_scope():
    a, b = _uniq(), _uniq()
    ca, cb = _plain_class(a), _plain_class(b)
    with keras_deser.CustomObjectScope({a: ca}):
        with UP_SCOPE({b: cb}):
            assert keras_deser.get_registered_object(b) is cb
            assert _upstream_lookup(b) is cb
        # Leaving upstream's scope puts keras_deser's outer scope back.
        assert keras_deser.get_registered_object(a) is ca
        assert _upstream_lookup(a) is ca
        assert keras_deser.get_registered_object(b) is None
    assert keras_deser.get_registered_object(a) is None and _upstream_lookup(a) is None


def test_keras_deser_scope_inside_upstream_scope():
    a, b = _uniq(), _uniq()
    ca, cb = _plain_class(a), _plain_class(b)
    with UP_SCOPE({a: ca}):
        with keras_deser.CustomObjectScope({b: cb}):
            for lookup in (keras_deser.get_registered_object, _upstream_lookup):
                assert lookup(a) is ca and lookup(b) is cb
        assert _upstream_lookup(a) is ca and _upstream_lookup(b) is None
        assert keras_deser.get_registered_object(a) is ca
    assert _upstream_lookup(a) is None and keras_deser.get_registered_object(a) is None


def _seen_in_other_thread(name):
    result = {}

    def probe():
        result["keras_deser"] = keras_deser.get_registered_object(name)
        result["upstream"] = _upstream_lookup(name)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return result


def test_scope_thread_visibility_matches_upstream():
    name = _uniq()
    cls = _plain_class(name)
    with UP_SCOPE({name: cls}):
        upstream_shared = _seen_in_other_thread(name)
    with keras_deser.CustomObjectScope({name: cls}):
        ours = _seen_in_other_thread(name)
    expected = cls if keras_deser.upstream_info()["scopes"]["kind"] == "global" else None
    assert upstream_shared == {"keras_deser": expected, "upstream": expected}
    # keras_deser's own scopes: in the registry for upstream's code (<= 2.9),
    # but not in keras_deser's lookups from another thread (deviation D9).
    assert ours == {"keras_deser": None, "upstream": expected}


# --- get_custom_objects() contract ------------------------------------------


def test_get_custom_objects_shows_scope_entries_like_keras_29():
    name = _uniq()
    cls = _plain_class(name)
    view = keras_deser.get_custom_objects()
    assert isinstance(view, dict)
    with keras_deser.CustomObjectScope({name: cls}):
        live = keras_deser.get_custom_objects()
        assert name in live and live[name] is cls and live.get(name) is cls
        assert dict(live)[name] is cls and {**live}[name] is cls and live.copy()[name] is cls
        assert name in list(live) and name in live.keys() and (name, cls) in live.items()
        assert name in view  # an object taken before the scope is live too
    assert name not in view and name not in keras_deser.get_custom_objects()


def test_get_custom_objects_per_scope_store():
    name = _uniq()
    cls = _plain_class(name)
    kind = keras_deser.upstream_info()["scopes"]["kind"]
    with keras_deser.CustomObjectScope({name: cls}):
        upstream_shows = name in UTILS.get_custom_objects()
    if kind == "global":
        # <= 2.9: one dict, scopes written into it, as upstream does itself.
        assert keras_deser.get_custom_objects() is UTILS.get_custom_objects()
        assert upstream_shows
    else:
        # 2.10+, tf_keras, Keras 3: scopes live apart; upstream's own
        # get_custom_objects() keeps its behaviour (no scope entries).
        assert keras_deser.get_custom_objects() is not UTILS.get_custom_objects()
        assert not upstream_shows


def test_get_custom_objects_writes_go_to_upstream_registry(upstream_registry_restored):
    name = _uniq()
    cls = _plain_class(name)
    keras_deser.get_custom_objects()[name] = cls
    assert UTILS.get_custom_objects()[name] is cls
    assert _upstream_lookup(name) is cls
    del keras_deser.get_custom_objects()[name]
    assert name not in UTILS.get_custom_objects()
    keras_deser.get_custom_objects().update({name: cls})
    assert UTILS.get_custom_objects()[name] is cls
    assert keras_deser.get_custom_objects().pop(name) is cls
    assert name not in UTILS.get_custom_objects()


def test_get_custom_objects_write_to_scoped_name_ends_with_scope():
    """As on Keras 2.9's single dict: changing a scoped name lasts as long as the scope."""
    name = _uniq()
    cls, other = _plain_class(name), _plain_class(name)
    with keras_deser.CustomObjectScope({name: cls}):
        keras_deser.get_custom_objects()[name] = other
        assert keras_deser.get_registered_object(name) is other
        assert _upstream_lookup(name) is other
    assert keras_deser.get_registered_object(name) is None and _upstream_lookup(name) is None
    assert name not in UTILS.get_custom_objects()
    assert keras_deser.get_custom_objects() is keras_deser.get_custom_objects()


# --- shared objects ----------------------------------------------------------


def _shared_config(name, object_id=7):
    config = _config(name)
    config["shared_object_id"] = object_id
    return config


def test_shared_objects_native_iff_upstream_has_them():
    info = keras_deser.upstream_info()
    assert info["shared_objects"] == ("native" if UP_SHARED_LOADING is not None else "supplied")


@pytest.mark.skipif(API is not None and UP_SHARED_LOADING is None, reason="release has no SharedObjectLoadingScope")
def test_upstream_loading_scope_honoured_by_keras_deser():
    name = _uniq()
    cls = _plain_class(name)
    with UP_SHARED_LOADING():
        first = keras_deser.deserialize_keras_object(_shared_config(name), custom_objects={name: cls})
        again = keras_deser.deserialize_keras_object(_shared_config(name), custom_objects={name: cls})
        assert first is again
        # and what keras_deser loaded is what upstream's function returns
        assert LEGACY(_shared_config(name), module_objects={}, custom_objects={name: cls}) is first
    outside = keras_deser.deserialize_keras_object(_shared_config(name), custom_objects={name: cls})
    assert outside is not first


@pytest.mark.skipif(API is not None and UP_SHARED_LOADING is None, reason="release has no SharedObjectLoadingScope")
def test_keras_deser_loading_scope_honoured_by_upstream():
    name = _uniq()
    cls = _plain_class(name)
    with keras_deser.SharedObjectLoadingScope():
        first = LEGACY(_shared_config(name), module_objects={}, custom_objects={name: cls})
        assert LEGACY(_shared_config(name), module_objects={}, custom_objects={name: cls}) is first
        assert keras_deser.deserialize_keras_object(_shared_config(name), custom_objects={name: cls}) is first
    assert LEGACY(_shared_config(name), module_objects={}, custom_objects={name: cls}) is not first


def test_supplied_loading_scope_where_upstream_has_none():
    """TF 1.15 - 2.4: keras_deser's own scope gives keras_deser callers 2.9's sharing."""
    name = _uniq()
    cls = _plain_class(name)
    with keras_deser.SharedObjectLoadingScope():
        first = keras_deser.deserialize_keras_object(_shared_config(name), custom_objects={name: cls})
        assert keras_deser.deserialize_keras_object(_shared_config(name), custom_objects={name: cls}) is first
    assert keras_deser.deserialize_keras_object(_shared_config(name), custom_objects={name: cls}) is not first


def test_supplied_registered_names_where_upstream_has_none():
    package, name = _uniq("pkg"), _uniq()
    cls = keras_deser.register_keras_serializable(package=package)(_plain_class(name))
    key = package + ">" + name
    assert keras_deser.get_registered_name(cls) == key
    assert keras_deser.serialize_keras_object(cls(a=1))["class_name"] == key
    info = keras_deser.upstream_info()
    assert info["registered_names"] == ("native" if UP_GET_REGISTERED_NAME is not None else "supplied")
