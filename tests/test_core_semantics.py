"""Keras 2.9's deserialization semantics, one readable test per subtle point.

Plain-Python probes only: these run with or without TensorFlow.  The
exhaustive comparison with Keras 2.9 itself is ``tests/test_battery.py``.
"""

import inspect

import pytest

import keras_deser as kd
from keras_deser import _state

UNKNOWN_TAIL = (
    ". Please ensure this object is passed to the `custom_objects` argument. See "
    "https://www.tensorflow.org/guide/keras/save_and_serialize#registering_the_custom_object for details."
)


@pytest.fixture(autouse=True)
def registry():
    live = kd.get_custom_objects()
    names = _state.names
    before, before_names = dict(live), dict(names)
    yield live
    live.clear()
    live.update(before)
    names.clear()
    names.update(before_names)


class Obj:
    """A probe: remembers its config and what from_config saw."""

    seen = None

    def __init__(self, config=None):
        self.config = config

    def get_config(self):
        return self.config

    @classmethod
    def from_config(cls, config):
        cls.seen = {"config": config, "visible": dict(kd.get_custom_objects())}
        return cls(config)


class TakesCustomObjects(Obj):
    @classmethod
    def from_config(cls, config, custom_objects=None):
        cls.seen = {"config": config, "custom_objects": custom_objects, "visible": dict(kd.get_custom_objects())}
        return cls(config)


def fn_a(x=None):
    return ("a", x)


def fn_b(x=None):
    return ("b", x)


def dict_of(class_name, **config):
    return {"class_name": class_name, "config": config}


# -- simple identifiers -------------------------------------------------------


def test_none_gives_none():
    assert kd.deserialize_keras_object(None) is None


def test_function_passed_in_is_returned():
    assert kd.deserialize_keras_object(fn_a) is fn_a


@pytest.mark.parametrize("identifier", [Obj, 3, [1], Obj(), len, b"x", (1,)], ids=repr)
def test_anything_else_is_rejected(identifier):
    with pytest.raises(ValueError) as info:
        kd.deserialize_keras_object(identifier, printable_module_name="metric")
    assert str(info.value) == "Could not interpret serialized metric: %s" % (identifier,)


def test_string_lookup_order_custom_then_registry_then_module(registry):
    registry["name_x"] = fn_b
    assert kd.deserialize_keras_object("name_x", {"name_x": Obj}, {"name_x": fn_a}) is fn_a
    assert kd.deserialize_keras_object("name_x", {"name_x": fn_a}) is fn_b
    del registry["name_x"]
    assert kd.deserialize_keras_object("name_x", {"name_x": fn_a}) is fn_a


def test_string_naming_a_class_instantiates_it_without_arguments():
    obj = kd.deserialize_keras_object("Obj", module_objects={"Obj": Obj})
    assert isinstance(obj, Obj) and obj.config is None


def test_string_naming_a_function_returns_it_uncalled():
    assert kd.deserialize_keras_object("fn_a", module_objects={"fn_a": fn_a}) is fn_a


def test_unknown_string_without_module_objects_is_attribute_error():
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'get'"):
        kd.deserialize_keras_object("nowhere")


def test_unknown_string_message():
    with pytest.raises(ValueError) as info:
        kd.deserialize_keras_object("nowhere", module_objects={}, printable_module_name="loss")
    assert str(info.value) == "Unknown loss: nowhere" + UNKNOWN_TAIL


# -- dict identifiers ---------------------------------------------------------


def test_dict_lookup_order_registry_then_custom_then_module(registry):
    class FromRegistry(Obj):
        pass

    class FromCustom(Obj):
        pass

    registry["Layer"] = FromRegistry
    got = kd.deserialize_keras_object(dict_of("Layer"), {"Layer": Obj}, {"Layer": FromCustom})
    assert type(got) is FromRegistry
    del registry["Layer"]
    assert type(kd.deserialize_keras_object(dict_of("Layer"), {"Layer": Obj}, {"Layer": FromCustom})) is FromCustom
    assert type(kd.deserialize_keras_object(dict_of("Layer"), {"Layer": Obj})) is Obj


