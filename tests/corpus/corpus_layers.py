"""The Keras of this environment and the corpus's one custom layer.

Shared by ``tools/make_corpus.py`` (which saves models using it) and
``tools/grid.py`` (which hands it to every loader through
``custom_objects={"Scale": Scale}``).  Works unchanged on TF 1.15's
``tf.keras``, Keras 2.4-2.15, tf_keras 2.21 and Keras 3 (TF or JAX backend).

The Keras used is the one whose loaders the grid calls: ``tf.keras`` where
TensorFlow is installed (with ``TF_USE_LEGACY_KERAS=1`` that is tf_keras, in
TF 2.21 otherwise Keras 3's ``keras._tf_keras.keras``), plain ``keras``
where it is not (Keras 3 on JAX).  Importing this module imports that Keras.
"""

from __future__ import annotations

from typing import Any


def _keras() -> Any:
    try:
        import tensorflow as tf
    except ImportError:
        import keras

        return keras
    return tf.keras


keras: Any = _keras()


class Scale(keras.layers.Layer):
    """``inputs * factor * gamma``: a config argument and one trainable weight."""

    def __init__(self, factor: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor = float(factor)

    def build(self, input_shape: Any) -> None:
        self.gamma = self.add_weight(name="gamma", shape=(1,), initializer="ones", trainable=True)
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        return inputs * (self.factor * self.gamma)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = self.factor
        return config


CUSTOM_OBJECTS = {"Scale": Scale}
