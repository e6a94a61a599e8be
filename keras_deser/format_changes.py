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
    #: ``node-form``, ``class-removed``.
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
    #: Apply before the object's children are translated (a row that looks at
    #: its children in the source's form: which layers of a model are Keras 3
    #: operations).
    before_children: bool = False


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


def class_removed(name: str, classes: tuple[str, ...], since: str) -> FormatChange:
    """Classes gone from ``since`` on: a target at or after it lacks them."""

    def fix(obj: Obj) -> Fix | None:
        class_name = str(obj.get("class_name"))
        raise Blocked(f"class {class_name!r} does not exist from Keras {since} on", class_name, ("class_name",))

    return FormatChange(name, "class-removed", since, classes, f"classes removed in {since}", up=fix)


# --- the fixes that need more than a helper ---------------------------------------------


def _normalization_statistics_down(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    if config is None or config.get("mean") is None:
        return None
    class_name = str(obj.get("class_name"))
    raise Blocked(f"class {class_name!r} given mean and variance keeps them as weights before Keras 2.6 "
                  "(a layout this config does not carry)", class_name, ("config", "mean"))

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
    if not isinstance(name, str):
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


def _nested_model_module_up(obj: Obj) -> Fix | None:
    module = obj.get("module")
    if not (isinstance(module, str) and _OLD_MODEL_MODULE.match(module)):
        return None
    class_name = obj.get("class_name")
    new = dict(obj)
    new["module"] = KERAS3_MODEL_MODULES.get(class_name, KERAS3_MODEL_MODULES["Functional"])  # type: ignore[arg-type]
    new["registered_name"] = class_name if class_name == "Functional" else None
    return Fix(new, f"module {module!r} to Keras 3's {new['module']!r}", ("module",))


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


#: Names of the positional call arguments after the first, for layers that
#: take several tensors (Keras 2 nodes carry them as keyword arguments).
CALL_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "MultiHeadAttention": ("value", "key"),
    "GroupedQueryAttention": ("value", "key"),
    "RNN": ("initial_state",), "SimpleRNN": ("initial_state",), "LSTM": ("initial_state",),
    "GRU": ("initial_state",), "Bidirectional": ("initial_state",),
}


def _tensor_history(value: Any) -> Any:
    """A Keras 3 call argument in Keras 2's node form (tensors as ``[layer, node, tensor]``).

    ``_NOT_CARRIED`` for what has no such form (a structure that is not tensors).
    """
    if isinstance(value, dict):
        found: list[list[Any]] = []
        return found[0] if _node_tensors(value, found) else _NOT_CARRIED
    if isinstance(value, list):
        items = [_tensor_history(item) for item in value]
        return _NOT_CARRIED if any(item is _NOT_CARRIED for item in items) else items
    return value


_NOT_CARRIED = object()


def _nodes_down(obj: Obj) -> Fix | None:
    nodes = obj.get("inbound_nodes")
    if not isinstance(nodes, list) or not any(isinstance(node, dict) for node in nodes):
        return None
    legacy = []
    class_name = str(obj.get("class_name"))
    names = CALL_ARGUMENTS.get(class_name, ())
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            legacy.append(node)
            continue
        args = node.get("args") or []
        kwargs = node.get("kwargs") or {}
        tensors: list[list[Any]] = []
        if not args or len(args) > len(names) + 1 or not _node_tensors(args[0], tensors) or not isinstance(
            kwargs, dict
        ):
            raise Blocked(
                f"a Keras 3 node with {len(args)} positional call arguments has no Keras 2 form"
                + (f" ({class_name} takes {1 + len(names)})" if names else " (Keras 2 nodes take one)"),
                class_name,
                ("inbound_nodes", index),
            )
        # Keras 3 records call arguments left at None (``mask=None``), which
        # Keras 2 layers' ``call`` may not take; None is their default anyway.
        # A ``mask`` tensor is the one Keras 2 propagates by itself.
        plain: dict[str, Any] = {}
        for key, value in list(zip(names, args[1:])) + list(kwargs.items()):
            carried = _tensor_history(value) if value is not None and key != "mask" else _NOT_CARRIED
            if carried is not _NOT_CARRIED:
                plain[key] = carried
        legacy.append([history + [plain] for history in tensors])
    new = dict(obj)
    new["inbound_nodes"] = legacy
    return Fix(new, "Keras 3 call nodes to Keras 2 node lists", ("inbound_nodes",))


