"""Bad input: property-based fuzzing of deserialize_keras_object and audit.

Random identifiers and configs (wrong types, missing keys, unhashable class
names, odd inner values) plus explicitly built self-referencing and
10,000-level configs.  Only documented exceptions come out (``ValueError``
with its subclasses ``ConfigTooDeepError``/``UnsafeConfigError``,
``TypeError``, ``AttributeError``, ``KeyError``, as Keras 2.9 raises them),
never a ``RecursionError`` nor a hang, and the caller's config changes only
as Keras 2.9 changes it.  Where Keras 2.9 is importable (the tf2.9
environment) every example also runs through Keras 2.9's own function:
same outcome, same exception type and text, same changes to the config.
"""

import copy
import datetime
import os
import re
import sys
import time

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import keras_deser  # noqa: E402
from keras_deser import ConfigTooDeepError, UnsafeConfigError, audit  # noqa: E402
from keras_deser.serialization import class_and_config_for_serialized_keras_object  # noqa: E402

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "")
DOCUMENTED = (ValueError, TypeError, AttributeError, KeyError)

SETTINGS = settings(
    max_examples=120,
    deadline=datetime.timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    database=None,
)


class Thing:
    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def __eq__(self, other):
        return type(other) is type(self) and other.kwargs == self.kwargs

    __hash__ = object.__hash__

    def __repr__(self):
        return "Thing"


class Configured:
    def __init__(self, config):
        self.config = config

    @classmethod
    def from_config(cls, config):
        return cls(dict(config) if isinstance(config, dict) else config)

    def __repr__(self):
        return "Configured"


class WithCustom(Configured):
    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(sorted(custom_objects or {}))


def act(x=None):
    return x


def other_act(x=None):
    return x


MODULE_OBJECTS = {"Thing": Thing, "Configured": Configured, "act": act, "constant": 3}
CUSTOM_OBJECTS = {"WithCustom": WithCustom, "other_act": other_act, "Thing": Configured}
NAMES = ["Thing", "Configured", "WithCustom", "act", "other_act", "constant", "Unknown", "", "name", "relu"]

names = st.sampled_from(NAMES) | st.text(max_size=6)
keys = st.sampled_from(["name", "units", "activation", "inner", "config", "class_name"]) | st.text(max_size=4)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | names


def class_dicts(children):
    inner = st.dictionaries(keys, children, max_size=4) | children
    base = st.fixed_dictionaries({"class_name": names | children, "config": inner})
    optional = st.fixed_dictionaries(
        {},
        optional={"__passive_serialization__": st.just(True), "shared_object_id": st.integers(0, 3),
                  "module": st.just("kd_canary_module"), "name": names},
    )
    return st.builds(lambda a, b: dict(a, **b), base, optional)


values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.tuples(children, children)
        | st.dictionaries(keys, children, max_size=3)
        | class_dicts(children)
    ),
    max_leaves=12,
)
identifiers = values | class_dicts(values) | st.sampled_from([act, Thing, len])
module_objects_choices = st.sampled_from([None, MODULE_OBJECTS, {}])
custom_objects_choices = st.sampled_from([None, CUSTOM_OBJECTS, {}])

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def normal(value, _depth=0):
    """A comparable form of results and configs (objects by type and content)."""
    if _depth > 50:
        return "<deep>"
    if isinstance(value, dict):
        return {"dict": sorted(((repr(k), normal(v, _depth + 1)) for k, v in value.items()), key=repr)}
    if isinstance(value, (list, tuple)):
        return [type(value).__name__] + [normal(v, _depth + 1) for v in value]
    if isinstance(value, (Thing, Configured)):
        return (type(value).__name__, normal(getattr(value, "kwargs", getattr(value, "config", None)), _depth + 1))
    if callable(value):
        return ("callable", getattr(value, "__name__", repr(value)))
    return value


