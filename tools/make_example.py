"""Regenerate keras_deser/data/example_model.json, the model ``keras-deser load`` builds by default.

Run with TensorFlow 2.9 (keras 2.9.0):

    TF_CPP_MIN_LOG_LEVEL=2 /root/venvs/tf29/bin/python tools/make_example.py

The model is small but exercises what matters to deserialization: a
Functional graph with two inputs, one Dense layer shared by both branches,
an initializer instance shared by two layers (saved with a
``shared_object_id``), initializers and regularizers given by config, a
nested activation by name, and a Lambda-free merge.
"""

import json
import os

import tensorflow as tf

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "keras_deser", "data", "example_model.json")


def build():
    layers = tf.keras.layers
    left = tf.keras.Input(shape=(16,), name="left")
    right = tf.keras.Input(shape=(16,), name="right")
    shared_init = tf.keras.initializers.GlorotUniform(seed=7)
    shared = layers.Dense(
        8,
        activation="relu",
        kernel_initializer=shared_init,
        kernel_regularizer=tf.keras.regularizers.L2(1e-4),
        name="shared_dense",
    )
    a = shared(left)
    b = shared(right)
    a = layers.Dropout(0.1, seed=1, name="dropout_left")(a)
    merged = layers.Concatenate(name="merge")([a, b])
    hidden = layers.Dense(
        4,
        activation="tanh",
        kernel_initializer=shared_init,
        bias_initializer=tf.keras.initializers.Constant(0.1),
        name="hidden",
    )(merged)
    hidden = layers.BatchNormalization(name="norm")(hidden)
    out = layers.Dense(
        1,
        activation="sigmoid",
        kernel_initializer=tf.keras.initializers.HeNormal(seed=3),
        bias_regularizer=tf.keras.regularizers.L1L2(l1=1e-5, l2=1e-4),
        name="score",
    )(hidden)
    return tf.keras.Model(inputs=[left, right], outputs=out, name="example_two_branch")


def main():
    model = build()
    config = json.loads(model.to_json())
    with open(OUT, "w") as handle:
        json.dump(config, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(f"wrote {OUT}: {len(model.layers)} layers, {model.count_params()} parameters")


if __name__ == "__main__":
    main()