@pytest.mark.parametrize("config", [{}, {"class_name": "Obj"}, {"config": {}}])
def test_improper_config_format(config):
    with pytest.raises(ValueError) as info:
        kd.deserialize_keras_object(config, module_objects={"Obj": Obj})
    assert str(info.value) == (
        "Improper config format for %s. Expecting python dict contains `class_name` and `config` as keys" % config
    )


def test_class_and_config_rejects_non_dicts():
    with pytest.raises(ValueError, match=r"^Improper config format for \['a'\]\."):
        kd.class_and_config_for_serialized_keras_object(["a"])


def test_unknown_class_message():
    with pytest.raises(ValueError) as info:
        kd.deserialize_keras_object(dict_of("Nope"), module_objects={}, printable_module_name="layer")
    assert str(info.value) == "Unknown layer: Nope" + UNKNOWN_TAIL


def test_unhashable_class_name_is_type_error():
    with pytest.raises(TypeError, match="unhashable"):
        kd.deserialize_keras_object({"class_name": ["Obj"], "config": {}}, module_objects={})


def test_name_key_is_never_resolved(registry):
    registry["fn_a"] = fn_a
    ident = dict_of("Obj", name="fn_a", act="fn_a")
    got = kd.deserialize_keras_object(ident, module_objects={"Obj": Obj})
    assert got.config == {"name": "fn_a", "act": fn_a}


def test_strings_naming_functions_in_registry_or_custom_objects_are_replaced(registry):
    registry["fn_reg"] = fn_a
    ident = dict_of("Obj", r="fn_reg", c="fn_custom", m="fn_module", k="Klass", x="plain text")
    got = kd.deserialize_keras_object(
        ident, module_objects={"Obj": Obj, "fn_module": fn_b}, custom_objects={"fn_custom": fn_b, "Klass": Obj}
    )
    # module_objects are not consulted and classes are not substituted.
    assert got.config == {"r": fn_a, "c": fn_b, "m": "fn_module", "k": "Klass", "x": "plain text"}


def test_passive_serialization_is_deserialized_with_config_item_in_messages():
    inner = {"class_name": "Obj", "config": {"v": 1}, "__passive_serialization__": True}
    got = kd.deserialize_keras_object(dict_of("Obj", inner=inner), module_objects={"Obj": Obj})
    assert isinstance(got.config["inner"], Obj) and got.config["inner"].config == {"v": 1}
    bad = dict_of("Obj", f="fn_a", inner={"class_name": "Gone", "config": {}, "__passive_serialization__": True})
    with pytest.raises(ValueError) as info:
        kd.deserialize_keras_object(bad, module_objects={"Obj": Obj}, custom_objects={"fn_a": fn_a})
    assert str(info.value) == "Unknown config_item: Gone" + UNKNOWN_TAIL
    assert bad["config"]["f"] == "fn_a"  # nothing was written before the error


def test_inner_config_is_changed_in_place_and_handed_over():
    ident = dict_of("Obj", act="fn_a", n=1)
    inner = ident["config"]
    got = kd.deserialize_keras_object(ident, module_objects={"Obj": Obj}, custom_objects={"fn_a": fn_a})
    assert ident["config"] is inner and got.config is inner
    assert inner == {"act": fn_a, "n": 1}


def test_list_config_passes_through():
    ident = {"class_name": "Obj", "config": [dict_of("X"), "fn_a"]}
    cls, config = kd.class_and_config_for_serialized_keras_object(ident, module_objects={"Obj": Obj})
    assert cls is Obj and config is ident["config"]
    assert config == [dict_of("X"), "fn_a"]


# -- from_config dispatch ------------------------------------------------------


def test_from_config_with_custom_objects_gets_registry_merged_with_callers(registry):
    registry["reg_only"] = fn_a
    registry["both"] = fn_a
    kd.deserialize_keras_object(dict_of("T"), module_objects={"T": TakesCustomObjects},
                                custom_objects={"both": fn_b, "mine": Obj})
    received = TakesCustomObjects.seen["custom_objects"]
    assert received["reg_only"] is fn_a and received["both"] is fn_b and received["mine"] is Obj
    assert received is not registry
    # No scope was entered: the caller's objects are not visible globally.
    assert "mine" not in TakesCustomObjects.seen["visible"]