def outcome(function, identifier, module_objects, custom_objects):
    try:
        result = function(identifier, module_objects=module_objects, custom_objects=custom_objects)
    except RecursionError:
        raise
    except BaseException as error:  # noqa: BLE001 - recorded and checked
        return ("error", type(error), _ADDRESS.sub("0x", str(error)))
    return ("result", normal(result))


def _keras_2_9():
    if not UPSTREAM:
        return None
    try:
        info = keras_deser.upstream_info()
    except Exception:  # noqa: BLE001
        return None
    if not str(info.get("keras_version", "")).startswith("2.9"):
        return None
    from keras_deser.testing import upstream_function

    return upstream_function()


KERAS_2_9 = _keras_2_9()


def _changes_are_keras_2_9_changes(before, after):
    """Without Keras 2.9 at hand: only inner-config values Keras 2.9 rewrites changed."""
    stack = [(before, after)]
    while stack:
        old, new = stack.pop()
        if isinstance(old, dict):
            assert isinstance(new, dict) and list(old) == list(new)
            for key in old:
                if normal(old[key]) == normal(new[key]):
                    continue
                # a string turned into a function, or a passive dict into its object
                assert isinstance(old[key], str) and callable(new[key]) or (
                    isinstance(old[key], dict) and "__passive_serialization__" in old[key]), (key, old[key], new[key])
        elif isinstance(old, (list, tuple)):
            assert len(old) == len(new)
            stack.extend(zip(old, new))


@SETTINGS
@given(identifier=identifiers, module_objects=module_objects_choices, custom_objects=custom_objects_choices)
def test_only_documented_exceptions_and_keras_2_9_changes(identifier, module_objects, custom_objects):
    ours_config = copy.deepcopy(identifier)
    result = outcome(keras_deser.deserialize_keras_object, ours_config, module_objects, custom_objects)
    if result[0] == "error":
        assert issubclass(result[1], DOCUMENTED), result
    if KERAS_2_9 is not None:
        theirs_config = copy.deepcopy(identifier)
        try:
            theirs = outcome(KERAS_2_9, theirs_config, module_objects, custom_objects)
        except RecursionError:
            theirs = ("error", ConfigTooDeepError, "")
            assert result[1] is ConfigTooDeepError
        else:
            assert result == theirs
        assert normal(ours_config) == normal(theirs_config)
    else:
        _changes_are_keras_2_9_changes(identifier, ours_config)


@SETTINGS
@given(identifier=identifiers, module_objects=module_objects_choices, custom_objects=custom_objects_choices)
def test_safe_mode_refuses_or_behaves_the_same(identifier, module_objects, custom_objects):
    plain = outcome(keras_deser.deserialize_keras_object, copy.deepcopy(identifier), module_objects, custom_objects)
    with keras_deser.safe_mode():
        safe = outcome(keras_deser.deserialize_keras_object, copy.deepcopy(identifier), module_objects, custom_objects)
    if safe[0] == "error" and issubclass(safe[1], UnsafeConfigError):
        return
    assert safe == plain


@SETTINGS
@given(identifier=identifiers, module_objects=module_objects_choices, custom_objects=custom_objects_choices)
def test_audit_never_raises_and_changes_nothing(identifier, module_objects, custom_objects):
    before = normal(identifier)
    report = audit(identifier, module_objects=module_objects, custom_objects=custom_objects)
    assert normal(identifier) == before
    for finding in report:
        assert isinstance(finding.path, str) and isinstance(finding.name, str)
    str(report)
    report.to_dict()


@SETTINGS
@given(config=class_dicts(values))
def test_class_and_config_helper(config):
    try:
        class_and_config_for_serialized_keras_object(config, MODULE_OBJECTS, CUSTOM_OBJECTS)
    except DOCUMENTED:
        pass


# --- explicitly built: self-reference and 10,000 levels --------------------


def _deep_passive(levels, class_name="Thing"):
    config = current = {"class_name": class_name, "config": {}}
    for _ in range(levels):
        nested = {"class_name": class_name, "config": {}, "__passive_serialization__": True}
        current["config"]["inner"] = nested
        current = nested
    return config


