"""keras_deser against Keras 2.9.0, case by case (see ``tests/battery.py``).

Each battery case is run through keras_deser and compared with the outcome
Keras 2.9.0 itself produced (``tests/golden/keras-2.9.0.json``, written by
``tools/record_golden.py``).  Where Keras 2.9 is importable in this process
the cases are also run through both implementations side by side.

The intended differences are listed in :data:`DEVIATIONS` only: case name ->
(deviation id of ``docs/deviations.md``, the parts of the outcome keras_deser
documents instead of Keras 2.9's).  Everything else must match exactly.
"""

import copy
import json
import os
import platform
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import battery  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN_PATH = os.path.join(HERE, "golden", "keras-2.9.0.json")
DEVIATIONS_DOC = os.path.join(os.path.dirname(HERE), "docs", "deviations.md")

with open(GOLDEN_PATH) as _handle:
    GOLDEN = json.load(_handle)

_REGISTERED = "<class 'battery.case_registration_inside_scope.<locals>.BtRegistered'>"

#: The one place listing intended differences: case -> (id, replacements).
#: ``replacements`` maps top-level keys of the Keras 2.9 outcome to the value
#: keras_deser produces instead; the rest of the outcome must be identical.
DEVIATIONS = {
    # D1: a scope restores only the keys it set (Keras 2.9 restores a
    # snapshot of the whole registry).
    "registration_inside_scope": (
        "D1",
        {
            "after": {
                "objects": [["Bt>BtRegistered", {"class": "BtRegistered"}], ["bt_direct", 2]],
                "names": [[{"class": "BtRegistered"}, "Bt>BtRegistered"]],
            },
            "register_again": {
                "error": {
                    "type": "ValueError",
                    "message": "Bt>BtRegistered has already been registered to " + _REGISTERED,
                }
            },
        },
    ),
    "deletion_inside_scope": ("D1", {"after": [["bt_changed", 3]]}),
    "scope_exit_out_of_order": ("D1", {"after_outer_exit": [["bt_b", 2]], "after_inner_exit": []}),
    "custom_objects_registration_in_from_config": (
        "D1",
        {"after": {"objects": [["bt_late", 1]], "names": []}},
    ),
    # D7: each exit of a re-entered scope instance undoes its own entry.
    "scope_instance_reentered": ("D7", {"after_outer": []}),
    # D2: a scope applies its dicts all or nothing.
    "scope_invalid_dict": ("D2", {"after_failed_enter": []}),
    # D4: ``name`` (and values left as they are) are not written back.
    "inner_config_writes": ("D4", {"writes": [["setitem", "f"], ["setitem", "p"]]}),
    # D3: no scope around from_config when custom_objects is empty.
    "empty_custom_objects_registration_in_from_config": (
        "D3",
        {"after": {"objects": [["Bt>BtLate", {"class": "BtLate"}]], "names": [[{"class": "BtLate"}, "Bt>BtLate"]]}},
    ),
}

EXPECT = os.environ.get("KERAS_DESER_EXPECT", "")
ENV_NAME = os.environ.get("KERAS_DESER_ENV", "")
SAME_PYTHON = platform.python_version().rsplit(".", 1)[0] == GOLDEN["metadata"]["python_version"].rsplit(".", 1)[0]


def keras_deser_api():
    import keras_deser
    from keras_deser import _state

    return battery.make_api(keras_deser, _state.names, "keras_deser")


def expected_for_keras_deser(name, keras_outcome):
    """Keras 2.9's outcome with the documented deviations of ``name`` applied."""
    expected = copy.deepcopy(keras_outcome)
    if name in DEVIATIONS:
        _, replacements = DEVIATIONS[name]
        for key, value in replacements.items():
            assert key in expected, "deviation of %s replaces unknown key %r" % (name, key)
            assert expected[key] != value, "deviation of %s replaces %r by the same value" % (name, key)
            expected[key] = value
    return expected


def _strip_interpreter_messages(outcome):
    """Drop messages CPython words differently across releases."""
    if isinstance(outcome, dict):
        if outcome.get("interpreter_message"):
            return {key: value for key, value in outcome.items() if key != "message"}
        return {key: _strip_interpreter_messages(value) for key, value in outcome.items()}
    if isinstance(outcome, list):
        return [_strip_interpreter_messages(item) for item in outcome]
    return outcome