def test_from_config_without_custom_objects_runs_in_a_scope(registry):
    kd.deserialize_keras_object(dict_of("Obj"), module_objects={"Obj": Obj}, custom_objects={"mine": fn_b})
    assert Obj.seen["visible"]["mine"] is fn_b
    assert "mine" not in registry


def test_scope_inside_from_config_is_seen_by_get_registered_object():
    seen = {}

    class Looker(Obj):
        @classmethod
        def from_config(cls, config):
            seen["found"] = kd.get_registered_object("helper")
            return cls(config)

    kd.deserialize_keras_object(dict_of("L"), module_objects={"L": Looker}, custom_objects={"helper": fn_a})
    assert seen["found"] is fn_a
    assert kd.get_registered_object("helper") is None


def test_class_without_from_config_is_called_with_kwargs_in_the_scope():
    seen = {}

    def factory(**kwargs):
        seen["kwargs"] = kwargs
        seen["helper"] = kd.get_custom_objects().get("helper")
        return kwargs

    got = kd.deserialize_keras_object(dict_of("f", a=1), module_objects={"f": factory},
                                      custom_objects={"helper": fn_a})
    assert got == {"a": 1} and seen["helper"] is fn_a


def test_scope_is_restored_when_from_config_raises(registry):
    class Fails(Obj):
        @classmethod
        def from_config(cls, config):
            raise RuntimeError("boom")

    registry["helper"] = fn_a
    with pytest.raises(RuntimeError, match="boom"):
        kd.deserialize_keras_object(dict_of("F"), module_objects={"F": Fails},
                                    custom_objects={"helper": fn_b, "new": 1})
    assert registry["helper"] is fn_a and "new" not in registry


def test_keyword_only_custom_objects_does_not_count():
    class KwOnly(Obj):
        @classmethod
        def from_config(cls, config, *, custom_objects=None):
            return ("called with", custom_objects)

    assert kd.deserialize_keras_object(dict_of("K"), module_objects={"K": KwOnly},
                                       custom_objects={"x": 1}) == ("called with", None)


# -- the from_config signature cache -----------------------------------------


class _CountingArgspec:
    def __init__(self, monkeypatch):
        self.targets = []
        real = inspect.getfullargspec

        def counting(target):
            self.targets.append(target)
            return real(target)

        monkeypatch.setattr(inspect, "getfullargspec", counting)

    def count(self, fn):
        return sum(1 for target in self.targets if getattr(target, "__func__", target) is fn)


def test_from_config_signature_is_inspected_once_per_function(monkeypatch):
    class Cached(TakesCustomObjects):
        @classmethod
        def from_config(cls, config, custom_objects=None):
            return cls(config)

    counter = _CountingArgspec(monkeypatch)
    for _ in range(5):
        got = kd.deserialize_keras_object(dict_of("C", i=1), module_objects={"C": Cached})
        assert isinstance(got, Cached)
    assert counter.count(Cached.from_config.__func__) == 1


def test_inherited_from_config_shares_one_decision(monkeypatch):
    class Base(Obj):
        @classmethod
        def from_config(cls, config, custom_objects=None):
            return (cls, custom_objects is not None)

    class Child1(Base):
        pass

    class Child2(Base):
        pass

    counter = _CountingArgspec(monkeypatch)
    assert kd.deserialize_keras_object(dict_of("A"), module_objects={"A": Child1}) == (Child1, True)
    assert kd.deserialize_keras_object(dict_of("B"), module_objects={"B": Child2}) == (Child2, True)
    assert counter.count(Base.from_config.__func__) == 1


def test_distinct_from_config_functions_get_distinct_decisions():
    class With(Obj):
        @classmethod
        def from_config(cls, config, custom_objects=None):
            return "with"

    class Without(Obj):
        @classmethod
        def from_config(cls, config):
            return "without"

    for _ in range(2):
        assert kd.deserialize_keras_object(dict_of("W"), module_objects={"W": With}) == "with"
        assert kd.deserialize_keras_object(dict_of("W"), module_objects={"W": Without}) == "without"


