"""The registered custom layer of ``tools/trial_kinds.py``.

Imported by the trial both where it saves and where it loads, so the layer is
registered under ``Trial>Gain`` in every release that has
``register_keras_serializable`` (TF 2.1+, tf_keras, Keras 3; Keras 3 writes
``class_name: "Gain", registered_name: "Trial>Gain", module: "trial_layers"``);
TF 1.15 lacks the decorator and gets the name in its registry directly, so
what 2.x saves loads there too (TF 1.15 itself saves no model using it).
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "corpus"))

import corpus_layers  # noqa: E402

keras: Any = corpus_layers.keras
_register = getattr(keras.utils, "register_keras_serializable", None)
REGISTERED = _register is not None


class Gain(keras.layers.Layer):
    """``inputs * gain + bias``, with one trainable weight per feature."""

    def __init__(self, gain: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gain = float(gain)

    def build(self, input_shape: Any) -> None:
        dims = input_shape.as_list() if hasattr(input_shape, "as_list") else list(input_shape)
        self.bias = self.add_weight(name="bias", shape=(int(dims[-1]),), initializer="zeros", trainable=True)
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        return inputs * self.gain + self.bias

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["gain"] = self.gain
        return config


if _register is not None:
    Gain = _register(package="Trial")(Gain)
else:
    keras.utils.get_custom_objects()["Trial>Gain"] = Gain
