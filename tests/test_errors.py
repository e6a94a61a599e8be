"""Errors that help: Keras 2.9's exception type and text, plus PEP 678 notes.

For a failure anywhere in a nested config ``str(error)`` and the type stay
what Keras 2.9 raises (checked side by side where Keras 2.9 is importable);
keras_deser adds notes (``add_note`` on 3.11+, ``__notes__`` before): the key
path to the failing entry and "did you mean" suggestions.
"""

import copy
import os
import sys
import traceback

import pytest

import keras_deser
from keras_deser import errors

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "")


def notes(error):
    value = getattr(error, "__notes__", [])
    assert isinstance(value, list)
    return value


def path_notes(error):
    return [note for note in notes(error) if "raised while deserializing" in note or "raised inside" in note]


def make_objects(load):
    """Plain-Python stand-ins for a Functional model, with ``load`` as the loader."""

    def relu(x):
        return x

    class Dense:
        def __init__(self, units=1, activation=None, name=None, kernel_initializer=None):
            self.units = units
            self.activation = load(activation, module_objects={"relu": relu, "tanh": relu},
                                   printable_module_name="activation function") if isinstance(activation, str) else activation
            self.name = name

    class Model:
        def __init__(self, layers):
            self.layers = layers

        @classmethod
        def from_config(cls, config, custom_objects=None):
            return cls([load(layer, module_objects=objects, custom_objects=custom_objects, printable_module_name="layer")
                        for layer in config["layers"]])

    class GlorotUniform:
        def __init__(self, seed=None):
            self.seed = seed

    objects = {"Dense": Dense, "Model": Model, "Functional": Model, "GlorotUniform": GlorotUniform}
    return objects


def model(*layers):
    return {"class_name": "Functional", "config": {"name": "m", "layers": list(layers),
                                                    "input_layers": [], "output_layers": []}}


def dense(name, **config):
    config.setdefault("units", 2)
    return {"class_name": "Dense", "config": dict(name=name, **config), "name": name, "inbound_nodes": []}


#: (id, config, expected type, expected path note, expected suggestion or None)
FAILURES = [
    ("unknown_layer_class", model(dense("a"), dense("b"), {"class_name": "Dence", "config": {"name": "c"}}),
     ValueError, "config['config']['layers'][2]", "'Dense'"),
    ("unknown_activation", model(dense("a"), dense("b", activation="rellu")),
     ValueError, "config['config']['layers'][1]['config']['activation']", "'relu'"),
    ("bad_layer_argument", model(dense("a", unitz=3)),
     TypeError, "config['config']['layers'][0]", None),
    ("improper_format", model(dense("a"), {"class_name": "Dense"}),
     ValueError, "config['config']['layers'][1]", None),
    ("passive_unknown", model(dense("a", kernel_initializer={"class_name": "GlorotUnform", "config": {},
                                                            "__passive_serialization__": True})),
     ValueError, "config['config']['layers'][0]['config']['kernel_initializer']", "'GlorotUniform'"),
    ("nested_model", model(dense("a"), model(dense("x"), model({"class_name": "Desne", "config": {}}))),
     ValueError, "config['config']['layers'][1]['config']['layers'][1]['config']['layers'][0]", "'Dense'"),
    ("not_interpretable", model(dense("a"), 5),
     ValueError, "config['config']['layers'][1]", None),
]


def _load_with(function, config):
    objects = make_objects(function)
    with pytest.raises(Exception) as info:
        function(config, module_objects=objects, printable_module_name="layer")
    return info.value


@pytest.mark.parametrize("case", FAILURES, ids=[case[0] for case in FAILURES])
def test_key_path_and_suggestions(case):
    _, config, expected_type, path, suggestion = case
    error = _load_with(keras_deser.deserialize_keras_object, copy.deepcopy(config))
    assert type(error) is expected_type
    assert path_notes(error) == [f"keras_deser: raised while deserializing {path}"], notes(error)
    suggestions = [note for note in notes(error) if "did you mean" in note]
    if suggestion:
        assert len(suggestions) == 1 and suggestion in suggestions[0], notes(error)
    else:
        assert suggestions == []
    assert all(note not in str(error) for note in notes(error))


def test_unknown_at_the_top_has_no_path_note_but_a_suggestion():
    with pytest.raises(ValueError) as info:
        keras_deser.deserialize_keras_object({"class_name": "Modle", "config": {}}, module_objects={"Model": object})
    assert path_notes(info.value) == []
    assert notes(info.value) == ["keras_deser: did you mean 'Model'?"]
    with pytest.raises(ValueError) as info:
        keras_deser.deserialize_keras_object("rleu", module_objects={"relu": len, "elu": len})
    assert "did you mean 'relu'" in notes(info.value)[0]
    assert str(info.value).startswith("Unknown object: rleu. Please ensure")