def as_json(outcome):
    return json.loads(json.dumps(outcome))


def assert_same(name, got, expected, exact_interpreter_messages):
    if not exact_interpreter_messages:
        got, expected = _strip_interpreter_messages(got), _strip_interpreter_messages(expected)
    assert got == expected, "case %s differs:\n got      %s\n expected %s" % (
        name, json.dumps(got, sort_keys=True), json.dumps(expected, sort_keys=True))


# --------------------------------------------------------------------------
# Bookkeeping.


def test_golden_metadata():
    meta = GOLDEN["metadata"]
    assert meta["keras_version"] == "2.9.0"
    assert meta["tensorflow_version"].startswith("2.9.")
    assert meta["cases"] == len(GOLDEN["cases"])


def test_every_golden_case_is_in_the_battery_and_back():
    assert sorted(set(GOLDEN["cases"]) - set(battery.CASES)) == []
    assert sorted(set(battery.CASES) - set(GOLDEN["cases"])) == []
    assert len(battery.CASES) >= 60


def test_golden_cases_are_clean():
    """No recorded case leaked registry entries or died unexpectedly."""
    for name, outcome in GOLDEN["cases"].items():
        assert "leaked" not in outcome, name
        assert "escaped" not in outcome, name


def test_deviations_are_documented():
    with open(DEVIATIONS_DOC) as handle:
        doc = handle.read()
    documented = set(re.findall(r"^## (D\d+)\b", doc, re.M))
    used = {dev_id for dev_id, _ in DEVIATIONS.values()}
    assert used <= documented
    with open(os.path.join(HERE, "test_deviations.py")) as handle:
        pins = handle.read()
    for dev_id in documented:
        assert "def test_%s_" % dev_id.lower() in pins, "%s is documented but pinned by no test" % dev_id
    for name in DEVIATIONS:
        assert name in battery.CASES
        assert name in doc, "case %s not cited in docs/deviations.md" % name


# --------------------------------------------------------------------------
# keras_deser vs the golden file.


@pytest.mark.parametrize("name", list(battery.CASES))
def test_case_matches_keras_2_9(name):
    got = as_json(battery.run_case(keras_deser_api(), name))
    expected = expected_for_keras_deser(name, GOLDEN["cases"][name])
    assert_same(name, got, expected, SAME_PYTHON)


@pytest.mark.parametrize("name", sorted(DEVIATIONS))
def test_deviation_really_differs_from_keras(name):
    """A listed deviation must still be a difference (else remove it)."""
    got = as_json(battery.run_case(keras_deser_api(), name))
    assert _strip_interpreter_messages(got) != _strip_interpreter_messages(GOLDEN["cases"][name])


# --------------------------------------------------------------------------
# Live: Keras 2.9 and keras_deser in one process.


def _live_keras():
    """Keras 2.9's generic_utils, or skip -- never skip where it must exist."""
    required = EXPECT == "keras-2.6"
    try:
        import keras
    except ImportError:
        if required:
            pytest.fail("KERAS_DESER_EXPECT=%s but keras is not importable" % EXPECT)
        pytest.skip("keras is not installed here")
    version = getattr(keras, "__version__", None)
    if version != "2.9.0":
        if ENV_NAME == "tf2.9":
            pytest.fail("the tf2.9 environment has keras %s, not 2.9.0" % version)
        pytest.skip("keras %s is not 2.9.0" % version)
    from keras.utils import generic_utils

    return battery.make_api(generic_utils, generic_utils._GLOBAL_CUSTOM_NAMES, "keras " + version)


def test_live_environment_has_keras_when_expected():
    if EXPECT != "keras-2.6":
        pytest.skip("this environment does not promise keras 2.9")
    api = _live_keras()
    import keras_deser

    assert keras_deser.get_custom_objects() is api.get_custom_objects()


@pytest.mark.parametrize("name", list(battery.CASES))
def test_live_differential(name):
    keras_api = _live_keras()
    keras_outcome = as_json(battery.run_case(keras_api, name))
    ours = as_json(battery.run_case(keras_deser_api(), name))
    assert_same(name, ours, expected_for_keras_deser(name, keras_outcome), True)
    # The golden file is still what Keras 2.9 does.
    assert_same(name, keras_outcome, GOLDEN["cases"][name], SAME_PYTHON)