#: Module of Keras 3's operations, which Keras 3 records as layers of a
#: functional model (``NotEqual``/``Any`` computing the masks of ``Embedding``
#: and ``Masking`` under the TensorFlow and JAX backends).
KERAS3_OPS_MODULE = "keras.src.ops."


def _history_names(value: Any, out: list[tuple[str, bool]], mask: bool) -> None:
    """``(layer name, only as a mask)`` of every tensor a Keras 3 node argument refers to."""
    if isinstance(value, dict):
        if value.get("class_name") == _KERAS_TENSOR:
            history = (value.get("config") or {}).get("keras_history")
            if isinstance(history, list) and history and isinstance(history[0], str):
                out.append((history[0], mask))
            return
        for key, item in value.items():
            _history_names(item, out, mask or key == "mask")
    elif isinstance(value, list):
        for item in value:
            _history_names(item, out, mask)


def _output_names(value: Any) -> list[str]:
    """Layer names of a functional config's ``output_layers`` (triples, or lists of them)."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value[0]]
    if isinstance(value, list):
        return [name for item in value for name in _output_names(item)]
    return []


def _mask_ops_down(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    layers = config.get("layers") if config is not None else None
    if not isinstance(layers, list):
        return None
    ops = {
        str(layer.get("name")): layer for layer in layers
        if isinstance(layer, dict) and str(layer.get("module", "")).startswith(KERAS3_OPS_MODULE)
    }
    if not ops:
        return None
    uses: list[tuple[str, str, bool]] = []  # (user, used, only as a mask)
    for layer in layers:
        if isinstance(layer, dict):
            found: list[tuple[str, bool]] = []
            _history_names(layer.get("inbound_nodes"), found, False)
            uses.extend((str(layer.get("name")), name, mask) for name, mask in found)
    removable = set(ops) - set(_output_names(config.get("output_layers")))  # type: ignore[union-attr]
    changed = True
    while changed:  # an operation stays when something kept computes with it (not as a mask)
        changed = False
        for user, used, mask in uses:
            if used in removable and user not in removable and not mask:
                removable.discard(used)
                changed = True
    stays = sorted(name for name in ops if name not in removable)
    if stays:
        layer = ops[stays[0]]
        raise Blocked(
            f"Keras 3 operation {layer.get('class_name')!r} (layer {stays[0]!r}) computes part of the model; "
            "Keras 2 has no operation layers",
            str(layer.get("class_name")),
            ("config", "layers", layers.index(layer)),
        )
    new = dict(config)  # type: ignore[arg-type]
    new["layers"] = [layer for layer in layers if not (isinstance(layer, dict) and layer.get("name") in removable)]
    return Fix(
        _with_config(obj, new),
        f"dropped Keras 3 mask operations {', '.join(sorted(removable))} "
        "(Keras 2 propagates masks itself)",
        ("config", "layers"),
    )


def _skips_first_node(layer: Any) -> bool:
    """Whether Keras 2 numbers this nested layer's call nodes from 1.

    A Keras 2 model built on its own inputs holds a node of its own first
    (``_should_skip_first_node`` in Keras 2.9's functional.py, ``Network``'s
    in TF 1.15), which configs leave out: a functional model always, a
    Sequential one when it has an input (an InputLayer first, or a first
    layer with a batch shape).  Keras 3 models hold no such node.
    """
    if not isinstance(layer, dict):
        return False
    config = layer.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        return False
    if "input_layers" in config:
        return True
    first = config["layers"][0] if config["layers"] else None
    if layer.get("class_name") != "Sequential" or not isinstance(first, dict):
        return False
    first_config = first.get("config")
    shaped = isinstance(first_config, dict) and ("batch_input_shape" in first_config or "batch_shape" in first_config)
    return first.get("class_name") == "InputLayer" or shaped


def _shift_history(value: Any, names: frozenset[str], delta: int, keras3: bool) -> Any:
    """``value`` with the node index of references to ``names`` moved by ``delta``."""
    if keras3 and isinstance(value, dict):
        if value.get("class_name") == _KERAS_TENSOR:
            config = value.get("config")
            history = config.get("keras_history") if isinstance(config, dict) else None
            if isinstance(history, list) and len(history) == 3 and history[0] in names:
                moved = [history[0], history[1] + delta, history[2]]
                return dict(value, config=dict(config, keras_history=moved))  # type: ignore[arg-type]
            return value
        return {key: _shift_history(item, names, delta, keras3) for key, item in value.items()}
    if isinstance(value, dict):
        return {key: _shift_history(item, names, delta, keras3) for key, item in value.items()}
    if isinstance(value, list):
        if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int) and value[0] in names:
            return [value[0], value[1] + delta] + [_shift_history(item, names, delta, keras3) for item in value[2:]]
        return [_shift_history(item, names, delta, keras3) for item in value]
    return value


def _is_history(value: Any) -> bool:
    """A Keras 2 tensor reference: ``[layer name, node index, tensor index]``."""
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and isinstance(value[1], int) and isinstance(value[2], int))


def _holds_history(value: Any) -> bool:
    if _is_history(value):
        return True
    if isinstance(value, dict):
        return any(_holds_history(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_history(item) for item in value)
    return False


def _has_tensor_kwargs(node: Any) -> bool:
    return isinstance(node, list) and any(
        isinstance(entry, list) and len(entry) > 3 and _holds_history(entry[3]) for entry in node
    )


def _keras_tensor(history: list[Any]) -> Obj:
    # Keras 3 reads only keras_history (the tensor is the inbound node's); shape and dtype are placeholders.
    return {"class_name": _KERAS_TENSOR, "config": {"shape": [], "dtype": "float32", "keras_history": list(history)}}


def _revived(value: Any) -> Any:
    if _is_history(value):
        return _keras_tensor(value)
    if isinstance(value, dict):
        return {key: _revived(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_revived(item) for item in value]
    return value


def _keras3_node(node: Any) -> Any:
    """A Keras 2 node list as Keras 3 writes it: ``{'args': [tensors], 'kwargs': {...}}``."""
    if not isinstance(node, list) or not node or not all(isinstance(entry, list) and len(entry) >= 3 for entry in node):
        return node
    tensors = [_keras_tensor(entry[:3]) for entry in node]
    kwargs = node[0][3] if len(node[0]) > 3 and isinstance(node[0][3], dict) else {}
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": _revived(kwargs)}


def _nested_nodes(delta: int) -> FixFunction:
    def fix(obj: Obj) -> Fix | None:
        config = _config_of(obj)
        if config is None or not isinstance(config.get("layers"), list) or "input_layers" not in config:
            return None
        layers = config["layers"]
        names = frozenset(str(layer.get("name")) for layer in layers if _skips_first_node(layer))
        nodes = [node for layer in layers if isinstance(layer, dict) for node in layer.get("inbound_nodes") or ()]
        keras3 = any(isinstance(node, dict) for node in nodes)
        tensor_kwargs = not keras3 and any(_has_tensor_kwargs(node) for node in nodes)
        if keras3 != (delta > 0) or not (names or (delta < 0 and tensor_kwargs)):
            return None  # up: Keras 2 lists only; down: Keras 3 nodes only
        new_layers = []
        for layer in layers:
            if isinstance(layer, dict) and "inbound_nodes" in layer:
                moved = _shift_history(layer.get("inbound_nodes"), names, delta, keras3)
                # Up, the nodes are written in Keras 3's form: it reads tensors passed as keyword
                # arguments only there, and it marks the numbering as Keras 3's (translating
                # again changes nothing).
                layer = dict(layer, inbound_nodes=[_keras3_node(node) for node in moved] if delta < 0 else moved)
            new_layers.append(layer)
        new = dict(config, layers=new_layers)
        new["output_layers"] = _shift_history(config.get("output_layers"), names, delta, False)
        if new == config:
            return None
        described = (
            f"call nodes of nested models {', '.join(sorted(names))} renumbered "
            f"({'from 1 (Keras 2)' if delta > 0 else 'from 0 (Keras 3)'})" if names else ""
        )
        if delta < 0:
            described = (described + "; " if described else "") + "call nodes in Keras 3's form"
        return Fix(_with_config(obj, new), described, ("config", "layers"))

    return fix


MHA_SHAPES: tuple[str, ...] = ("query_shape", "key_shape", "value_shape")
_KERAS3_MHA_ARGUMENTS = ("flash_attention", "use_gate", "sliding_window", "seed")

#: Keras 2's initializer classes that TF 1.15 has only as functions, as the VarianceScaling they are.
VARIANCE_SCALING_PRESETS: dict[str, dict[str, Any]] = {
    "HeNormal": {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"},
    "HeUniform": {"scale": 2.0, "mode": "fan_in", "distribution": "uniform"},
    "LecunNormal": {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
    "LecunUniform": {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"},
}


def _variance_scaling_down(obj: Obj) -> Fix | None:
    preset = VARIANCE_SCALING_PRESETS.get(str(obj.get("class_name")))
    config = _config_of(obj)
    if preset is None:
        return None
    seed = config.get("seed") if config is not None else None
    return Fix({"class_name": "VarianceScaling", "config": dict(preset, seed=seed)},
               f"{obj.get('class_name')} to the VarianceScaling it is", ("class_name",))


def _mha_shapes_down(obj: Obj) -> Fix | None:
    """Keras 2.6+'s MultiHeadAttention.from_config pops the shapes: None (built at the call)."""
    config = _config_of(obj)
    if config is None or all(key in config for key in MHA_SHAPES):
        return None
    # Run before the object's own rows: a module key or Keras 3's own arguments still say the
    # object is in Keras 3's form (a 2.4 config lacks the shapes too, and keeps lacking them).
    if "module" not in obj and not any(key in config for key in _KERAS3_MHA_ARGUMENTS):
        return None
    new = dict(config)
    for key in MHA_SHAPES:
        new.setdefault(key, None)
    return Fix(_with_config(obj, new), "query/key/value shapes None (Keras 2 reads them; built at the call)",
               ("config", "query_shape"))


