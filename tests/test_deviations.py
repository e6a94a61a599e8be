"""Pins for every intended difference from Keras 2.9 (``docs/deviations.md``).

Each test states keras_deser's documented behaviour where it differs from
Keras 2.9.0; the battery (``tests/test_battery.py``) checks the same cases
against Keras 2.9's recorded outcomes, which show the other side.
"""

import threading

import pytest

import keras_deser as kd
from keras_deser import _state


class Layer:
    def __init__(self, config=None):
        self.config = config

    def get_config(self):
        return self.config

    @classmethod
    def from_config(cls, config):
        return cls(config)


@pytest.fixture
def registry():
    """The live registry; every test leaves it as it found it."""
    live = kd.get_custom_objects()
    names = _state.names
    before, before_names = dict(live), dict(names)
    yield live
    live.clear()
    live.update(before)
    names.clear()
    names.update(before_names)


# D1 ------------------------------------------------------------------------


def test_d1_registration_inside_scope_survives_exit(registry):
    class DevLayer(Layer):
        pass

    with kd.CustomObjectScope({"dev_scoped": 1}):
        kd.register_keras_serializable("Dev")(DevLayer)
        registry["dev_direct"] = 2
    assert "dev_scoped" not in registry  # the scope's own key is gone
    assert registry["Dev>DevLayer"] is DevLayer  # Keras 2.9: discarded
    assert registry["dev_direct"] == 2  # Keras 2.9: discarded
    assert kd.get_registered_object("Dev>DevLayer") is DevLayer
    obj = kd.deserialize_keras_object({"class_name": "Dev>DevLayer", "config": {"a": 1}})
    assert isinstance(obj, DevLayer) and obj.config == {"a": 1}
    with pytest.raises(ValueError, match=r"^Dev>DevLayer has already been registered to "):
        kd.register_keras_serializable("Dev")(DevLayer)


def test_d1_changes_to_other_keys_are_not_undone(registry):
    registry["dev_existing"] = 1
    registry["dev_changed"] = 1
    with kd.CustomObjectScope({"dev_scoped": 2}):
        del registry["dev_existing"]
        registry["dev_changed"] = 3
    assert "dev_existing" not in registry  # Keras 2.9: restored
    assert registry["dev_changed"] == 3  # Keras 2.9: back to 1


def test_d1_scope_still_restores_the_keys_it_set(registry):
    registry["dev_key"] = "registered"
    with kd.CustomObjectScope({"dev_key": "scoped", "dev_new": 1}):
        registry["dev_key"] = "changed inside"
    assert registry["dev_key"] == "registered"
    assert "dev_new" not in registry


def test_d1_out_of_order_exit_leaves_nothing_behind(registry):
    outer, inner = kd.CustomObjectScope({"dev_a": 1}), kd.CustomObjectScope({"dev_b": 2})
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)
    assert "dev_a" not in registry and registry["dev_b"] == 2
    inner.__exit__(None, None, None)
    assert "dev_a" not in registry and "dev_b" not in registry  # Keras 2.9: dev_a stays


def test_d1_registration_by_from_config_survives(registry):
    class DevRegistering(Layer):
        @classmethod
        def from_config(cls, config):
            kd.get_custom_objects()["dev_late"] = 1
            return cls(config)

    kd.deserialize_keras_object(
        {"class_name": "DevRegistering", "config": {}},
        module_objects={"DevRegistering": DevRegistering},
        custom_objects={"dev_c": 1},
    )
    assert registry.get("dev_late") == 1
    assert "dev_c" not in registry


# D2 ------------------------------------------------------------------------


def test_d2_invalid_dict_applies_nothing(registry):
    scope = kd.CustomObjectScope({"dev_first": 1}, None, {"dev_third": 3})
    with pytest.raises(TypeError, match="'NoneType' object is not iterable"):
        scope.__enter__()
    assert "dev_first" not in registry  # Keras 2.9: stays forever
    assert "dev_third" not in registry


def test_d2_valid_dicts_all_apply_later_wins(registry):
    with kd.CustomObjectScope({"dev_a": 1, "dev_b": 1}, {"dev_b": 2}):
        assert (registry["dev_a"], registry["dev_b"]) == (1, 2)
    assert "dev_a" not in registry and "dev_b" not in registry


