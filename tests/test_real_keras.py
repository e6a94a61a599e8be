"""Real Keras objects: serialized by the installed Keras, loaded by keras_deser.

Each object is serialized with the release's own public API
(``tf.keras.layers.serialize`` / ``model.get_config()``), loaded once by the
release's own loader (``tf.keras.layers.deserialize`` / ``Model.from_config``)
and once by ``keras_deser.deserialize_keras_object`` with the release's layer
classes as ``module_objects``; both results must have equal ``get_config()``.

Written against public ``tf.keras`` APIs (TF 2.x with Keras 2) so it runs on
every such release.  Skipped where TensorFlow is not installed -- except in
an environment whose ``KERAS_DESER_UPSTREAM`` is ``tensorflow``, where a
missing TensorFlow is an error.
"""

import copy
import inspect
import json
import warnings

import pytest
from conftest import UPSTREAM  # noqa: E402

if UPSTREAM == "tensorflow":
    import tensorflow as tf  # must be importable here: no skip
else:
    tf = pytest.importorskip("tensorflow")

import keras_deser as kd  # noqa: E402
from keras_deser import _state  # noqa: E402

_KERAS_VERSION = str(getattr(tf.keras, "__version__", "2"))
if _KERAS_VERSION.startswith("3"):
    pytest.skip("tf.keras is Keras 3 (%s): its serialization format is not Keras 2's" % _KERAS_VERSION,
                allow_module_level=True)

layers = tf.keras.layers

#: TF 1.15 has no register_keras_serializable, and its serializers write a
#: function's or class's bare ``__name__``: keras_deser supplies the decorator
#: (registering into the release's registry dict), and the tests write the
#: registered name Keras 2.9 saves.
UPSTREAM_REGISTERS = hasattr(tf.keras.utils, "register_keras_serializable")
register_keras_serializable = (
    tf.keras.utils.register_keras_serializable if UPSTREAM_REGISTERS else kd.register_keras_serializable
)
#: TF 1.15 exports the class only as ``glorot_uniform``.
GlorotUniform = getattr(tf.keras.initializers, "GlorotUniform", None) or tf.keras.initializers.glorot_uniform


#: Keras 2.13+ and tf-keras serialize in the new format (``module`` and
#: ``registered_name`` keys; a function nested in a layer config becomes
#: ``{'module': 'builtins', 'class_name': 'function', 'config': name, ...}``,
#: even through the legacy serializer).  Their loaders still read Keras 2.9's
#: format, which is what these tests load.
NEW_FORMAT = "module" in layers.serialize(layers.Dense(1))


def as_keras_29_saves(config, key, obj):
    """Where the release's serializer wrote ``obj`` under ``config[key]`` in
    another form than Keras 2.9 (bare name: TF 1.15; new format: Keras 2.13+),
    write what Keras 2.9 saves: its registered name."""
    if not UPSTREAM_REGISTERS:
        assert config[key] == obj.__name__
        config[key] = kd.get_registered_name(obj)
    elif NEW_FORMAT:
        if key == "class_name":
            assert config.pop("registered_name") == kd.get_registered_name(obj)
            config.pop("module")
        else:
            assert config[key]["class_name"] == "function", config[key]
        config[key] = kd.get_registered_name(obj)


def module_objects():
    """The release's deserializable layers and models, from public names."""
    objects = {name: obj for name, obj in vars(layers).items() if inspect.isclass(obj)}
    objects["Functional"] = tf.keras.Model
    objects["Model"] = tf.keras.Model
    objects["Sequential"] = tf.keras.Sequential
    return objects


