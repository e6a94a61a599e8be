"""keras_deser.testing: outcomes, comparisons, and an upstream side that is upstream.

The upstream tests build a Functional holding one probe layer whose
``from_config`` records which loader called it (keras_deser's or the
release's own ``deserialize_keras_object``): the nested layer then differs
between the two sides exactly when keras_deser, not upstream, builds it.
While keras_deser is installed, upstream's function reaches keras_deser for
nested objects unless :func:`keras_deser.testing.compare` takes keras_deser
out for the upstream side.
"""

import importlib
import json
import os
import sys

import pytest
from conftest import UPSTREAM

import keras_deser
from keras_deser import testing

_OURS = os.path.dirname(os.path.abspath(keras_deser.__file__))

needs_keras = pytest.mark.skipif(not UPSTREAM, reason="core environment: no Keras to compare with")


# --- plain Python -----------------------------------------------------------


class Box:
    def __init__(self, **config):
        self.config = config

    def get_config(self):
        return self.config


def build_box(config, module_objects=None, custom_objects=None, printable_module_name="object"):
    return Box(**config["config"])


def test_outcome_of_a_result_and_of_an_error():
    outcome = testing.outcome_of(build_box, {"class_name": "Box", "config": {"units": 3}})
    assert outcome == testing.Outcome("result", f"{__name__}.Box", {"units": 3})
    error = testing.outcome_of(build_box, {"class_name": "Box"})
    assert error.kind == "error" and error.type == "builtins.KeyError" and error.detail == "'config'"


def test_trial_keeps_the_object_the_exception_and_the_time():
    config = {"class_name": "Box", "config": {"units": 3}}
    trial = testing.trial(build_box, config)
    assert isinstance(trial.value, Box) and trial.value.config == {"units": 3} and trial.seconds >= 0
    assert trial.value.config is not config["config"]  # a deep copy
    failed = testing.trial(build_box, {})
    assert isinstance(failed.value, KeyError)


def test_details_have_no_memory_addresses():
    class Opaque:
        pass

    left = testing.outcome_of(lambda config: Box(thing=Opaque()), {})
    right = testing.outcome_of(lambda config: Box(thing=Opaque()), {})
    assert left == right and " at 0x" not in json.dumps(left.detail)
    assert testing.jsonable(len) == "<builtins.len>"


def test_compare_with_a_given_upstream_and_the_diff():
    config = {"class_name": "Box", "config": {"units": 3}}

    def other(config, *args):
        return Box(units=4)

    assert testing.compare(config, upstream=build_box).same is False  # keras_deser: unknown 'Box'
    comparison = testing.compare(config, custom_objects={"Box": Box}, upstream=other)
    assert not comparison.same
    diff = comparison.diff()
    assert diff.startswith("--- upstream\n+++ keras_deser") and '-    "units": 4' in diff and '+    "units": 3' in diff
    with pytest.raises(AssertionError, match="keras_deser and upstream differ"):
        testing.assert_same(config, custom_objects={"Box": Box}, upstream=other)
    same = testing.assert_same(config, custom_objects={"Box": Box}, upstream=lambda c, *a: Box(**c["config"]))
    assert same.same and same.ours_trial.value.config == {"units": 3}


def test_compare_runs_the_keras_deser_side_inside_ours_context():
    entered = []

    class Context:
        def __enter__(self):
            entered.append("in")

        def __exit__(self, *exc):
            entered.append("out")

    seen = []
    testing.compare({"class_name": "Box", "config": {}}, custom_objects={"Box": Box},
                    upstream=lambda c, *a: seen.append(list(entered)) or Box(), ours_context=Context())
    assert seen == [[]] and entered == ["in", "out"]


def test_upstream_only_is_a_no_op_when_not_installed():
    with testing.upstream_only() as was_installed:
        assert was_installed is False
    assert not keras_deser.is_installed()


# --- against the real release -------------------------------------------------


def _loader_of_this_call():
    """'keras_deser' or 'upstream': whose deserialize_keras_object called the caller."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "deserialize_keras_object":
            return "keras_deser" if os.path.abspath(frame.f_code.co_filename).startswith(_OURS) else "upstream"
        frame = frame.f_back
    return None


@pytest.fixture(scope="module")
def probe_model():
    """``(config, custom_objects)`` of a Functional: Input -> Probe -> Dense."""
    module = importlib.import_module(UPSTREAM)
    K = module.keras if UPSTREAM == "tensorflow" else module

    class Probe(K.layers.Layer):
        def __init__(self, loader=None, **kwargs):
            super().__init__(**kwargs)
            self.loader = loader

        def call(self, inputs):
            return inputs

        def get_config(self):
            config = super().get_config()
            config["loader"] = self.loader
            return config

        @classmethod
        def from_config(cls, config):
            config = dict(config, loader=_loader_of_this_call())
            return super().from_config(config)

    inputs = K.layers.Input(shape=(2,), name="x")
    model = K.models.Model(inputs, K.layers.Dense(1, name="out")(Probe(name="probe")(inputs)))
    config = json.loads(model.to_json())
    return {"class_name": config["class_name"], "config": config["config"]}, {
        "Probe": Probe, config["class_name"]: type(model)}


def _probe_loader(outcome):
    assert outcome.kind == "result", outcome
    (layer,) = [layer for layer in outcome.detail["layers"] if layer["config"].get("name") == "probe"]
    return layer["config"]["loader"]


@needs_keras
def test_upstream_side_is_upstream_throughout_while_installed(probe_model):
    config, objects = probe_model
    with keras_deser.patched() as sites:
        comparison = testing.compare(config, custom_objects=objects, printable_module_name="layer")
        assert keras_deser.is_installed() and sorted(keras_deser.installed_sites()) == sorted(sites)
    # Today's bug: the upstream side's nested layer came back into keras_deser.
    assert _probe_loader(comparison.upstream) == "upstream"
    ours = _probe_loader(comparison.ours)
    # keras_deser builds the nested layer where the release routes it through
    # the 4-argument function (Keras 2.x); Keras 3's Functional uses its own
    # new-format loader for its layers, so both sides then agree.
    assert comparison.same == (ours == "upstream"), comparison.diff()
    if ours == "keras_deser":
        with keras_deser.patched(), pytest.raises(AssertionError, match='"loader"'):
            testing.assert_same(config, custom_objects=objects, printable_module_name="layer")


@needs_keras
def test_not_installed_compare_leaves_it_uninstalled(probe_model):
    config, objects = probe_model
    assert not keras_deser.is_installed()
    comparison = testing.compare(config, custom_objects=objects, printable_module_name="layer")
    assert not keras_deser.is_installed()
    assert _probe_loader(comparison.upstream) == "upstream"
    assert _probe_loader(comparison.ours) == "upstream"  # keras_deser for the outermost object only
    assert comparison.same, comparison.diff()