# D3 ------------------------------------------------------------------------


@pytest.mark.parametrize("custom_objects", [None, {}])
def test_d3_no_scope_for_empty_custom_objects(registry, custom_objects):
    class DevLate(Layer):
        pass

    class DevRegistering(Layer):
        @classmethod
        def from_config(cls, config):
            kd.register_keras_serializable("Dev")(DevLate)
            return cls(config)

    kd.deserialize_keras_object(
        {"class_name": "DevRegistering", "config": {}},
        module_objects={"DevRegistering": DevRegistering},
        custom_objects=custom_objects,
    )
    assert registry["Dev>DevLate"] is DevLate  # Keras 2.9: discarded by CustomObjectScope({})
    assert kd.get_registered_name(DevLate) == "Dev>DevLate"


# D4 ------------------------------------------------------------------------


class WriteLog(dict):
    def __init__(self, *args, **kwargs):
        dict.__init__(self, *args, **kwargs)
        self.writes = []

    def __setitem__(self, key, value):
        self.writes.append(key)
        dict.__setitem__(self, key, value)


def dev_fn(x=None):
    return x


def test_d4_name_is_not_written_back():
    inner = WriteLog(name="dev_fn", activation="dev_fn", units=3)
    kd.deserialize_keras_object(
        {"class_name": "Layer", "config": inner},
        module_objects={"Layer": Layer},
        custom_objects={"dev_fn": dev_fn},
    )
    assert inner.writes == ["activation"]  # Keras 2.9: ["name", "activation"]
    assert inner == {"name": "dev_fn", "activation": dev_fn, "units": 3}


def test_d4_plain_dict_result_is_identical():
    inner = {"name": "dev_fn", "activation": "dev_fn", "units": 3}
    kd.deserialize_keras_object(
        {"class_name": "Layer", "config": inner}, module_objects={"Layer": Layer}, custom_objects={"dev_fn": dev_fn}
    )
    assert list(inner) == ["name", "activation", "units"]
    assert inner["name"] == "dev_fn" and inner["activation"] is dev_fn


# D5 ------------------------------------------------------------------------


class GetLog(dict):
    def __init__(self, *args, **kwargs):
        dict.__init__(self, *args, **kwargs)
        self.gets = []

    def get(self, key, default=None):
        self.gets.append(key)
        return dict.get(self, key, default)


def _in_fresh_thread(fn):
    out = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as exc:  # pragma: no cover - reported below
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_d5_id_not_read_in_a_thread_without_loading_scopes():
    def run():
        ident = GetLog(class_name="Layer", config={}, shared_object_id=1)
        kd.deserialize_keras_object(ident, module_objects={"Layer": Layer})
        first = list(ident.gets)
        with kd.SharedObjectLoadingScope():
            pass
        ident = GetLog(class_name="Layer", config={}, shared_object_id=1)
        kd.deserialize_keras_object(ident, module_objects={"Layer": Layer})
        return first, ident.gets

    before_any_scope, after_a_scope = _in_fresh_thread(run)
    assert before_any_scope == []  # Keras 2.9: ["shared_object_id"]
    assert after_a_scope == ["shared_object_id"]  # as Keras 2.9


def test_d5_sharing_in_a_fresh_thread_still_works():
    def run():
        with kd.SharedObjectLoadingScope():
            a = kd.deserialize_keras_object(
                {"class_name": "Layer", "config": {}, "shared_object_id": 1}, module_objects={"Layer": Layer})
            b = kd.deserialize_keras_object(
                {"class_name": "Layer", "config": {}, "shared_object_id": 1}, module_objects={"Layer": Layer})
        return a is b

    assert _in_fresh_thread(run)


# D6 ------------------------------------------------------------------------


def test_d6_signature_decision_is_cached_per_function():
    received = []

    class DevSwap(Layer):
        @classmethod
        def from_config(cls, config, **kwargs):
            received.append(kwargs)
            return cls(config)

    def with_custom_objects(cls, config, custom_objects=None):
        received.append({"custom_objects": custom_objects is not None})
        return cls(config)

    ident = {"class_name": "DevSwap", "config": {}}
    kd.deserialize_keras_object(dict(ident), module_objects={"DevSwap": DevSwap})
    assert received == [{}]
    DevSwap.from_config.__func__.__code__ = with_custom_objects.__code__
    DevSwap.from_config.__func__.__defaults__ = (None,)
    kd.deserialize_keras_object(dict(ident), module_objects={"DevSwap": DevSwap})
    # Keras 2.9 re-inspects and passes custom_objects=...; the cached decision
    # (no custom_objects parameter) stands.
    assert received == [{}, {"custom_objects": False}]


