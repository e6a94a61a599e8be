"""One key-path syntax, and the path and unknown name as data on the exception."""

import pytest

import keras_deser
from keras_deser import errors
from keras_deser.keypath import MAX_PATH_PARTS, path_text


class Point:
    def __init__(self, x=0):
        self.x = x


class Polygon:
    def __init__(self, points):
        self.points = [keras_deser.deserialize_keras_object(p, custom_objects={"Point": Point}) for p in points]


def polygon(*names):
    return {"class_name": "Polygon", "config": {"points": [{"class_name": n, "config": {}} for n in names]}}


def _raised(config, **kwargs):
    with pytest.raises(ValueError) as info:
        keras_deser.deserialize_keras_object(config, custom_objects={"Polygon": Polygon}, **kwargs)
    return info.value


def test_key_path_and_unknown_name_of_a_nested_unknown_class():
    error = _raised(polygon("Point", "Nowhere"))
    assert errors.key_path(error) == ("config", "points", 1)
    assert errors.unknown_name(error) == ("object", "Nowhere")
    path = path_text("config", errors.key_path(error) + ("class_name",))
    assert path == "config['config']['points'][1]['class_name']"
    assert "keras_deser: raised while deserializing config['config']['points'][1]" in error.__notes__


def test_the_outermost_object_has_the_empty_path():
    error = _raised({"class_name": "Nowhere", "config": {}}, printable_module_name="layer")
    assert errors.key_path(error) == ()
    assert errors.unknown_name(error) == ("layer", "Nowhere")


def test_errors_keras_deser_never_saw_have_neither():
    error = ValueError("Unknown layer: Dense. Please ensure this object is passed to the `custom_objects` argument.")
    assert errors.key_path(error) is None and errors.unknown_name(error) is None


def test_other_errors_have_a_path_and_no_unknown_name():
    class Broken:
        def __init__(self, **config):
            raise TypeError("no")

    config = {"class_name": "Polygon", "config": {"points": [{"class_name": "Broken", "config": {}}]}}

    class Holder:
        def __init__(self, points):
            self.points = [keras_deser.deserialize_keras_object(p, custom_objects={"Broken": Broken}) for p in points]

    with pytest.raises(TypeError) as info:
        keras_deser.deserialize_keras_object(config, custom_objects={"Polygon": Holder})
    assert errors.key_path(info.value) == ("config", "points", 0)
    assert errors.unknown_name(info.value) is None


def test_long_paths_are_elided_except_in_error_notes():
    parts = ["k"] * (MAX_PATH_PARTS + 10)
    assert "...<10 keys>..." in path_text("config", parts)
    assert path_text("config", parts, max_parts=None) == "config" + "['k']" * (MAX_PATH_PARTS + 10)