def jsonable(config):
    """A JSON round trip: what a saved config looks like when loaded."""
    return json.loads(json.dumps(config, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


@pytest.fixture(autouse=True)
def clean_registry():
    """Undo registrations and leave no session state behind."""
    live = tf.keras.utils.get_custom_objects()
    names = _state.names
    before, before_names = dict(live), dict(names)
    yield
    live.clear()
    live.update(before)
    names.clear()
    names.update(before_names)
    tf.keras.backend.clear_session()


def test_bound_to_the_loaded_keras():
    assert kd.upstream_info()["flavour"] != "standalone"
    assert kd.get_custom_objects() is tf.keras.utils.get_custom_objects() or (
        dict(kd.get_custom_objects()) == dict(tf.keras.utils.get_custom_objects())
    )


def load_both(serialized, custom_objects=None):
    """(upstream's layer, keras_deser's layer) from one serialized form.

    Where the release's own loader fails, keras_deser must fail alike (same
    type and message); both are then that :class:`FailedAlike`.
    """
    try:
        theirs = layers.deserialize(copy.deepcopy(serialized), custom_objects=custom_objects)
    except Exception as exc:  # noqa: BLE001
        with pytest.raises(type(exc)) as ours_exc:
            kd.deserialize_keras_object(
                copy.deepcopy(serialized), module_objects=module_objects(), custom_objects=custom_objects,
                printable_module_name="layer",
            )
        assert str(ours_exc.value) == str(exc)
        failed = FailedAlike(exc)
        return failed, failed
    ours = kd.deserialize_keras_object(
        copy.deepcopy(serialized), module_objects=module_objects(), custom_objects=custom_objects,
        printable_module_name="layer",
    )
    return theirs, ours


class FailedAlike:
    """Both loaders raised the same error (e.g. Keras 2.9 cannot load a
    ``Bidirectional`` with a ``backward_layer``: its config is a DictWrapper)."""

    def __init__(self, exc):
        self.exc = exc


def assert_same_layer(theirs, ours):
    if isinstance(theirs, FailedAlike):
        assert ours is theirs
        return
    assert type(ours) is type(theirs)
    assert ours.get_config() == theirs.get_config()


# -- layers with initializers, regularizers, constraints and activations ----


def test_dense_components_by_name():
    layer = layers.Dense(4, activation="relu", kernel_initializer="he_normal", bias_initializer="ones",
                         kernel_regularizer="l2", activity_regularizer="l1", kernel_constraint="max_norm",
                         name="by_name")
    serialized = jsonable(layers.serialize(layer))
    theirs, ours = load_both(serialized)
    assert_same_layer(theirs, ours)
    assert ours.activation is tf.keras.activations.relu
    assert ours.get_config()["name"] == "by_name"


def test_dense_components_by_config():
    layer = layers.Dense(
        3,
        activation=tf.keras.activations.tanh,
        kernel_initializer=tf.keras.initializers.RandomNormal(stddev=0.2, seed=4),
        kernel_regularizer=tf.keras.regularizers.L1L2(l1=0.01, l2=0.02),
        bias_constraint=tf.keras.constraints.MinMaxNorm(min_value=0.1, max_value=2.0),
    )
    serialized = jsonable(layers.serialize(layer))
    assert isinstance(serialized["config"]["kernel_initializer"], dict)
    theirs, ours = load_both(serialized)
    assert_same_layer(theirs, ours)
    assert isinstance(ours.kernel_initializer, tf.keras.initializers.RandomNormal)


def test_conv_and_embedding_layers():
    for layer in (
        layers.Conv2D(2, 3, padding="same", activation="sigmoid", kernel_regularizer=tf.keras.regularizers.l2(0.1)),
        layers.Embedding(10, 4, embeddings_initializer="uniform", embeddings_constraint="non_neg"),
        layers.BatchNormalization(beta_regularizer="l1", gamma_constraint="unit_norm"),
        layers.Dropout(0.3, seed=2),
    ):
        theirs, ours = load_both(jsonable(layers.serialize(layer)))
        assert_same_layer(theirs, ours)


def test_custom_functions_registered():
    @register_keras_serializable(package="KdReal")
    def kd_real_act(x):
        return tf.nn.relu(x) * 2.0

    @register_keras_serializable(package="KdReal")
    def kd_real_reg(weights):
        return 0.01 * tf.reduce_sum(tf.abs(weights))

    layer = layers.Dense(2, activation=kd_real_act, kernel_regularizer=kd_real_reg)
    serialized = jsonable(layers.serialize(layer))
    as_keras_29_saves(serialized["config"], "activation", kd_real_act)
    as_keras_29_saves(serialized["config"], "kernel_regularizer", kd_real_reg)
    assert serialized["config"]["activation"] == "KdReal>kd_real_act"
    theirs, ours = load_both(serialized)
    assert_same_layer(theirs, ours)
    assert ours.activation is kd_real_act
    assert ours.kernel_regularizer is kd_real_reg


def test_custom_functions_via_custom_objects():
    def kd_plain_act(x):
        return x * 3.0

    layer = layers.Dense(2, activation=kd_plain_act)
    serialized = jsonable(layers.serialize(layer))
    as_keras_29_saves(serialized["config"], "activation", kd_plain_act)
    assert serialized["config"]["activation"] == "kd_plain_act"
    custom = {"kd_plain_act": kd_plain_act}
    theirs, ours = load_both(serialized, custom_objects=custom)
    assert_same_layer(theirs, ours)
    assert ours.activation is kd_plain_act
    # Without custom_objects both fail as the release does: ValueError, which
    # Keras 2.11+'s from_config turns into a TypeError naming the class.
    with pytest.raises(Exception) as theirs_exc:
        layers.deserialize(copy.deepcopy(serialized))
    with pytest.raises(type(theirs_exc.value), match="Unknown activation function:? ?'?kd_plain_act"):  # TF 1.15: no space; 2.13+: no colon
        kd.deserialize_keras_object(copy.deepcopy(serialized), module_objects=module_objects())


class KdScale(layers.Layer):
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


def test_custom_layer_class_via_custom_objects_and_registry():
    serialized = jsonable(layers.serialize(KdScale(2.5, name="scale")))
    theirs, ours = load_both(serialized, custom_objects={"KdScale": KdScale})
    assert_same_layer(theirs, ours)
    with pytest.raises(ValueError, match="Unknown layer: KdScale"):
        kd.deserialize_keras_object(copy.deepcopy(serialized), module_objects=module_objects(),
                                    printable_module_name="layer")
    registered = register_keras_serializable(package="KdReal")(type("KdScale2", (KdScale,), {}))
    serialized = jsonable(layers.serialize(registered(1.5)))
    as_keras_29_saves(serialized, "class_name", registered)
    assert serialized["class_name"] == "KdReal>KdScale2"
    theirs, ours = load_both(serialized)
    assert_same_layer(theirs, ours)


# -- recurrent layers and wrappers ------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(3, return_sequences=True, recurrent_initializer="orthogonal", dropout=0.1),
    lambda: layers.GRU(2, activation="tanh", recurrent_regularizer="l2", reset_after=True),
    lambda: layers.SimpleRNN(4, kernel_constraint="non_neg"),
    lambda: layers.RNN(layers.LSTMCell(3, recurrent_activation="sigmoid"), return_state=True),
    lambda: layers.RNN([layers.GRUCell(2), layers.SimpleRNNCell(3)]),
], ids=["LSTM", "GRU", "SimpleRNN", "RNN-cell", "RNN-stacked-cells"])
def test_recurrent_layers(make):
    serialized = jsonable(layers.serialize(make()))
    theirs, ours = load_both(serialized)
    assert_same_layer(theirs, ours)


