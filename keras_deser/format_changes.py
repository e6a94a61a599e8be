"""The table of format changes between Keras releases, for translation.

Where :mod:`keras_deser.flavours` says *where* each release keeps its
machinery, this module says *how the configs they write differ*.  Every
difference is one row of :data:`FORMAT_CHANGES`: what changed, the release
whose format introduced the new form (``since``), and how to carry an object
across that release in each direction:

* ``down``: an object in the new form, for a target older than ``since``;
* ``up``: an object in the old form, for a target at or after ``since``.

A direction is ``None`` when the other release reads the form as it is.
Fixes are pure: they take one serialized object (a dict with a
``class_name``) and return ``None`` (nothing to do) or a :class:`Fix`
(the replacement, what was done, and the key below the object that
changed); they never modify what they are given.  The walk that applies them
lives in :mod:`keras_deser.translation` and knows no release by name.

Releases are compared as ``(major, minor)`` tuples of the Keras format they
write (TensorFlow 1.15's bundled Keras writes the ``(1, 15)`` format; tf_keras
2.21 the ``(2, 21)`` one; every Keras 3 the ``(3, 0)`` one).  Rows were found
by reading and running the installed releases of the test matrix
(TF 1.15, 2.4, 2.6, 2.9, 2.12, 2.15, tf_keras 2.21, Keras 3.15).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

__all__ = [
    "Version",
    "Fix",
    "FormatChange",
    "TranslationError",
    "UnknownReleaseError",
    "FORMAT_CHANGES",
    "RELEASES",
    "parse_release",
    "release_name",
]

Version = Tuple[int, int]
Obj = Dict[str, Any]


class TranslationError(ValueError):
    """A config holds something the target release cannot carry.

    ``class_name``, ``target`` (the release label) and ``path`` (key path in
    the audit's syntax) say what and where.
    """

    def __init__(self, message: str, class_name: str = "", target: str = "", path: str = "") -> None:
        self.class_name = class_name
        self.target = target
        self.path = path
        super().__init__(message)


class UnknownReleaseError(ValueError):
    """A target release label that is not in the vocabulary."""


class Fix(NamedTuple):
    """What a row's fix did to one object."""

    #: The object's replacement (a new dict, or another value).
    value: Any
    #: Short description for the report.
    description: str
    #: Keys below the object that changed (``("config", "batch_shape")``).
    key: tuple[Any, ...] = ()


class Blocked(Exception):
    """Raised by a fix: the object cannot be carried; the walk adds where."""

    def __init__(self, message: str, class_name: str, key: tuple[Any, ...] = ()) -> None:
        self.class_name = class_name
        self.key = key
        super().__init__(message)


FixFunction = Callable[[Obj], Optional[Fix]]


class FormatChange(NamedTuple):
    """One row: a difference between releases' configs."""

    #: Stable identifier, shown in reports as the rule applied.
    name: str
    #: ``class-renamed``, ``class-added``, ``argument-added``, ``argument-removed``,
    #: ``argument-renamed``, ``argument-re-encoded``, ``object-form``, ``module-moved``,
    #: ``node-form``.
    kind: str
    #: Label of the first release writing (or reading) the new form.
    since: str
    #: Class names the row concerns; empty: every serialized object.
    classes: tuple[str, ...]
    #: What changed, for people.
    what: str
    #: Carry an object in the new form to a target older than ``since``.
    down: FixFunction | None = None
    #: Carry an object in the old form to a target at or after ``since``.
    up: FixFunction | None = None
    #: Apply only to the outermost object (the model being loaded).
    top_only: bool = False
    #: Apply only to the outermost object, and only when the loader called
    #: says which kind of object it builds and it is one of these
    #: (``"layers"``: Keras 3's ``layers.deserialize``, which passes upstream's
    #: deserializer no ``module_objects``); empty: whatever the kind.
    top_kinds: tuple[str, ...] = ()


# --- the vocabulary of releases ---------------------------------------------------------

#: Release labels accepted as ``target`` (and their format version).  Other
#: spellings are parsed by :func:`parse_release`.
RELEASES: tuple[tuple[str, Version], ...] = (
    ("tf1.15", (1, 15)),
    ("2.4", (2, 4)),
    ("2.6", (2, 6)),
    ("2.9", (2, 9)),
    ("2.12", (2, 12)),
    ("2.15", (2, 15)),
    ("tf_keras-2.21", (2, 21)),
    ("keras-3", (3, 0)),
)

_RELEASE_PATTERN = re.compile(r"^(?:tf_keras|tf-keras|keras|tf)?[-_ ]?v?(\d+)(?:\.(\d+|x))?(?:\.\d+)*(?:[-.+]\w*)*$")


def parse_release(label: str) -> Version:
    """``(major, minor)`` of a release label.

    Accepted: ``"tf1.15"``, ``"1.15"``, ``"2.9"``, ``"tf2.9"``,
    ``"keras-2.9"``, ``"2.9.0"``, ``"tf_keras-2.21"``, ``"keras-3"``,
    ``"keras3"``, ``"3"``, ``"3.15.1"``.  Every Keras 3 is ``(3, 0)``: they
    share one format.  Raises :class:`UnknownReleaseError` otherwise.
    """
    text = str(label).strip().lower()
    match = _RELEASE_PATTERN.match(text)
    if match is None:
        known = ", ".join(name for name, _ in RELEASES)
        raise UnknownReleaseError(f"unknown Keras release {label!r}; use one of {known} (or a version like '2.11')")
    major = int(match.group(1))
    minor_text = match.group(2)
    if major >= 3:
        return (3, 0)
    if minor_text is None or minor_text == "x":
        known = ", ".join(name for name, _ in RELEASES)
        raise UnknownReleaseError(f"Keras release {label!r} needs a minor version; use one of {known}")
    if major < 1 or (major == 1 and int(minor_text) < 15):
        raise UnknownReleaseError(f"Keras release {label!r} is older than TF 1.15, the oldest translated")
    return (major, int(minor_text))


def release_name(version: Version) -> str:
    """The label of a format version (``(2, 9)`` -> ``"2.9"``)."""
    if version >= (3, 0):
        return "keras-3"
    if version[0] == 1:
        return f"tf{version[0]}.{version[1]}"
    return f"{version[0]}.{version[1]}"


# --- helpers the fixes are built from ---------------------------------------------------


def _config_of(obj: Obj) -> Obj | None:
    config = obj.get("config")
    return config if isinstance(config, dict) else None


def _with_config(obj: Obj, config: Obj) -> Obj:
    new = dict(obj)
    new["config"] = config
    return new


def _drop_argument(arg: str, defaults: tuple[Any, ...], any_value: bool, what: str) -> FixFunction:
    def fix(obj: Obj) -> Fix | None:
        config = _config_of(obj)
        if config is None or arg not in config:
            return None
        value = config[arg]
        if not any_value and value not in defaults:
            raise Blocked(
                f"{obj.get('class_name')} argument {arg}={value!r} {what}; it cannot be carried",
                str(obj.get("class_name")),
                ("config", arg),
            )
        new = dict(config)
        del new[arg]
        return Fix(_with_config(obj, new), f"dropped {arg}={value!r} ({what})", ("config", arg))

    return fix


def argument_added(
    name: str, classes: tuple[str, ...], arg: str, since: str, defaults: tuple[Any, ...], any_value: bool = False
) -> FormatChange:
    """``arg`` appeared in ``since``: older targets lose it.

    It is dropped when it holds one of ``defaults`` (or any value when
    ``any_value``: values that change nothing at inference, such as seeds);
    another value cannot be carried (:class:`TranslationError`).
    """
    return FormatChange(
        name,
        "argument-added",
        since,
        classes,
        f"{'/'.join(classes)} argument {arg!r} added in {since}",
        down=_drop_argument(arg, defaults, any_value, f"not known before {since}"),
    )


def argument_removed(
    name: str, classes: tuple[str, ...], arg: str, since: str, defaults: tuple[Any, ...], any_value: bool = False
) -> FormatChange:
    """``arg`` is gone from ``since`` on: newer targets lose it (same rules)."""
    return FormatChange(
        name,
        "argument-removed",
        since,
        classes,
        f"{'/'.join(classes)} argument {arg!r} removed in {since}",
        up=_drop_argument(arg, defaults, any_value, f"removed in {since}"),
    )


def argument_renamed(name: str, classes: tuple[str, ...], old: str, new: str, since: str) -> FormatChange:
    """``old`` was renamed ``new`` in ``since``."""

    def rename(source: str, target: str) -> FixFunction:
        def fix(obj: Obj) -> Fix | None:
            config = _config_of(obj)
            if config is None or source not in config or target in config:
                return None
            renamed = {(target if key == source else key): value for key, value in config.items()}
            return Fix(_with_config(obj, renamed), f"renamed argument {source} to {target}", ("config", source))

        return fix

    return FormatChange(
        name, "argument-renamed", since, classes, f"{'/'.join(classes)} argument {old!r} renamed {new!r} in {since}",
        down=rename(new, old), up=rename(old, new),
    )


def class_added(name: str, classes: tuple[str, ...], since: str) -> FormatChange:
    """Classes first present in ``since``: an older target lacks them."""

    def fix(obj: Obj) -> Fix | None:
        class_name = str(obj.get("class_name"))
        raise Blocked(f"class {class_name!r} does not exist before Keras {since}", class_name, ("class_name",))

    return FormatChange(name, "class-added", since, classes, f"classes first present in {since}", down=fix)


# --- the fixes that need more than a helper ---------------------------------------------

#: Keys of the 2.13+ / Keras 3 nested-object form that 2.x before 2.13 never wrote.
NESTED_FORM_KEYS: frozenset[str] = frozenset(("module", "registered_name", "build_config", "compile_config"))

#: Module prefixes of built-in objects (a ``registered_name`` under them is no custom name).
_BUILTIN_MODULES = ("keras", "tf_keras", "builtins", "tensorflow")


def _is_builtin_module(module: Any) -> bool:
    return module is None or (isinstance(module, str) and module.split(".")[0] in _BUILTIN_MODULES)


def _nested_form_down(obj: Obj) -> Fix | None:
    if not any(key in obj for key in NESTED_FORM_KEYS):
        return None
    new = {key: value for key, value in obj.items() if key not in NESTED_FORM_KEYS}
    registered = obj.get("registered_name")
    described = "dropped " + "/".join(sorted(key for key in NESTED_FORM_KEYS if key in obj))
    custom = not _is_builtin_module(obj.get("module"))
    if isinstance(registered, str) and registered != obj.get("class_name") and custom:
        new["class_name"] = registered
        described += f"; class_name from registered_name {registered!r}"
    return Fix(new, described + " (2.x nested-object form)", ())


def _function_object_down(obj: Obj) -> Fix | None:
    config = obj.get("config")
    if not isinstance(config, str):
        return None
    registered = obj.get("registered_name")
    name = registered if isinstance(registered, str) and not _is_builtin_module(obj.get("module")) else config
    return Fix(name, f"function object to its name {name!r}", ())


def _tuple_object_down(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    if config is None or not isinstance(config.get("value"), list):
        return None
    return Fix(list(config["value"]), "__tuple__ object to a list", ())


#: Dtype names that are plain dtypes (no mixed-precision policy).
_MIXED_PREFIX = "mixed_"


def _dtype_policy_down(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    name = config.get("name") if config is not None else None
    if not isinstance(name, str):
        return None
    if name.startswith(_MIXED_PREFIX):
        return Fix({"class_name": "Policy", "config": {"name": name}}, f"DTypePolicy to Policy {name!r}", ())
    return Fix(name, f"DTypePolicy to dtype string {name!r}", ())


def _policy_up(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    name = config.get("name") if config is not None else None
    if not isinstance(name, str) or "module" in obj:
        return None
    return Fix(name, f"Policy dict to policy name {name!r}", ())


def _model_class_down(obj: Obj) -> Fix | None:
    if obj.get("class_name") != "Functional":
        return None
    new = dict(obj)
    new["class_name"] = "Model"
    return Fix(new, "Functional renamed Model", ("class_name",))


def _is_functional_config(obj: Obj) -> bool:
    config = _config_of(obj)
    return config is not None and "layers" in config and "input_layers" in config


def _model_class_up(obj: Obj) -> Fix | None:
    if obj.get("class_name") != "Model" or not _is_functional_config(obj) or "module" in obj:
        return None
    new = dict(obj)
    new["class_name"] = "Functional"
    return Fix(new, "Model (functional config) renamed Functional", ("class_name",))


#: Where Keras 3 keeps its model classes, as its ``module`` keys name them.
KERAS3_MODEL_MODULES: dict[str, str] = {
    "Functional": "keras.src.models.functional",
    "Sequential": "keras",
    "Model": "keras.src.models.model",
}
#: Module paths of model classes before Keras 3 (2.13-2.15, tf_keras .keras files).
_OLD_MODEL_MODULE = re.compile(r"^(?:tf_)?keras(?:\.src)?\.engine\.(?:functional|sequential|training)$")


def _model_module_up(obj: Obj) -> Fix | None:
    class_name = obj.get("class_name")
    wanted = KERAS3_MODEL_MODULES.get(class_name) if isinstance(class_name, str) else None
    module = obj.get("module")
    if wanted is None or module == wanted:
        return None
    if module is not None and not (isinstance(module, str) and _OLD_MODEL_MODULE.match(module)):
        return None
    new = dict(obj)
    new["module"] = wanted
    new.setdefault("registered_name", class_name if class_name == "Functional" else None)
    return Fix(new, f"module {module!r} to Keras 3's {wanted!r}", ("module",))


def _model_module_down(obj: Obj) -> Fix | None:
    module = obj.get("module")
    if not (isinstance(module, str) and module.startswith("keras.src.models")):
        return None
    new = {key: value for key, value in obj.items() if key not in ("module", "registered_name")}
    return Fix(new, f"dropped Keras 3 module {module!r} (legacy form)", ("module",))


_KERAS_TENSOR = "__keras_tensor__"


def _node_tensors(value: Any, out: list[list[Any]]) -> bool:
    """Collect ``keras_history`` triples of a Keras 3 node's first argument."""
    if isinstance(value, dict):
        if value.get("class_name") != _KERAS_TENSOR:
            return False
        history = (value.get("config") or {}).get("keras_history")
        if not (isinstance(history, list) and len(history) == 3):
            return False
        out.append(list(history))
        return True
    if isinstance(value, list):
        return all(_node_tensors(item, out) for item in value)
    return False


def _nodes_down(obj: Obj) -> Fix | None:
    nodes = obj.get("inbound_nodes")
    if not isinstance(nodes, list) or not any(isinstance(node, dict) for node in nodes):
        return None
    legacy = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            legacy.append(node)
            continue
        args = node.get("args") or []
        kwargs = node.get("kwargs") or {}
        tensors: list[list[Any]] = []
        if len(args) != 1 or not _node_tensors(args[0], tensors) or not isinstance(kwargs, dict):
            raise Blocked(
                "a Keras 3 node with other than one tensor argument has no Keras 2 form",
                str(obj.get("class_name")),
                ("inbound_nodes", index),
            )
        # Keras 3 records call arguments left at None (``mask=None``), which
        # Keras 2 layers' ``call`` may not take; None is their default anyway.
        plain = {
            key: value for key, value in kwargs.items() if value is not None and not isinstance(value, (dict, list))
        }
        legacy.append([history + [plain] for history in tensors])
    new = dict(obj)
    new["inbound_nodes"] = legacy
    return Fix(new, "Keras 3 call nodes to Keras 2 node lists", ("inbound_nodes",))


def _io_layers_down(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    if config is None:
        return None
    changed = {}
    for key in ("input_layers", "output_layers"):
        value = config.get(key)
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            changed[key] = [value]
    if not changed:
        return None
    new = dict(config)
    new.update(changed)
    return Fix(_with_config(obj, new), "single " + "/".join(sorted(changed)) + " wrapped in a list", ("config",))


def _regularizer_down(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    if config is None:
        return None
    class_name = obj.get("class_name")
    key = "l1" if class_name == "L1" else "l2"
    value = config.get(key, 0.01)
    return Fix(
        {"class_name": "L1L2", "config": {"l1": value if key == "l1" else 0.0, "l2": value if key == "l2" else 0.0}},
        f"{class_name} to L1L2",
        ("class_name",),
    )


def _layer_input_shape_up(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    if config is None or obj.get("class_name") == "InputLayer" or not isinstance(config.get("batch_input_shape"), list):
        return None
    new = {key: value for key, value in config.items() if key != "batch_input_shape"}
    new["input_shape"] = list(config["batch_input_shape"][1:])
    described = "batch_input_shape to input_shape (Keras 3 layers)"
    return Fix(_with_config(obj, new), described, ("config", "batch_input_shape"))


#: Wrapper layers and the config keys holding the layers they wrap.
WRAPPED_LAYER_KEYS: dict[str, tuple[str, ...]] = {
    "Bidirectional": ("layer", "backward_layer"),
    "TimeDistributed": ("layer",),
    "RNN": ("cell",),
    "StackedRNNCells": ("cells",),
}


def _with_layer_module(value: Any) -> Any:
    if isinstance(value, list):
        return [_with_layer_module(item) for item in value]
    if not isinstance(value, dict) or "module" in value or not isinstance(value.get("class_name"), str):
        return value
    new = dict(value)
    new["module"] = "keras.layers"
    new["registered_name"] = value["class_name"] if ">" in value["class_name"] else None
    return new


def _layer_module_up(obj: Obj) -> Fix | None:
    class_name = obj.get("class_name")
    if "module" in obj or not isinstance(class_name, str):
        return None
    # registered_name = class_name: Keras 3 looks it up among the custom objects
    # first (so custom_objects={'Dense': ...} and 'Package>Name' classes resolve
    # as in Keras 2) and accepts it for a built-in.
    new = dict(obj, module="keras.layers", registered_name=class_name)
    return Fix(new, "module 'keras.layers' for Keras 3's layers.deserialize", ("module",))


def _wrapped_module_up(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    keys = WRAPPED_LAYER_KEYS.get(str(obj.get("class_name")), ())
    if config is None:
        return None
    changed = {key: _with_layer_module(config[key]) for key in keys if key in config}
    changed = {key: value for key, value in changed.items() if value is not config[key]}
    if not changed:
        return None
    new = dict(config)
    new.update(changed)
    return Fix(_with_config(obj, new), "module keys on the wrapped " + "/".join(sorted(changed)), ("config",))


def _bn_axis_up(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    axis = config.get("axis") if config is not None else None
    if not (isinstance(axis, list) and len(axis) == 1 and isinstance(axis[0], int)):
        return None
    new = dict(config)  # type: ignore[arg-type]
    new["axis"] = axis[0]
    return Fix(_with_config(obj, new), f"axis {axis!r} to {axis[0]!r}", ("config", "axis"))


#: The function keras_deser registers in Keras 3 for Keras 2's ``hard_sigmoid``
#: (``clip(0.2 * x + 0.5, 0, 1)``; Keras 3's is ``clip(x / 6 + 0.5, 0, 1)``).
KERAS2_HARD_SIGMOID = "keras_deser>hard_sigmoid_keras2"


def _hard_sigmoid_up(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    if config is None:
        return None
    keys = [key for key, value in config.items() if value == "hard_sigmoid" and str(key).endswith("activation")]
    if not keys:
        return None
    new = dict(config)
    for key in keys:
        new[key] = {"class_name": "function", "config": KERAS2_HARD_SIGMOID, "registered_name": KERAS2_HARD_SIGMOID}
    return Fix(
        _with_config(obj, new),
        f"{'/'.join(keys)} 'hard_sigmoid' to keras_deser's Keras 2 formula (Keras 3's differs)",
        ("config", keys[0]),
    )


def _shared_id_down(obj: Obj) -> Fix | None:
    if "shared_object_id" not in obj:
        return None
    new = {key: value for key, value in obj.items() if key != "shared_object_id"}
    return Fix(new, "dropped shared_object_id (not read before 2.5)", ("shared_object_id",))


# --- the table -------------------------------------------------------------------------

#: Initializer classes (every name they have been written under).
INITIALIZERS: tuple[str, ...] = (
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
    "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "Zeros",
)
VARIANCE_SCALING: tuple[str, ...] = (
    "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
)
RNN_LAYERS: tuple[str, ...] = ("RNN", "SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
RNN_CELLS: tuple[str, ...] = ("SimpleRNNCell", "LSTMCell", "GRUCell")

GLOBAL_POOLING: tuple[str, ...] = tuple(
    f"Global{kind}Pooling{rank}D" for kind in ("Average", "Max") for rank in (1, 2, 3)
)

#: Classes of Keras 3 only (checked against every 2.x of the matrix).
KERAS3_ONLY_CLASSES: tuple[str, ...] = (
    "AutoContrast", "Equalization", "MaxNumBoundingBoxes", "MixUp", "Pipeline", "RandAugment",
    "RandomColorDegeneration", "RandomColorJitter", "RandomGrayscale", "RandomHue", "RandomPosterization",
    "RandomSaturation", "RandomSharpness", "RandomShear", "Solarization", "TorchModuleWrapper", "JaxLayer",
    "FlaxLayer", "RMSNormalization", "ReversibleEmbedding", "STFTSpectrogram", "MelSpectrogram",
    "RandomElasticTransform", "RandomErasing", "RandomGaussianBlur", "RandomInvert", "RandomPerspective",
    "CutMix", "AugMix",
)

FORMAT_CHANGES: tuple[FormatChange, ...] = (
    # Object forms first: later rows see 2.x-form objects.
    FormatChange(
        "function-object", "object-form", "2.13", ("function",),
        "functions serialized as {'class_name': 'function', 'config': name} objects (2.13+, Keras 3)",
        down=_function_object_down,
    ),
    FormatChange(
        "tuple-object", "object-form", "2.13", ("__tuple__",),
        "tuples serialized as {'class_name': '__tuple__'} objects (2.13+, Keras 3)",
        down=_tuple_object_down,
    ),
    FormatChange(
        "dtype-policy", "argument-re-encoded", "3.0", ("DTypePolicy", "FloatDTypePolicy"),
        "Keras 3 writes dtype as a DTypePolicy object; Keras 2 as a dtype string or a Policy dict",
        down=_dtype_policy_down,
    ),
    FormatChange(
        "mixed-policy", "argument-re-encoded", "3.0", ("Policy",),
        "Keras 2 mixed-precision Policy dicts; Keras 3 reads the policy name",
        up=_policy_up,
    ),
    FormatChange(
        "functional-name", "class-renamed", "2.3", ("Functional", "Model"),
        "functional models are written as 'Functional' from TF 2.3 on, 'Model' before",
        down=_model_class_down, up=_model_class_up,
    ),
    FormatChange(
        "nested-object-form", "object-form", "2.13", (),
        "module/registered_name/build_config/compile_config keys of the 2.13+ object form",
        down=_nested_form_down,
    ),
    FormatChange(
        "model-module", "module-moved", "3.0", tuple(KERAS3_MODEL_MODULES),
        "model classes live in keras.src.models (Keras 3), keras(.src).engine before; "
        "Keras 3's model_from_json needs the module of the outermost model",
        down=_model_module_down,
    ),
    FormatChange(
        "model-module-top", "module-moved", "3.0", tuple(KERAS3_MODEL_MODULES),
        "Keras 3 locates the outermost model by its module key",
        up=_model_module_up, top_only=True,
    ),
    FormatChange(
        "layer-module-top", "object-form", "3.0", (),
        "Keras 3's layers.deserialize locates a layer by its module key (it passes no module_objects)",
        up=_layer_module_up, top_only=True, top_kinds=("layers",),
    ),
    FormatChange(
        "call-nodes", "node-form", "3.0", (),
        "Keras 3 writes inbound nodes as {'args', 'kwargs'} with __keras_tensor__ objects; Keras 2 as lists",
        down=_nodes_down,
    ),
    FormatChange(
        "single-io-layers", "node-form", "3.0", ("Functional", "Model"),
        "Keras 3 writes a single input/output as one [name, node, tensor] triple; Keras 2 as a list of them",
        down=_io_layers_down,
    ),
    argument_renamed("input-batch-shape", ("InputLayer",), "batch_input_shape", "batch_shape", "3.0"),
    argument_renamed("leaky-relu-slope", ("LeakyReLU",), "alpha", "negative_slope", "3.0"),
    argument_added("input-optional", ("InputLayer",), "optional", "2.16", (False,)),
    FormatChange(
        "l1-l2-classes", "class-added", "2.3", ("L1", "L2"),
        "L1 and L2 regularizer classes appeared in TF 2.3; before, L1L2 with a zero term",
        down=_regularizer_down,
    ),
    argument_removed("initializer-dtype", INITIALIZERS, "dtype", "2.0", (), any_value=True),
    argument_added("initializer-axes-in", VARIANCE_SCALING, "input_axes", "3.0", (None,)),
    argument_added("initializer-axes-out", VARIANCE_SCALING, "output_axes", "3.0", (None,)),
    argument_removed("rnn-time-major", RNN_LAYERS, "time_major", "3.0", (False,)),
    argument_removed("rnn-implementation", RNN_LAYERS + RNN_CELLS, "implementation", "3.0", (1, 2), any_value=True),
    argument_added("rnn-seed", RNN_LAYERS + RNN_CELLS, "seed", "3.0", (None,), any_value=True),
    argument_added("rnn-zero-output", RNN_LAYERS, "zero_output_for_mask", "3.0", (False,)),
    argument_added("dense-quantization", ("Dense", "EinsumDense", "Embedding"), "quantization_config", "3.0", (None,)),
    argument_added("dense-lora", ("Dense", "EinsumDense", "Embedding"), "lora_rank", "3.0", (None,)),
    argument_added("dense-lora-alpha", ("Dense", "EinsumDense", "Embedding"), "lora_alpha", "3.0", (None,)),
    argument_added("pooling-keepdims", GLOBAL_POOLING, "keepdims", "2.6", (False,)),
    argument_added("conv-groups", ("Conv1D", "Conv2D", "Conv3D"), "groups", "2.3", (1,)),
    FormatChange(
        "layer-input-shape", "argument-renamed", "3.0", (),
        "Keras 3 layers take input_shape (no batch dimension), not batch_input_shape",
        up=_layer_input_shape_up,
    ),
    FormatChange(
        "wrapped-layer-module", "object-form", "3.0", tuple(WRAPPED_LAYER_KEYS),
        "Keras 3 wrappers build their wrapped layers with the new deserializer, which needs module keys",
        up=_wrapped_module_up,
    ),
    FormatChange(
        "bn-axis", "argument-re-encoded", "3.0", ("BatchNormalization",),
        "Keras 2 writes BatchNormalization axis as a one-element list; Keras 3 takes an int",
        up=_bn_axis_up,
    ),
    FormatChange(
        "hard-sigmoid", "argument-re-encoded", "3.0", (),
        "the activation named 'hard_sigmoid' changed its formula in Keras 3 (0.2x+0.5 before, x/6+0.5 after); "
        "only a Keras 3 with keras_deser loaded (which registers the Keras 2 formula) can carry it",
        up=_hard_sigmoid_up,
    ),
    argument_added("bn-synchronized", ("BatchNormalization",), "synchronized", "2.12", (False,)),
    FormatChange(
        "shared-object-id", "argument-added", "2.5", (),
        "shared_object_id keys (2.5+) mark objects shared between layers",
        down=_shared_id_down,
    ),
    class_added("keras3-classes", KERAS3_ONLY_CLASSES, "3.0"),
)