# -- shared objects -----------------------------------------------------------


def shared(object_id, class_name="Obj"):
    return {"class_name": class_name, "config": {}, "shared_object_id": object_id}


def test_shared_id_ignored_outside_a_loading_scope():
    mo = {"Obj": Obj}
    assert kd.deserialize_keras_object(shared(1), mo) is not kd.deserialize_keras_object(shared(1), mo)


def test_shared_id_honoured_inside_a_loading_scope():
    mo = {"Obj": Obj}
    with kd.SharedObjectLoadingScope():
        first = kd.deserialize_keras_object(shared(1), mo)
        assert kd.deserialize_keras_object(shared(1), mo) is first
        assert kd.deserialize_keras_object(shared(2), mo) is not first


def test_shared_id_checked_after_class_resolution():
    mo = {"Obj": Obj}
    with kd.SharedObjectLoadingScope():
        kd.deserialize_keras_object(shared(1), mo)
        with pytest.raises(ValueError, match="^Unknown object: Gone"):
            kd.deserialize_keras_object(shared(1, "Gone"), mo)


def test_nested_loading_scope_exit_leaves_no_scope():
    mo = {"Obj": Obj}
    with kd.SharedObjectLoadingScope():
        with kd.SharedObjectLoadingScope():
            pass
        a = kd.deserialize_keras_object(shared(1), mo)
        assert kd.deserialize_keras_object(shared(1), mo) is not a


def test_reentering_a_loading_scope_forgets():
    mo = {"Obj": Obj}
    scope = kd.SharedObjectLoadingScope()
    with scope:
        a = kd.deserialize_keras_object(shared(1), mo)
    with scope:
        assert kd.deserialize_keras_object(shared(1), mo) is not a


def test_disable_shared_object_scope():
    mo = {"Obj": Obj}
    with kd.SharedObjectLoadingScope():
        a = kd.deserialize_keras_object(shared(1), mo)
        with kd.DisableSharedObjectScope():
            with kd.SharedObjectLoadingScope() as inner:
                assert isinstance(inner, kd.NoopLoadingScope)
            assert kd.deserialize_keras_object(shared(1), mo) is not a
        assert kd.deserialize_keras_object(shared(1), mo) is a


# -- CustomObjectScope and registration --------------------------------------


def test_nested_custom_object_scopes(registry):
    with kd.CustomObjectScope({"a": 1, "b": 2}):
        with kd.custom_object_scope({"b": 20, "c": 30}):
            assert (registry["a"], registry["b"], registry["c"]) == (1, 20, 30)
        assert registry["b"] == 2 and "c" not in registry
    assert "a" not in registry and "b" not in registry


def test_custom_object_scope_with_several_dicts_later_wins(registry):
    with kd.CustomObjectScope({"a": 1}, {"a": 2, "b": 3}) as scope:
        assert isinstance(scope, kd.CustomObjectScope)
        assert (registry["a"], registry["b"]) == (2, 3)
    assert "a" not in registry


def test_register_keras_serializable_and_names():
    class Registered(Obj):
        pass

    assert kd.register_keras_serializable("Pkg")(Registered) is Registered
    assert kd.get_registered_name(Registered) == "Pkg>Registered"
    assert kd.get_registered_object("Pkg>Registered") is Registered
    assert kd.get_registered_name(fn_a) == "fn_a"


def test_register_errors():
    class Dup(Obj):
        pass

    class NoConfig:
        pass

    kd.register_keras_serializable("Pkg")(Dup)
    with pytest.raises(ValueError) as info:
        kd.register_keras_serializable("Pkg", "Dup")(type("Other", (Obj,), {}))
    assert str(info.value) == "Pkg>Dup has already been registered to %s" % (Dup,)
    with pytest.raises(ValueError) as info:
        kd.register_keras_serializable("Pkg", "Again")(Dup)
    assert str(info.value) == "%s has already been registered to Pkg>Dup" % (Dup,)
    with pytest.raises(ValueError, match=r"^Cannot register a class that does not have a get_config\(\) method\.$"):
        kd.register_keras_serializable()(NoConfig)