def _deep_list(levels):
    value = []
    for _ in range(levels):
        value = [value]
    return value


def _deep_dict(levels):
    value = {}
    for _ in range(levels):
        value = {"k": value}
    return value


def _self_referencing():
    config = {"class_name": "Thing", "config": {}, "__passive_serialization__": True}
    config["config"]["me"] = config
    return config


def _self_referencing_inner():
    config = {"class_name": "Thing", "config": {}}
    config["config"]["loop"] = config["config"]
    return config


def _run_all_ways(identifier):
    outcomes = []
    for safe in (False, True):
        for function in (keras_deser.deserialize_keras_object, class_and_config_for_serialized_keras_object):
            start = time.perf_counter()
            try:
                if safe:
                    with keras_deser.safe_mode():
                        function(identifier, MODULE_OBJECTS, CUSTOM_OBJECTS)
                else:
                    function(identifier, MODULE_OBJECTS, CUSTOM_OBJECTS)
                outcomes.append(None)
            except RecursionError as error:  # pragma: no cover - the failure being tested for
                pytest.fail(f"RecursionError out of keras_deser ({function.__name__}, safe={safe}): {error}")
            except DOCUMENTED as error:
                outcomes.append(type(error))
            assert time.perf_counter() - start < 10, "took too long"
    return outcomes


HOSTILE = {
    "10000_passive_levels": lambda: _deep_passive(10000),
    "10000_passive_levels_unknown_class": lambda: _deep_passive(10000, "Unknown"),
    "10000_level_list_as_class_name": lambda: {"class_name": _deep_list(10000), "config": {}},
    "10000_level_list_as_config": lambda: {"class_name": "Thing", "config": _deep_list(10000)},
    "10000_level_dict_in_config": lambda: {"class_name": "Thing", "config": {"x": _deep_dict(10000)}},
    "10000_level_list_identifier": lambda: _deep_list(10000),
    "10000_level_dict_identifier": lambda: _deep_dict(10000),
    "10000_level_dict_missing_config": lambda: {"class_name": "Thing", "x": _deep_dict(10000)},
    "self_referencing_passive": _self_referencing,
    "self_referencing_inner": _self_referencing_inner,
    "self_referencing_list": lambda: (lambda l: (l.append(l), l)[1])([]),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_shapes(name):
    identifier = HOSTILE[name]()
    _run_all_ways(identifier)
    report = audit(identifier, MODULE_OBJECTS, CUSTOM_OBJECTS)
    str(report)


def test_ten_thousand_levels_raise_config_too_deep():
    with pytest.raises(ConfigTooDeepError):
        keras_deser.deserialize_keras_object(_deep_passive(10000), MODULE_OBJECTS)
    with keras_deser.safe_mode(), pytest.raises(ConfigTooDeepError):
        keras_deser.deserialize_keras_object(_deep_passive(10000), MODULE_OBJECTS)
    with pytest.raises(ConfigTooDeepError):
        keras_deser.deserialize_keras_object(_self_referencing(), MODULE_OBJECTS)


def test_a_depth_that_fits_still_loads():
    depth = max(10, sys.getrecursionlimit() // 10)
    result = keras_deser.deserialize_keras_object(_deep_passive(depth), MODULE_OBJECTS)
    assert isinstance(result, Thing)
    with keras_deser.safe_mode():
        assert isinstance(keras_deser.deserialize_keras_object(_deep_passive(depth), MODULE_OBJECTS), Thing)


def test_recursion_limit_is_restored_and_state_is_clean_after_deep_failures():
    limit = sys.getrecursionlimit()
    for name in sorted(HOSTILE):
        try:
            keras_deser.deserialize_keras_object(HOSTILE[name](), MODULE_OBJECTS)
        except DOCUMENTED:
            pass
    assert sys.getrecursionlimit() == limit
    assert keras_deser.deserialize_keras_object({"class_name": "Thing", "config": {"a": 1}}, MODULE_OBJECTS) == Thing(a=1)
    assert not keras_deser.is_safe_mode()