def test_suggestions_come_from_every_source():
    keras_deser.get_custom_objects()["KdErrRegisteredThing"] = object
    try:
        with pytest.raises(ValueError) as info:
            keras_deser.deserialize_keras_object({"class_name": "KdErrRegisteredThin", "config": {}},
                                                 custom_objects={"KdErrCustomThing": object})
        assert "'KdErrRegisteredThing'" in notes(info.value)[0]
        with pytest.raises(ValueError) as info:
            keras_deser.deserialize_keras_object({"class_name": "KdErrCustomThin", "config": {}},
                                                 custom_objects={"KdErrCustomThing": object})
        assert "'KdErrCustomThing'" in notes(info.value)[0]
    finally:
        del keras_deser.get_custom_objects()["KdErrRegisteredThing"]


def test_no_suggestion_for_names_far_from_everything():
    with pytest.raises(ValueError) as info:
        keras_deser.deserialize_keras_object({"class_name": "Zzzzzz", "config": {}}, module_objects={"Model": object})
    assert notes(info.value) == []


def test_user_exceptions_keep_their_type_and_text():
    class Boom(Exception):
        pass

    class Layer:
        @classmethod
        def from_config(cls, config):
            raise Boom("exactly this")

    config = {"class_name": "Outer", "config": {"inner": {"class_name": "Layer", "config": {},
                                                          "__passive_serialization__": True}}}
    with pytest.raises(Boom) as info:
        keras_deser.deserialize_keras_object(config, module_objects={"Layer": Layer, "Outer": object})
    assert str(info.value) == "exactly this"
    assert path_notes(info.value) == ["keras_deser: raised while deserializing config['config']['inner']"]


def test_an_error_built_elsewhere_is_placed_as_far_as_it_can_be():
    class Broken:
        @classmethod
        def from_config(cls, config):
            raise KeyError("from a config the caller did not give")

    class Outer:
        @classmethod
        def from_config(cls, config):
            made_up = {"class_name": "Broken", "config": {}}
            return keras_deser.deserialize_keras_object(made_up, module_objects={"Broken": Broken})

    with pytest.raises(KeyError) as info:
        keras_deser.deserialize_keras_object({"class_name": "Outer", "config": {}}, module_objects={"Outer": Outer})
    assert path_notes(info.value) == [
        "keras_deser: raised inside an object built from config (not found in its config)"]


def test_one_path_note_however_deep():
    config = model(dense("x"))
    for _ in range(30):
        config = model(config)
    inner = config
    while inner["config"]["layers"][0]["class_name"] == "Functional":
        inner = inner["config"]["layers"][0]
    inner["config"]["layers"][0]["config"]["activation"] = "tnah"
    error = _load_with(keras_deser.deserialize_keras_object, config)
    assert len(path_notes(error)) == 1
    assert path_notes(error) == [
        "keras_deser: raised while deserializing config" + "['config']['layers'][0]" * 31 + "['config']['activation']"]
    assert "did you mean 'tanh'?" in notes(error)[0]


def test_notes_on_every_python():
    error = ValueError("x")
    errors.add_note(error, "first")
    errors.add_note(error, "second")
    assert error.__notes__ == ["first", "second"]
    assert str(error) == "x"
    if sys.version_info >= (3, 11):
        text = "".join(traceback.format_exception(error))
        assert "first" in text and "second" in text


def test_notes_survive_on_exceptions_with_no_room_for_them():
    class Slotted(Exception):
        __slots__ = ()

    error = Slotted("y")
    errors.add_note(error, "n")  # never raises
    errors.annotate(error, {"class_name": "x"})


def test_too_deep_is_a_value_error_with_no_notes_and_no_recursion_error():
    config = current = {"class_name": "Dense", "config": {}}
    for _ in range(10000):
        nested = {"class_name": "Dense", "config": {}, "__passive_serialization__": True}
        current["config"]["inner"] = nested
        current = nested
    with pytest.raises(keras_deser.ConfigTooDeepError) as info:
        keras_deser.deserialize_keras_object(config, module_objects={"Dense": dict})
    assert isinstance(info.value, ValueError)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "recursion limit" in str(info.value)


# --- str(e) and type as Keras 2.9 gives them -------------------------------


def _keras_2_9_function():
    if not UPSTREAM:
        pytest.skip("core environment: no Keras here")
    info = keras_deser.upstream_info()
    if not str(info.get("keras_version", "")).startswith("2.9"):
        pytest.skip(f"Keras 2.9 is not the Keras here ({info.get('keras_version')})")
    from keras_deser.testing import upstream_function

    return upstream_function()


@pytest.mark.parametrize("case", FAILURES, ids=[case[0] for case in FAILURES])
def test_same_type_and_text_as_keras_2_9(case):
    theirs_function = _keras_2_9_function()
    _, config, _, _, _ = case
    theirs = _load_with(theirs_function, copy.deepcopy(config))
    ours = _load_with(keras_deser.deserialize_keras_object, copy.deepcopy(config))
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs)
    assert ours.args == theirs.args
    assert not path_notes(theirs)  # the notes are keras_deser's (checked above)