def _mha_build_config_up(obj: Obj) -> Fix | None:
    """2.13+'s MultiHeadAttention ``build_config`` (``input_shape``: the query's) in Keras 3's form."""
    build = obj.get("build_config")
    config = _config_of(obj)
    if not (isinstance(build, dict) and "input_shape" in build) or config is None:
        return None
    new = dict(obj)
    shapes = {f"{name}_shape": config.get(f"{name}_shape") for name in ("query", "value", "key")}
    if shapes["query_shape"] is not None and shapes["value_shape"] is not None:
        new["build_config"] = {"shapes_dict": shapes}
        described = "build_config input_shape to Keras 3's shapes_dict (from query/value/key_shape)"
    else:
        del new["build_config"]
        described = "dropped build_config input_shape (Keras 3's MultiHeadAttention builds from its call)"
    return Fix(new, described, ("build_config",))


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
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "LecunNormal",
    "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "Zeros",
)
VARIANCE_SCALING: tuple[str, ...] = (
    "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
)
RNN_LAYERS: tuple[str, ...] = ("RNN", "SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
RNN_CELLS: tuple[str, ...] = ("SimpleRNNCell", "LSTMCell", "GRUCell")

#: Convolutions that took ``groups`` in Keras 2 (from TF 2.3) but not in Keras 3.
CONV_NO_GROUPS_IN_KERAS3: tuple[str, ...] = (
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D",
)
SEPARABLE_CONV: tuple[str, ...] = ("SeparableConv1D", "SeparableConv2D")
#: Layers Keras 3 gave a ``data_format`` that Keras 2's (channels-last) ones lack.
KERAS3_DATA_FORMAT: tuple[str, ...] = (
    "ZeroPadding1D", "CenterCrop", "Resizing", "RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation",
    "RandomZoom",
)
SPATIAL_DROPOUT: tuple[str, ...] = ("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")
ATTENTION: tuple[str, ...] = ("Attention", "AdditiveAttention")

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

#: Layer classes of the 2.x releases that older releases lack, by the release
#: dating them, read from each matrix release's ``tf.keras.layers`` (and its
#: ``experimental.preprocessing``).  Each group is dated at the earliest release
#: that can have added it (the first after the last matrix release lacking it),
#: so no target that has a class is refused; a target in between that lacks one
#: fails in its own loader ("Unknown layer").
TF2_CLASSES: tuple[str, ...] = (  # absent in TF 1.15, present in 2.4
    "CategoryCrossing", "CategoryEncoding", "CenterCrop", "Conv1DTranspose", "Convolution1DTranspose",
    "Discretization", "EinsumDense", "Hashing", "IntegerLookup", "MultiHeadAttention", "Normalization",
    "RandomContrast", "RandomCrop", "RandomFlip", "RandomFourierFeatures", "RandomHeight", "RandomRotation",
    "RandomTranslation", "RandomWidth", "RandomZoom", "Rescaling", "Resizing", "StringLookup",
    "SyncBatchNormalization", "TextVectorization",
)
KERAS_2_5_CLASSES: tuple[str, ...] = ("ConvLSTM1D", "ConvLSTM3D")  # absent in 2.4, present in 2.6
KERAS_2_7_CLASSES: tuple[str, ...] = (  # absent in 2.6, present in 2.9
    "DepthwiseConv1D", "HashedCrossing", "RandomBrightness", "UnitNormalization",
)

#: Activation names of the 2.x releases TF 1.15 lacks (in 2.9, not in 1.15; Keras 3 writes ``silu``).
TF2_ACTIVATIONS: frozenset[str] = frozenset(("swish", "silu", "gelu"))


def _tf2_activations_down(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    if config is None:
        return None
    for key, value in config.items():
        if str(key).endswith("activation") and isinstance(value, str) and value in TF2_ACTIVATIONS:
            raise Blocked(f"activation {value!r} does not exist before Keras 2.0", value, ("config", key))
    return None


def _mixed_policy_tf1(obj: Obj) -> Fix | None:
    config = _config_of(obj)
    name = config.get("name") if config is not None else None
    if isinstance(name, str) and name.startswith(_MIXED_PREFIX):
        class_name = str(obj.get("class_name"))
        raise Blocked(f"{class_name!r} {name!r}: a mixed-precision policy in a layer config is not read before "
                      "Keras 2.0", class_name, ("config", "name"))
    return None


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
        "mixed-policy-tf1", "argument-re-encoded", "2.0", ("DTypePolicy", "FloatDTypePolicy", "Policy"),
        "TF 1.15's layers take a dtype string, not a mixed-precision policy object",
        down=_mixed_policy_tf1,
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
        "model-module-nested", "module-moved", "3.0", tuple(KERAS3_MODEL_MODULES),
        "a nested model's 2.13+ module key (keras.src.engine.functional, tf_keras's) names no Keras 3 module",
        up=_nested_model_module_up,
    ),
    FormatChange(
        "layer-module-top", "object-form", "3.0", (),
        "Keras 3's layers.deserialize locates a layer by its module key (it passes no module_objects)",
        up=_layer_module_up, top_only=True, top_kinds=("layers",),
    ),
    FormatChange(
        "mask-operations", "node-form", "3.0", ("Functional", "Model"),
        "Keras 3 records the operations computing masks (NotEqual, Any, ...) as layers of a functional model "
        "and passes their results as mask arguments; Keras 2 propagates masks itself",
        down=_mask_ops_down, before_children=True,
    ),
    FormatChange(
        "nested-model-nodes", "node-form", "3.0", ("Functional", "Model"),
        "Keras 2 numbers the call nodes of a nested model with inputs from 1 (its own node 0 is not saved), "
        "Keras 3 from 0; Keras 3 reads tensors passed as keyword arguments (MultiHeadAttention's value) "
        "only in its own node form",
        down=_nested_nodes(1), up=_nested_nodes(-1), before_children=True,
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
    argument_added("conv-groups", ("Conv1D", "Conv2D", "Conv3D") + CONV_NO_GROUPS_IN_KERAS3, "groups", "2.3", (1,)),
    argument_removed("conv-groups-keras3", CONV_NO_GROUPS_IN_KERAS3, "groups", "3.0", (1,)),
    # Keras 2's separable convolutions wrote their base class's (unused) kernel arguments: they have
    # no `kernel` weight, only depthwise and pointwise ones.
    argument_removed("separable-kernel-initializer", SEPARABLE_CONV, "kernel_initializer", "3.0", (), any_value=True),
    argument_removed("separable-kernel-regularizer", SEPARABLE_CONV, "kernel_regularizer", "3.0", (), any_value=True),
    argument_removed("separable-kernel-constraint", SEPARABLE_CONV, "kernel_constraint", "3.0", (), any_value=True),
    # Keras 3's spatial dropouts take (rate, seed, name, dtype): no weights to train, a noise shape of their own.
    argument_removed("spatial-dropout-trainable", SPATIAL_DROPOUT, "trainable", "3.0", (), any_value=True),
    argument_removed("spatial-dropout-noise-shape", SPATIAL_DROPOUT, "noise_shape", "3.0", (None,)),
    argument_removed("attention-causal", ATTENTION, "causal", "3.0", (False,)),
    # Keras 2.6+ MultiHeadAttention records the shapes it was built with (absent in 2.4: dated 2.5);
    # Keras 3 builds from the call.
    FormatChange(
        "mha-shapes-keras2", "argument-removed", "3.0", ("MultiHeadAttention",),
        "MultiHeadAttention's from_config needs query/key/value_shape in Keras 2.6+; Keras 3 does not write them",
        down=_mha_shapes_down, before_children=True,
    ),
    argument_added("mha-query-shape-2.5", ("MultiHeadAttention",), "query_shape", "2.5", (), any_value=True),
    argument_added("mha-key-shape-2.5", ("MultiHeadAttention",), "key_shape", "2.5", (), any_value=True),
    argument_added("mha-value-shape-2.5", ("MultiHeadAttention",), "value_shape", "2.5", (), any_value=True),
    # Arguments Keras 3 writes that Keras 2 layers do not take (Keras 3.15 against 2.15 and 2.9's
    # signatures): dropped at Keras 3's default, another value refused.
    argument_added("keras3-data-format", KERAS3_DATA_FORMAT, "data_format", "3.0", (None, "channels_last")),
    argument_added("layer-norm-rms-scaling", ("LayerNormalization",), "rms_scaling", "3.0", (False,)),
    argument_added("resizing-pad", ("Resizing",), "pad_to_aspect_ratio", "3.0", (False,)),
    argument_added("resizing-fill-mode", ("Resizing",), "fill_mode", "3.0", ("constant",)),
    argument_added("resizing-fill-value", ("Resizing",), "fill_value", "3.0", (0.0,)),
    argument_added("resizing-antialias", ("Resizing",), "antialias", "3.0", (False,)),
    argument_added("mha-sliding-window", ("MultiHeadAttention",), "sliding_window", "3.0", (None,)),
    argument_added("mha-flash-attention", ("MultiHeadAttention",), "flash_attention", "3.0", (None,)),
    argument_added("mha-use-gate", ("MultiHeadAttention",), "use_gate", "3.0", (False,)),
    argument_added("mha-seed", ("MultiHeadAttention",) + ATTENTION, "seed", "3.0", (), any_value=True),
    argument_added("rnn-use-cudnn", ("LSTM", "GRU"), "use_cudnn", "3.0", ("auto",)),
    # In 2.9, not in 2.8 (keras-team/keras v2.8.0 has no score_mode).
    argument_added("attention-score-mode", ATTENTION, "score_mode", "2.9", ("dot",)),
    FormatChange(
        "normalization-statistics", "argument-re-encoded", "2.6", ("Normalization",),
        "Normalization given mean and variance: from 2.6 on they are constants, before it "
        "state weights (mean, variance, count) that a config from 2.6+ and its HDF5 do not carry",
        down=_normalization_statistics_down,
    ),
    # In 2.15, not in 2.9 (dated 2.10, the earliest possible).
    argument_added("normalization-invert", ("Normalization",), "invert", "2.10", (False,)),
    argument_added("embedding-sparse", ("Embedding",), "sparse", "2.10", (False,)),
    # In 2.9, not in TF 1.15 (dated 2.0, the earliest possible).
    argument_added("noise-seed", ("GaussianNoise", "GaussianDropout"), "seed", "2.0", (), any_value=True),
    argument_added("attention-dropout", ATTENTION, "dropout", "2.0", (0.0,)),
    FormatChange(
        "initializer-classes", "class-added", "2.0", tuple(VARIANCE_SCALING_PRESETS),
        "HeNormal/HeUniform/LecunNormal/LecunUniform classes (2.x); TF 1.15 has them as functions only",
        down=_variance_scaling_down,
    ),
    argument_added("conv-dilation", ("Conv3DTranspose", "DepthwiseConv2D"), "dilation_rate", "2.0",
                   ([1, 1], [1, 1, 1], 1)),
    argument_added("convlstm-return-state", ("ConvLSTM2D",), "return_state", "2.0", (False,)),
    # Keras 3's Embedding takes no input_length (a shape the model's input already has).
    argument_removed("embedding-input-length", ("Embedding",), "input_length", "3.0", (), any_value=True),
    FormatChange(
        "mha-build-config", "argument-re-encoded", "3.0", ("MultiHeadAttention",),
        "2.13+ writes MultiHeadAttention's build_config as the query's input_shape; Keras 3 builds it from a "
        "shapes_dict of query, value and key shapes",
        up=_mha_build_config_up,
    ),
    # tf_keras's MultiHeadAttention (2.21; not 2.15: dated 2.16) has it; Keras 3's does not.
    argument_added("mha-robust-masking", ("MultiHeadAttention",), "softmax_robust_masking", "2.16", (False,)),
    argument_removed("mha-robust-masking-keras3", ("MultiHeadAttention",), "softmax_robust_masking", "3.0",
                     (False,)),
    argument_removed("mha-query-shape", ("MultiHeadAttention",), "query_shape", "3.0", (), any_value=True),
    argument_removed("mha-key-shape", ("MultiHeadAttention",), "key_shape", "3.0", (), any_value=True),
    argument_removed("mha-value-shape", ("MultiHeadAttention",), "value_shape", "3.0", (), any_value=True),
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
    class_added("tf2-classes", TF2_CLASSES, "2.0"),
    FormatChange(
        "tf2-activations", "class-added", "2.0", (),
        "activations swish/silu/gelu (2.x) that TF 1.15 lacks", down=_tf2_activations_down,
    ),
    class_added("keras-2.5-classes", KERAS_2_5_CLASSES, "2.5"),
    class_added("keras-2.7-classes", KERAS_2_7_CLASSES, "2.7"),
    # TF 1.15's cuDNN layers (tf.compat.v1 only in 2.x); CategoryCrossing (in 2.4 and 2.6, not 2.9).
    class_removed("cudnn-rnn-classes", ("CuDNNGRU", "CuDNNLSTM"), "2.0"),
    class_removed("category-crossing", ("CategoryCrossing",), "2.7"),
)


# --- where a .keras archive keeps its weights ----------------------------------------------


class ArchiveLayout(NamedTuple):
    """One way a release's ``saving_lib`` lays out ``model.weights.h5``.

    Every release writes an object's own variables at ``<path>/vars/<i>``
    (``i`` in the order of its trainable then non-trainable variables) and
    the objects it tracks below ``<path>/<attribute>`` (``cell``,
    ``forward_layer``, ``layer`` ...); the objects of a list attribute get
    their snake-cased class name, ``_<n>`` from the second of a class on.
    What differs is the list a model's layers are written under, and whether
    a layer listed twice there still counts towards the ``_<n>`` numbering.
    """

    #: The store key of a model's layer list.
    container: str
    #: First release writing it (``(major, minor)``).
    since: str
    #: Whether the numbering skips a number for a layer listed twice (so it
    #: says nothing beyond the order of the objects of one class).
    counts_duplicates: bool
    what: str


ARCHIVE_LAYOUTS: tuple[ArchiveLayout, ...] = (
    ArchiveLayout(
        "_layer_checkpoint_dependencies", "2.12", True,
        "Keras 2.12 (save_format='keras_v3') writes a model's layers under the checkpoint dependencies, "
        "where each layer with weights is listed twice",
    ),
    ArchiveLayout("layers", "2.13", False, "Keras 2.13+, tf_keras and Keras 3 write them under `layers`"),
)

#: Store keys of a model's layer list, by any release (what the target's ``layers`` holds).
ARCHIVE_LAYER_LISTS: frozenset[str] = frozenset(layout.container for layout in ARCHIVE_LAYOUTS)

#: Store keys of state that a loaded, uncompiled model has no counterpart for.
ARCHIVE_SKIPPED_STATE: frozenset[str] = frozenset(("optimizer",))

#: Class names a target release gives objects whose archive path uses another
#: name: TF 1.15 builds a functional model as ``Model`` (2.13+ archives write
#: ``functional``).
ARCHIVE_CLASS_ALIASES: dict[str, str] = {"Model": "Functional"}

#: For writing a Keras 2 HDF5 file from an archive without the target release
#: (``keras-deser convert m.keras -o m.h5``): how many of an object's own
#: variables, by its archive name (snake-cased class), are non-trainable
#: (they come last in ``save_own_variables``'s order).  Keras 2's HDF5 lists a
#: layer's weights as ``trainable_weights + non_trainable_weights`` over the
#: objects it tracks, so a layer of several such objects can only be ordered
#: when every one of them is known here.
ARCHIVE_NON_TRAINABLE: dict[str, int] = {
    **dict.fromkeys(
        (
            "dense", "conv1d", "conv2d", "conv3d", "conv1d_transpose", "conv2d_transpose", "conv3d_transpose",
            "separable_conv1d", "separable_conv2d", "depthwise_conv2d", "embedding", "layer_normalization",
            "lstm_cell", "gru_cell", "simple_rnn_cell", "p_re_lu",
        ),
        0,
    ),
    "batch_normalization": 2,  # moving_mean, moving_variance
}

#: The order in which Keras 2 layers track the objects below them (``Wrapper``'s
#: ``layer`` first, then ``Bidirectional``'s ``forward_layer``/``backward_layer``;
#: RNN's ``cell``); archives key them by these attribute names.
ARCHIVE_CHILD_ORDER: tuple[str, ...] = ("layer", "forward_layer", "backward_layer", "cell", "cells")