@pytest.mark.parametrize("make", [
    lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="sum"),
    lambda: layers.Bidirectional(layers.GRU(2), backward_layer=layers.GRU(2, go_backwards=True)),
    lambda: layers.TimeDistributed(layers.Dense(2, activation="softmax", kernel_initializer="zeros")),
], ids=["Bidirectional", "Bidirectional-backward", "TimeDistributed"])
def test_wrappers(make):
    serialized = jsonable(layers.serialize(make()))
    theirs, ours = load_both(serialized)
    assert_same_layer(theirs, ours)


# -- models -----------------------------------------------------------------


def test_sequential_model():
    model = tf.keras.Sequential([
        layers.InputLayer(input_shape=(5,)),
        layers.Dense(4, activation="relu", kernel_regularizer="l2"),
        layers.Dropout(0.2),
        layers.Dense(1, activation="sigmoid"),
    ], name="seq")
    serialized = jsonable({"class_name": type(model).__name__, "config": model.get_config()})
    theirs = tf.keras.Sequential.from_config(copy.deepcopy(serialized["config"]))
    ours = kd.deserialize_keras_object(copy.deepcopy(serialized), module_objects=module_objects())
    assert type(ours) is type(theirs)
    assert ours.get_config() == theirs.get_config()
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]


def functional_with_shared_layer():
    init = GlorotUniform(seed=7)
    left = tf.keras.Input((6,), name="left")
    right = tf.keras.Input((6,), name="right")
    shared = layers.Dense(3, activation="relu", kernel_initializer=init, name="shared")
    other = layers.Dense(3, kernel_initializer=init, name="other")
    merged = layers.Concatenate()([shared(left), shared(right), other(left)])
    return tf.keras.Model([left, right], layers.Dense(1, name="out")(merged), name="two_branches")