def test_d6_from_config_attribute_read_once():
    reads = []

    class Meta(type):
        def __getattribute__(cls, name):
            if name == "from_config":
                reads.append(name)
            return type.__getattribute__(cls, name)

    DevMeta = Meta("DevMeta", (Layer,), {})
    kd.deserialize_keras_object({"class_name": "DevMeta", "config": {}}, module_objects={"DevMeta": DevMeta})
    assert reads == ["from_config"]  # Keras 2.9: hasattr + getfullargspec + call = 3


# D7 ------------------------------------------------------------------------


def test_d7_reentered_scope_instance_restores_exactly(registry):
    scope = kd.CustomObjectScope({"d7_a": 1})
    with scope:
        with scope:
            assert kd.get_registered_object("d7_a") == 1
        assert kd.get_registered_object("d7_a") == 1
    assert "d7_a" not in registry
    assert kd.get_registered_object("d7_a") is None


# D8 ------------------------------------------------------------------------


def _nested(depth):
    root = {"class_name": "Layer", "config": {}}
    node = root
    for _ in range(depth):
        child = {"class_name": "Layer", "config": {}, "__passive_serialization__": True}
        node["config"]["inner"] = child
        node = child
    return root


def test_d8_deep_nesting_raises_config_too_deep():
    with pytest.raises(kd.ConfigTooDeepError) as caught:
        kd.deserialize_keras_object(_nested(10000), module_objects={"Layer": Layer})
    assert isinstance(caught.value, ValueError)
    assert not isinstance(caught.value, RecursionError)
    assert "recursion limit" in str(caught.value)


def test_d8_self_referencing_config_raises_config_too_deep():
    config = {"class_name": "Layer", "config": {}, "__passive_serialization__": True}
    config["config"]["me"] = config
    with pytest.raises(kd.ConfigTooDeepError):
        kd.deserialize_keras_object({"class_name": "Layer", "config": {"x": config}}, module_objects={"Layer": Layer})


def test_d8_shallow_nesting_still_works():
    obj = kd.deserialize_keras_object(_nested(50), module_objects={"Layer": Layer})
    depth = 0
    while "inner" in obj.config:
        obj, depth = obj.config["inner"], depth + 1
    assert depth == 50


# D9 ------------------------------------------------------------------------


global_store = pytest.mark.skipif(
    kd.upstream_info()["scopes"]["kind"] != "global",
    reason="D9 is about the Keras <= 2.9 layout; later layouts keep scopes per thread themselves",
)


@global_store
def test_d9_another_threads_scope_is_in_the_registry_but_not_in_our_lookups(registry):
    entered, release, seen = threading.Event(), threading.Event(), {}

    def other():
        with kd.CustomObjectScope({"d9_key": "theirs"}):
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert entered.wait(10)
        seen["registry"] = registry.get("d9_key")
        seen["lookup"] = kd.get_registered_object("d9_key")
        with kd.CustomObjectScope({"d9_key": "mine"}):
            seen["own"] = kd.get_registered_object("d9_key")
    finally:
        release.set()
        thread.join()
    assert seen == {"registry": "theirs", "lookup": None, "own": "mine"}
    assert "d9_key" not in registry


def test_d9_custom_objects_of_concurrent_loads_stay_apart(registry):
    class Probe:
        def __init__(self, seen=None):
            self.seen = seen

        @classmethod
        def from_config(cls, config):
            return cls(kd.get_registered_object("d9_marker"))

    barrier, results = threading.Barrier(4), {}

    def load(index):
        barrier.wait()
        found = []
        for _ in range(300):
            obj = kd.deserialize_keras_object(
                {"class_name": "Probe", "config": {}}, module_objects={"Probe": Probe},
                custom_objects={"d9_marker": index},
            )
            found.append(obj.seen)
        results[index] = found

    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, found in results.items():
        assert set(found) == {index}
    assert "d9_marker" not in registry