def test_functional_model_with_shared_layer():
    model = functional_with_shared_layer()
    serialized = jsonable({"class_name": type(model).__name__, "config": model.get_config()})
    theirs = tf.keras.Model.from_config(copy.deepcopy(serialized["config"]))
    ours = kd.deserialize_keras_object(copy.deepcopy(serialized), module_objects=module_objects())
    assert type(ours) is type(theirs)
    assert ours.get_config() == theirs.get_config()
    # The shared layer is one layer called on both branches.
    shared = ours.get_layer("shared")
    assert len(shared.inbound_nodes) == len(theirs.get_layer("shared").inbound_nodes) == 2
    assert len(ours.layers) == len(theirs.layers)
    # The initializer shared by two layers is shared (or not) as upstream does.
    theirs_shared = theirs.get_layer("shared").kernel_initializer is theirs.get_layer("other").kernel_initializer
    ours_shared = shared.kernel_initializer is ours.get_layer("other").kernel_initializer
    assert ours_shared == theirs_shared


def test_functional_model_in_shared_object_loading_scope():
    model = functional_with_shared_layer()
    # The class name this release saves (TF 1.15: 'Model', no 'Functional').
    serialized = jsonable({"class_name": type(model).__name__, "config": model.get_config()})
    with kd.SharedObjectLoadingScope():
        ours = kd.deserialize_keras_object(copy.deepcopy(serialized), module_objects=module_objects())
    theirs = tf.keras.models.model_from_config(copy.deepcopy(serialized))
    assert ours.get_config() == theirs.get_config()


def test_model_with_custom_layer_and_custom_objects():
    inputs = tf.keras.Input((2,))
    model = tf.keras.Model(inputs, KdScale(4.0, name="scale")(layers.Dense(2)(inputs)))
    serialized = jsonable({"class_name": "Functional", "config": model.get_config()})
    custom = {"KdScale": KdScale}
    theirs = tf.keras.Model.from_config(copy.deepcopy(serialized["config"]), custom_objects=custom)
    ours = kd.deserialize_keras_object(copy.deepcopy(serialized), module_objects=module_objects(),
                                       custom_objects=custom)
    assert ours.get_config() == theirs.get_config()
    assert isinstance(ours.get_layer("scale"), KdScale)


def test_keras_deser_scope_is_visible_to_upstream_loader():
    serialized = jsonable(layers.serialize(KdScale(2.0)))
    with kd.CustomObjectScope({"KdScale": KdScale}):
        theirs = layers.deserialize(copy.deepcopy(serialized))
    assert isinstance(theirs, KdScale)
    assert "KdScale" not in tf.keras.utils.get_custom_objects()


# -- serialization helpers that share upstream state ------------------------


def test_serialize_matches_upstream():
    layer = layers.Dense(2, activation="relu", kernel_initializer=tf.keras.initializers.Constant(0.5))
    # Keras 2.13+: layers.serialize writes the new format; the release's
    # Keras-2-format serializer is tf.keras.utils.legacy's.
    upstream = tf.keras.utils.legacy.serialize_keras_object if NEW_FORMAT else layers.serialize
    assert jsonable(kd.serialize_keras_object(layer)) == jsonable(upstream(layer))


def test_mask_warning_is_upstreams_class():
    legacy = _state.binding.legacy_module
    upstream_warning = getattr(legacy, "CustomMaskWarning", None)
    if upstream_warning is None:
        pytest.skip("this Keras has no CustomMaskWarning")

    class KdMasking(layers.Layer):
        def compute_mask(self, inputs, mask=None):
            return mask

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kd.serialize_keras_object(KdMasking())
    assert [w.category for w in caught if "mask" in str(w.message)] == [upstream_warning]


def test_skip_failed_serialization_flag_is_upstreams():
    legacy = _state.binding.legacy_module
    skip = getattr(legacy, "skip_failed_serialization", None)
    if skip is None:
        pytest.skip("this Keras has no skip_failed_serialization")

    class KdNoConfig(layers.Layer):
        def get_config(self):
            raise NotImplementedError

    with pytest.raises(NotImplementedError):
        kd.serialize_keras_object(KdNoConfig())
    with skip():
        result = kd.serialize_keras_object(KdNoConfig())
    assert result == {"class_name": "KdNoConfig", "config": {"layer was saved without config": True}}
