"""A battery of behaviour cases for Keras 2.9's ``deserialize_keras_object``.

Every case is a function ``case(api) -> outcome``: ``api`` is a namespace
holding one implementation's toolkit (Keras 2.9's own
``keras.utils.generic_utils`` or keras_deser, see :func:`make_api`) and the
outcome is a JSON-serializable record of everything observable: results,
exception types and messages, the caller's config afterwards, what
``from_config`` received and saw, shared-object identity and the registry
state.  ``tools/record_golden.py`` stores Keras 2.9's outcomes in
``tests/golden/keras-2.9.0.json``; ``tests/test_battery.py`` replays the cases
through keras_deser and compares.

Only plain-Python probe classes are used (nothing here imports TensorFlow or
Keras), so the battery runs in every environment.  Every case removes what it
registers (``try``/``finally``); :func:`run_case` also checks that the
registry is left as it was and reports (then repairs) anything a case leaked.

Names used by the battery all start with ``Bt``/``bt_`` (or use the
``Bt>`` package) so that only the battery's own registry entries are
recorded.
"""

import collections
import functools
import re
import types

__all__ = ["CASES", "make_api", "run_case", "run_all", "render"]

CASES = collections.OrderedDict()

#: Names of the toolkit every ``api`` must offer.
API_NAMES = (
    "deserialize_keras_object",
    "class_and_config_for_serialized_keras_object",
    "get_custom_objects",
    "CustomObjectScope",
    "custom_object_scope",
    "register_keras_serializable",
    "get_registered_name",
    "get_registered_object",
    "SharedObjectLoadingScope",
    "SharedObjectSavingScope",
    "DisableSharedObjectScope",
    "NoopLoadingScope",
    "SHARED_OBJECT_KEY",
    "serialize_keras_object",
    "serialize_keras_class_and_config",
)


def make_api(module, names_dict, label):
    """A namespace with ``module``'s toolkit plus battery hooks.

    ``names_dict`` is the live ``{object: registered name}`` dict the
    implementation's ``register_keras_serializable`` writes (needed to clean
    up registrations); ``label`` names the implementation in reports.
    """
    api = types.SimpleNamespace()
    for name in API_NAMES:
        if name == "custom_object_scope" and not hasattr(module, name):
            value = module.CustomObjectScope
        else:
            value = getattr(module, name)
        setattr(api, name, value)
    api.registered_names = lambda: names_dict
    api.label = label
    return api


def case(fn):
    """Register ``fn`` as a battery case named after it (``case_`` dropped)."""
    name = fn.__name__
    if name.startswith("case_"):
        name = name[len("case_"):]
    if name in CASES:
        raise RuntimeError("duplicate battery case %r" % name)
    CASES[name] = fn
    return fn


# --------------------------------------------------------------------------
# Rendering: turn anything into a stable, JSON-serializable description.

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def normalize(text):
    """``text`` with memory addresses and this module's import name removed."""
    text = _ADDRESS.sub(" at 0x?", text)
    if __name__ != "battery":
        text = text.replace(__name__ + ".", "battery.")
    return text


def _is_ours(key):
    return isinstance(key, str) and (key.startswith(("Bt", "bt_")) or "Bt>" in key or ">Bt" in key)


def render(obj, _depth=0):
    """A JSON-friendly description of ``obj`` (copies; never aliases)."""
    if _depth > 12:
        return "<deep>"
    if obj is None or isinstance(obj, (bool, int, float)) and type(obj) in (bool, int, float):
        return obj
    if type(obj) is str:
        return obj
    if isinstance(obj, str):
        return {"str_subclass": type(obj).__name__, "value": str(obj)}
    if isinstance(obj, tuple):
        return {"tuple": [render(item, _depth + 1) for item in obj]}
    if isinstance(obj, list):
        return [render(item, _depth + 1) for item in obj]
    if isinstance(obj, dict):
        if type(obj) is dict and all(type(key) is str for key in obj):
            return {key: render(value, _depth + 1) for key, value in obj.items()}
        return {
            "dict_type": type(obj).__name__,
            "items": [[render(key, _depth + 1), render(value, _depth + 1)] for key, value in dict.items(obj)],
        }
    if isinstance(obj, type):
        return {"class": obj.__name__}
    if isinstance(obj, functools.partial):
        return {"partial": render(obj.func, _depth + 1)}
    if isinstance(obj, types.FunctionType):
        return {"function": obj.__name__}
    if isinstance(obj, types.BuiltinFunctionType):
        return {"builtin": obj.__name__}
    if isinstance(obj, types.MethodType):
        return {"method": obj.__func__.__name__}
    if isinstance(obj, BtBase):
        return {"instance": type(obj).__name__, "config": render(obj.config, _depth + 1)}
    return {"object": type(obj).__name__}


def error(exc, interpreter=False):
    """Describe ``exc``; ``interpreter``: its message is made by Python itself.

    Messages built by CPython (``TypeError`` for a bad call, ``unhashable
    type``...) change wording between Python releases; they are compared
    exactly only on the Python version the golden file was recorded with.
    """
    record = {"type": type(exc).__name__, "message": normalize(str(exc))}
    if interpreter:
        record["interpreter_message"] = True
    return record


def attempt(fn, interpreter=False):
    """``{'result': render(fn())}`` or ``{'error': ...}``; also the raw value."""
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 - the battery records everything
        return {"error": error(exc, interpreter)}, None
    return {"result": render(value)}, value


def ours(mapping):
    """The battery's own entries of ``mapping``, rendered, in order."""
    return [[key, render(value)] for key, value in dict.items(mapping) if _is_ours(key)] if isinstance(
        mapping, dict
    ) else [[key, render(mapping[key])] for key in list(mapping) if _is_ours(key)]


def visible(api):
    """The battery's entries visible through ``get_custom_objects()`` now.

    Sorted by name: which entries and objects are visible is the behaviour;
    the iteration order of a scoped view on layouts keeping scopes apart
    (registry first, then scope entries) is not compared.
    """
    mapping = api.get_custom_objects()
    return sorted([key, render(mapping[key])] for key in list(mapping.keys()) if _is_ours(key))


def names_state(api):
    """The battery's objects in the registered-names dict, rendered."""
    return sorted(
        [render(obj), name] for obj, name in list(api.registered_names().items()) if _is_ours(name)
    )


def registry_state(api):
    return {"objects": visible(api), "names": names_state(api)}


def cleanup(api, keys=(), objects=()):
    """Remove ``keys`` from the registry and ``objects`` from the names dict."""
    registry = api.get_custom_objects()
    for key in keys:
        registry.pop(key, None)
    names = api.registered_names()
    for obj in objects:
        names.pop(obj, None)


# --------------------------------------------------------------------------
# Probe classes.


class BtBase:
    """Base of every probe instance: keeps the config it was built from."""

    def __init__(self, config=None):
        self.config = config

    def get_config(self):
        return self.config

    def __repr__(self):
        return "<%s instance>" % type(self).__name__


def probe(api, style="plain", name="BtProbe", log=None):
    """A fresh probe class whose ``from_config`` logs what it received.

    ``style``: ``plain`` (``from_config(cls, config)``), ``custom_objects``
    (``from_config(cls, config, custom_objects=None)``), ``kwonly``
    (``custom_objects`` keyword-only), ``kwargs`` (``**kwargs``), ``static``
    (a staticmethod with ``custom_objects``), ``none`` (no ``from_config``;
    ``__init__(**kwargs)``) or ``raises`` (``from_config`` raises).

    Each log entry holds the raw ``config``, the raw ``custom_objects`` (or
    the string ``'<not passed>'``) and the battery's entries visible through
    ``get_custom_objects()`` and ``get_registered_object`` at call time.
    """
    log = [] if log is None else log

    def note(config, custom_objects="<not passed>"):
        log.append(
            {
                "config": config,
                "custom_objects": custom_objects,
                "visible": visible(api),
                "registered_BtHelper": render(api.get_registered_object("BtHelper")),
            }
        )

    if style == "plain":

        class Probe(BtBase):
            @classmethod
            def from_config(cls, config):
                note(config)
                return cls(config)

    elif style == "custom_objects":

        class Probe(BtBase):
            @classmethod
            def from_config(cls, config, custom_objects=None):
                note(config, custom_objects)
                return cls(config)

    elif style == "kwonly":

        class Probe(BtBase):
            @classmethod
            def from_config(cls, config, *, custom_objects=None):
                note(config, custom_objects)
                return cls(config)

    elif style == "kwargs":

        class Probe(BtBase):
            @classmethod
            def from_config(cls, config, **kwargs):
                note(config, kwargs.get("custom_objects", "<not passed>"))
                return cls(config)

    elif style == "static":

        class Probe(BtBase):
            @staticmethod
            def from_config(config, custom_objects=None):
                note(config, custom_objects)
                return Probe(config)

    elif style == "none":

        class Probe(BtBase):
            def __init__(self, **kwargs):
                note(kwargs)
                BtBase.__init__(self, kwargs)

    elif style == "raises":

        class Probe(BtBase):
            @classmethod
            def from_config(cls, config):
                note(config)
                raise ValueError("bt from_config failed")

    else:
        raise ValueError(style)
    Probe.__name__ = name
    Probe.__qualname__ = name
    Probe.log = log
    return Probe


def render_log(log, caller_config=None):
    """The probe log rendered; ``caller_config`` checks config identity."""
    out = []
    for entry in log:
        custom = entry["custom_objects"]
        item = {
            "config": render(entry["config"]),
            "custom_objects": custom if isinstance(custom, str) else (
                None if custom is None else {"type": type(custom).__name__, "ours": ours(custom)}
            ),
            "visible": entry["visible"],
            "registered_BtHelper": entry["registered_BtHelper"],
        }
        if caller_config is not None:
            item["config_is_callers"] = entry["config"] is caller_config
        out.append(item)
    return out


def bt_fn(x=None):
    """A plain function the battery refers to by name."""
    return x


def bt_other_fn(x=None):
    return x


class BtPlainClass(BtBase):
    """A class instantiated with no arguments when named by a string."""

    instances = 0

    def __init__(self, *args, **kwargs):
        BtBase.__init__(self, {"args": list(args), "kwargs": kwargs})


class BtNeedsArg(BtBase):
    def __init__(self, required):
        BtBase.__init__(self, {"required": required})


class BtDict(dict):
    """A dict subclass whose ``get`` tags what it returns."""

    def get(self, key, default=None):
        value = dict.get(self, key, default)
        return ("BtDict.get", value)


def _callers(identifier):
    return identifier.get("config") if isinstance(identifier, dict) else None


def deser_record(api, identifier, module_objects=None, custom_objects=None, printable=None, log=None,
                 interpreter=False):
    """Deserialize ``identifier`` and record result, caller config and log."""
    inner = _callers(identifier)
    kwargs = {"module_objects": module_objects, "custom_objects": custom_objects}
    if printable is not None:
        kwargs["printable_module_name"] = printable
    record, value = attempt(lambda: api.deserialize_keras_object(identifier, **kwargs), interpreter)
    if isinstance(identifier, dict):
        record["caller_after"] = render(identifier)
        record["inner_identity_kept"] = identifier.get("config") is inner
    if log is not None:
        record["from_config"] = render_log(log, inner)
        del log[:]
    return record, value


# --------------------------------------------------------------------------
# Non-dict, non-string identifiers.


@case
def case_none_returns_none(api):
    return deser_record(api, None)[0]


@case
def case_none_with_every_argument(api):
    return deser_record(api, None, module_objects={"bt_fn": bt_fn}, custom_objects={"x": 1}, printable="layer")[0]


@case
def case_function_passed_in_returned(api):
    record, value = deser_record(api, bt_fn)
    record["identity"] = value is bt_fn
    return record


@case
def case_lambda_passed_in_returned(api):
    fn = lambda x: x  # noqa: E731
    record, value = deser_record(api, fn, printable="activation")
    record["identity"] = value is fn
    return record


@case
def case_class_passed_in_rejected(api):
    return deser_record(api, BtPlainClass, module_objects={"BtPlainClass": BtPlainClass})[0]


@case
def case_int_rejected_printable_name(api):
    return deser_record(api, 3, printable="regularizer")[0]


@case
def case_list_rejected(api):
    return deser_record(api, ["bt_fn"], module_objects={"bt_fn": bt_fn})[0]


@case
def case_tuple_rejected(api):
    return deser_record(api, ("bt_fn", 1))[0]


@case
def case_instance_rejected(api):
    return deser_record(api, BtPlainClass(), printable="initializer")[0]


@case
def case_builtin_function_rejected(api):
    return deser_record(api, len)[0]


@case
def case_bound_method_rejected(api):
    return deser_record(api, BtPlainClass().get_config)[0]


@case
def case_partial_rejected(api):
    return deser_record(api, functools.partial(bt_fn, 1))[0]


@case
def case_bytes_rejected(api):
    return deser_record(api, b"bt_fn", module_objects={"bt_fn": bt_fn})[0]


@case
def case_float_and_bool_rejected(api):
    return {
        "float": deser_record(api, 0.5)[0],
        "bool": deser_record(api, False)[0],
        "zero": deser_record(api, 0)[0],
        "empty_str_module_none": deser_record(api, "")[0],
    }


# --------------------------------------------------------------------------
# String identifiers.


@case
def case_string_lookup_order_custom_registry_module(api):
    def from_custom():
        return "custom"

    def from_registry():
        return "registry"

    def from_module():
        return "module"

    registry = api.get_custom_objects()
    out = {}
    try:
        registry["bt_name"] = from_registry
        out["all_three"] = deser_record(
            api, "bt_name", module_objects={"bt_name": from_module}, custom_objects={"bt_name": from_custom}
        )[0]
        out["registry_and_module"] = deser_record(api, "bt_name", module_objects={"bt_name": from_module})[0]
        out["custom_is_empty"] = deser_record(api, "bt_name", module_objects={"bt_name": from_module}, custom_objects={})[0]
    finally:
        cleanup(api, ["bt_name"])
    out["module_only"] = deser_record(
        api, "bt_name", module_objects={"bt_name": from_module}, custom_objects={"bt_x": from_custom}
    )[0]
    return out


@case
def case_string_class_instantiated_without_args(api):
    out = {}
    out["module"] = deser_record(api, "BtPlainClass", module_objects={"BtPlainClass": BtPlainClass})[0]
    out["custom"] = deser_record(api, "BtPlainClass", custom_objects={"BtPlainClass": BtPlainClass})[0]
    return out


@case
def case_string_class_needing_args_fails(api):
    return deser_record(api, "BtNeedsArg", module_objects={"BtNeedsArg": BtNeedsArg}, interpreter=True)[0]


@case
def case_string_function_returned_not_called(api):
    record, value = deser_record(api, "bt_fn", module_objects={"bt_fn": bt_fn})
    record["identity"] = value is bt_fn
    return record


@case
def case_string_other_values_returned(api):
    module_objects = {"bt_int": 42, "bt_zero": 0, "bt_list": [1, 2], "bt_instance": BtBase({"a": 1})}
    out = {}
    for key in module_objects:
        record, value = deser_record(api, key, module_objects=module_objects)
        record["identity"] = value is module_objects[key]
        out[key] = record
    return out


@case
def case_string_unknown_without_module_objects(api):
    return deser_record(api, "bt_missing", interpreter=False)[0]


@case
def case_string_unknown_with_module_objects(api):
    return deser_record(api, "bt_missing", module_objects={"bt_fn": bt_fn}, printable="activation function")[0]


@case
def case_string_unknown_empty_module_objects(api):
    return deser_record(api, "bt_missing", module_objects={}, custom_objects={"bt_fn": bt_fn})[0]


@case
def case_string_none_values(api):
    registry = api.get_custom_objects()
    out = {}
    out["module_none"] = deser_record(api, "bt_none", module_objects={"bt_none": None})[0]
    out["custom_none"] = deser_record(api, "bt_none", module_objects={"bt_none": bt_fn}, custom_objects={"bt_none": None})[0]
    try:
        registry["bt_none"] = None
        out["registry_none"] = deser_record(api, "bt_none", module_objects={"bt_none": bt_fn})[0]
    finally:
        cleanup(api, ["bt_none"])
    return out


@case
def case_string_custom_objects_dict_subclass_get(api):
    custom = BtDict(bt_fn=bt_fn)
    return deser_record(api, "bt_fn", custom_objects=custom)[0]


@case
def case_string_module_objects_dict_subclass_get(api):
    module_objects = BtDict(bt_fn=bt_fn)
    out = {"hit": deser_record(api, "bt_fn", module_objects=module_objects)[0]}
    out["miss"] = deser_record(api, "bt_missing", module_objects=module_objects)[0]
    return out


@case
def case_string_str_subclass(api):
    class BtStr(str):
        pass

    return deser_record(api, BtStr("bt_fn"), module_objects={"bt_fn": bt_fn})[0]


@case
def case_string_visible_through_scope(api):
    with api.CustomObjectScope({"bt_scoped": bt_other_fn}):
        inside = deser_record(api, "bt_scoped", module_objects={"bt_scoped": bt_fn})[0]
    after = deser_record(api, "bt_scoped", module_objects={"bt_scoped": bt_fn})[0]
    return {"inside": inside, "after": after}


@case
def case_string_registered_name(api):
    def bt_registered(x):
        return x

    try:
        api.register_keras_serializable("Bt")(bt_registered)
        return {
            "by_registered_name": deser_record(api, "Bt>bt_registered")[0],
            "by_plain_name": deser_record(api, "bt_registered", module_objects={})[0],
        }
    finally:
        cleanup(api, ["Bt>bt_registered"], [bt_registered])


# --------------------------------------------------------------------------
# Dict identifiers: class resolution and config format.


@case
def case_dict_lookup_order_registry_custom_module(api):
    log = []
    from_registry = probe(api, name="BtFromRegistry", log=log)
    from_custom = probe(api, name="BtFromCustom", log=log)
    from_module = probe(api, name="BtFromModule", log=log)
    registry = api.get_custom_objects()
    out = {}

    def ident():
        return {"class_name": "BtLayer", "config": {"units": 1}}

    try:
        registry["BtLayer"] = from_registry
        out["all_three"] = deser_record(
            api, ident(), module_objects={"BtLayer": from_module}, custom_objects={"BtLayer": from_custom}, log=log
        )[0]
    finally:
        cleanup(api, ["BtLayer"])
    out["custom_and_module"] = deser_record(
        api, ident(), module_objects={"BtLayer": from_module}, custom_objects={"BtLayer": from_custom}, log=log
    )[0]
    out["module_only"] = deser_record(api, ident(), module_objects={"BtLayer": from_module}, log=log)[0]
    return out


@case
def case_dict_unknown_class(api):
    return {
        "default_name": deser_record(api, {"class_name": "BtNope", "config": {}}, module_objects={"bt_fn": bt_fn})[0],
        "layer": deser_record(api, {"class_name": "BtNope", "config": {}}, printable="layer")[0],
        "empty_custom": deser_record(api, {"class_name": "BtNope", "config": {}}, custom_objects={}, module_objects={})[0],
    }


@case
def case_dict_improper_format(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    return {
        "missing_config": deser_record(api, {"class_name": "BtProbe"}, module_objects=mo)[0],
        "missing_class_name": deser_record(api, {"config": {}}, module_objects=mo)[0],
        "empty": deser_record(api, {}, module_objects=mo, printable="layer")[0],
    }


@case
def case_class_and_config_improper_format(api):
    f = api.class_and_config_for_serialized_keras_object
    return {
        "string": attempt(lambda: f("BtProbe"))[0],
        "list": attempt(lambda: f(["class_name", "config"]))[0],
        "none": attempt(lambda: f(None))[0],
        "missing_config": attempt(lambda: f({"class_name": "BtProbe", "cfg": 1}))[0],
    }


@case
def case_class_and_config_returns_pair(api):
    Probe = probe(api)
    ident = {"class_name": "BtProbe", "config": {"a": "bt_fn", "name": "bt_fn", "b": 1}}
    inner = ident["config"]
    record, value = attempt(
        lambda: api.class_and_config_for_serialized_keras_object(
            ident, module_objects={"BtProbe": Probe}, custom_objects={"bt_fn": bt_fn}, printable_module_name="layer"
        )
    )
    record["is_tuple"] = isinstance(value, tuple)
    record["class_identity"] = value[0] is Probe
    record["config_identity"] = value[1] is inner
    record["caller_after"] = render(ident)
    record["from_config_called"] = len(Probe.log)
    return record


@case
def case_class_and_config_unknown_printable(api):
    return attempt(
        lambda: api.class_and_config_for_serialized_keras_object(
            {"class_name": "BtNope", "config": {}}, printable_module_name="constraint"
        )
    )[0]


@case
def case_class_name_unhashable(api):
    return deser_record(api, {"class_name": ["BtProbe"], "config": {}}, module_objects={}, interpreter=True)[0]


@case
def case_class_name_none_and_int(api):
    Probe = probe(api)
    return {
        "none": deser_record(api, {"class_name": None, "config": {}}, module_objects={"BtProbe": Probe})[0],
        "int_found": deser_record(api, {"class_name": 7, "config": {"x": 1}}, module_objects={7: Probe}, log=Probe.log)[0],
        "int_unknown": deser_record(api, {"class_name": 7, "config": {}}, printable="layer")[0],
    }


@case
def case_registry_none_value_does_not_fall_through(api):
    Probe = probe(api)
    registry = api.get_custom_objects()
    try:
        registry["BtShadow"] = None
        return deser_record(
            api, {"class_name": "BtShadow", "config": {}}, custom_objects={"BtShadow": Probe},
            module_objects={"BtShadow": Probe}, log=Probe.log,
        )[0]
    finally:
        cleanup(api, ["BtShadow"])


@case
def case_custom_none_value_falls_through(api):
    Probe = probe(api)
    return deser_record(
        api, {"class_name": "BtProbe", "config": {}}, custom_objects={"BtProbe": None},
        module_objects={"BtProbe": Probe}, log=Probe.log,
    )[0]


@case
def case_dict_subclass_identifier(api):
    Probe = probe(api)
    ident = collections.OrderedDict([("class_name", "BtProbe"), ("config", {"a": 1})])
    return deser_record(api, ident, module_objects={"BtProbe": Probe}, log=Probe.log)[0]


@case
def case_module_objects_dict_subclass_class(api):
    Probe = probe(api)
    return deser_record(api, {"class_name": "BtProbe", "config": {"a": 1}}, module_objects=BtDict(BtProbe=Probe),
                        log=Probe.log)[0]


@case
def case_non_dict_inner_config(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    return {
        "none": deser_record(api, {"class_name": "BtProbe", "config": None}, module_objects=mo, log=Probe.log)[0],
        "string": deser_record(api, {"class_name": "BtProbe", "config": "bt_fn"}, module_objects=mo, log=Probe.log)[0],
        "tuple": deser_record(api, {"class_name": "BtProbe", "config": ("a",)}, module_objects=mo, log=Probe.log)[0],
    }


# --------------------------------------------------------------------------
# Preparing the inner config.


@case
def case_name_key_never_resolved(api):
    Probe = probe(api)
    registry = api.get_custom_objects()
    try:
        registry["bt_reg_fn"] = bt_fn
        ident = {"class_name": "BtProbe", "config": {"name": "bt_reg_fn", "other": "bt_reg_fn", "custom": "bt_fn"}}
        return deser_record(api, ident, module_objects={"BtProbe": Probe}, custom_objects={"bt_fn": bt_other_fn},
                            log=Probe.log)[0]
    finally:
        cleanup(api, ["bt_reg_fn"])


@case
def case_string_values_naming_functions(api):
    Probe = probe(api)
    registry = api.get_custom_objects()

    class BtHelperClass:
        pass

    try:
        registry["bt_reg_fn"] = bt_fn
        registry["bt_reg_class"] = BtHelperClass
        registry["bt_reg_int"] = 5
        ident = {
            "class_name": "BtProbe",
            "config": {
                "registry_fn": "bt_reg_fn",
                "custom_fn": "bt_custom_fn",
                "module_fn": "bt_module_fn",
                "registry_class": "bt_reg_class",
                "custom_class": "BtPlainClass",
                "registry_int": "bt_reg_int",
                "lambda": "bt_lambda",
                "builtin": "bt_builtin",
                "unknown": "bt_unknown",
                "empty": "",
                "number": 3,
            },
        }
        custom = {"bt_custom_fn": bt_other_fn, "BtPlainClass": BtPlainClass, "bt_lambda": lambda: None,
                  "bt_builtin": len}
        module = {"BtProbe": Probe, "bt_module_fn": bt_fn}
        return deser_record(api, ident, module_objects=module, custom_objects=custom, log=Probe.log)[0]
    finally:
        cleanup(api, ["bt_reg_fn", "bt_reg_class", "bt_reg_int"])


@case
def case_string_value_registry_shadows_custom(api):
    Probe = probe(api)
    registry = api.get_custom_objects()
    try:
        registry["bt_f"] = BtPlainClass
        registry["bt_g"] = bt_fn
        ident = {"class_name": "BtProbe", "config": {"f": "bt_f", "g": "bt_g"}}
        return deser_record(api, ident, module_objects={"BtProbe": Probe},
                            custom_objects={"bt_f": bt_other_fn, "bt_g": bt_other_fn}, log=Probe.log)[0]
    finally:
        cleanup(api, ["bt_f", "bt_g"])


@case
def case_string_value_registry_none_shadows_custom(api):
    Probe = probe(api)
    registry = api.get_custom_objects()
    try:
        registry["bt_f"] = None
        ident = {"class_name": "BtProbe", "config": {"f": "bt_f"}}
        return deser_record(api, ident, module_objects={"BtProbe": Probe}, custom_objects={"bt_f": bt_fn},
                            log=Probe.log)[0]
    finally:
        cleanup(api, ["bt_f"])


@case
def case_string_value_via_scope(api):
    Probe = probe(api)
    ident = {"class_name": "BtProbe", "config": {"f": "bt_scoped"}}
    with api.CustomObjectScope({"bt_scoped": bt_fn}):
        return deser_record(api, ident, module_objects={"BtProbe": Probe}, log=Probe.log)[0]


@case
def case_passive_serialization_nested(api):
    log = []
    Outer = probe(api, name="BtOuter", log=log)
    Inner = probe(api, name="BtInner", log=log)
    ident = {
        "class_name": "BtOuter",
        "config": {
            "inner": {"class_name": "BtInner", "config": {"fn": "bt_fn"}, "__passive_serialization__": True},
            "flag_false": {"class_name": "BtInner", "config": {}, "__passive_serialization__": False},
            "not_passive": {"class_name": "BtInner", "config": {}},
        },
    }
    inner_dict = ident["config"]["inner"]
    record = deser_record(api, ident, module_objects={"BtOuter": Outer}, custom_objects={"BtInner": Inner,
                                                                                          "bt_fn": bt_fn},
                          log=log)[0]
    record["passive_dict_after"] = render(inner_dict)
    return record


@case
def case_passive_nested_unknown_message(api):
    Outer = probe(api, name="BtOuter")
    ident = {
        "class_name": "BtOuter",
        "config": {
            "fn": "bt_fn",
            "inner": {"class_name": "BtMissing", "config": {}, "__passive_serialization__": True},
        },
    }
    return deser_record(api, ident, module_objects={"BtOuter": Outer}, custom_objects={"bt_fn": bt_fn},
                        printable="layer", log=Outer.log)[0]


@case
def case_passive_nested_improper(api):
    Outer = probe(api, name="BtOuter")
    ident = {"class_name": "BtOuter", "config": {"inner": {"config": {}, "__passive_serialization__": True}}}
    return deser_record(api, ident, module_objects={"BtOuter": Outer}, log=Outer.log)[0]


@case
def case_passive_nested_uses_module_objects(api):
    log = []
    Outer = probe(api, name="BtOuter", log=log)
    Inner = probe(api, name="BtInner", log=log)
    ident = {"class_name": "BtOuter",
             "config": {"inner": {"class_name": "BtInner", "config": {"x": 1}, "__passive_serialization__": 1}}}
    return deser_record(api, ident, module_objects={"BtOuter": Outer, "BtInner": Inner}, log=log)[0]


@case
def case_inner_config_mutated_in_place(api):
    Probe = probe(api)
    ident = {"class_name": "BtProbe", "config": {"a": "bt_fn", "b": [1, 2], "name": "x"}, "extra": 1}
    inner = ident["config"]
    b_list = inner["b"]
    record = deser_record(api, ident, module_objects={"BtProbe": Probe}, custom_objects={"bt_fn": bt_fn},
                          log=Probe.log)[0]
    record["inner_mutated"] = render(inner)
    record["list_identity"] = inner["b"] is b_list
    return record


@case
def case_from_config_mutating_config_seen_by_caller(api):
    class BtMutator(BtBase):
        @classmethod
        def from_config(cls, config):
            config["added"] = True
            config.pop("drop", None)
            return cls(dict(config))

    ident = {"class_name": "BtMutator", "config": {"drop": 1, "keep": 2}}
    return deser_record(api, ident, module_objects={"BtMutator": BtMutator})[0]


@case
def case_list_config_passthrough(api):
    Probe = probe(api, name="BtSequential")
    ident = {"class_name": "BtSequential", "config": [{"class_name": "BtX", "config": {}}, "bt_fn"]}
    inner = ident["config"]
    out = {}
    record, value = attempt(lambda: api.class_and_config_for_serialized_keras_object(
        ident, module_objects={"BtSequential": Probe}, custom_objects={"bt_fn": bt_fn}))
    record["config_identity"] = value[1] is inner
    out["class_and_config"] = record
    out["deserialize"] = deser_record(api, ident, module_objects={"BtSequential": Probe},
                                      custom_objects={"bt_fn": bt_fn}, log=Probe.log)[0]
    return out


@case
def case_list_config_without_from_config(api):
    Probe = probe(api, style="none", name="BtNoFromConfig")
    return deser_record(api, {"class_name": "BtNoFromConfig", "config": []},
                        module_objects={"BtNoFromConfig": Probe}, interpreter=True, log=Probe.log)[0]


# --------------------------------------------------------------------------
# from_config dispatch.


@case
def case_from_config_custom_objects_receives_merged(api):
    Probe = probe(api, style="custom_objects")
    registry = api.get_custom_objects()
    try:
        registry["bt_a"] = bt_fn
        registry["bt_shadowed"] = bt_fn
        record = deser_record(
            api, {"class_name": "BtProbe", "config": {"x": 1}}, module_objects={"BtProbe": Probe},
            custom_objects={"bt_shadowed": bt_other_fn, "bt_b": BtPlainClass, "BtHelper": bt_other_fn},
            log=Probe.log,
        )[0]
        record["registry_after"] = registry_state(api)
        return record
    finally:
        cleanup(api, ["bt_a", "bt_shadowed"])


@case
def case_from_config_custom_objects_not_given(api):
    Probe = probe(api, style="custom_objects")
    registry = api.get_custom_objects()
    received = []

    class BtKeeper(BtBase):
        @classmethod
        def from_config(cls, config, custom_objects=None):
            received.append(custom_objects)
            return cls(config)

    try:
        registry["bt_a"] = bt_fn
        out = {
            "none": deser_record(api, {"class_name": "BtProbe", "config": {}}, module_objects={"BtProbe": Probe},
                                 log=Probe.log)[0],
            "empty": deser_record(api, {"class_name": "BtProbe", "config": {}}, module_objects={"BtProbe": Probe},
                                  custom_objects={}, log=Probe.log)[0],
        }
        deser_record(api, {"class_name": "BtKeeper", "config": {}}, module_objects={"BtKeeper": BtKeeper})
        out["is_a_copy"] = received[0] is not api.get_custom_objects()
        out["type"] = type(received[0]).__name__
        received[0]["bt_injected"] = 1
        out["copy_is_detached"] = "bt_injected" not in api.get_custom_objects()
        return out
    finally:
        cleanup(api, ["bt_a", "bt_injected"])


@case
def case_from_config_custom_objects_dict_subclass(api):
    Probe = probe(api, style="custom_objects")
    custom = BtDict(bt_x=bt_fn)
    return deser_record(api, {"class_name": "BtProbe", "config": {"f": "bt_x"}}, module_objects={"BtProbe": Probe},
                        custom_objects=custom, log=Probe.log)[0]


@case
def case_from_config_plain_runs_in_scope(api):
    Probe = probe(api, style="plain")
    record = deser_record(
        api, {"class_name": "BtProbe", "config": {}}, module_objects={"BtProbe": Probe},
        custom_objects={"BtHelper": bt_fn, "bt_c": BtPlainClass}, log=Probe.log,
    )[0]
    record["registry_after"] = registry_state(api)
    return record


@case
def case_from_config_scope_shadows_registry(api):
    Probe = probe(api, style="plain")
    registry = api.get_custom_objects()
    try:
        registry["BtHelper"] = bt_fn
        record = deser_record(api, {"class_name": "BtProbe", "config": {}}, module_objects={"BtProbe": Probe},
                              custom_objects={"BtHelper": bt_other_fn}, log=Probe.log)[0]
        record["registry_after"] = registry_state(api)
        return record
    finally:
        cleanup(api, ["BtHelper"])


@case
def case_from_config_kwonly_custom_objects(api):
    Probe = probe(api, style="kwonly")
    return deser_record(api, {"class_name": "BtProbe", "config": {}}, module_objects={"BtProbe": Probe},
                        custom_objects={"BtHelper": bt_fn}, log=Probe.log)[0]


@case
def case_from_config_var_kwargs(api):
    Probe = probe(api, style="kwargs")
    return deser_record(api, {"class_name": "BtProbe", "config": {}}, module_objects={"BtProbe": Probe},
                        custom_objects={"BtHelper": bt_fn}, log=Probe.log)[0]


@case
def case_from_config_staticmethod(api):
    Probe = probe(api, style="static")
    return deser_record(api, {"class_name": "BtProbe", "config": {}}, module_objects={"BtProbe": Probe},
                        custom_objects={"BtHelper": bt_fn}, log=Probe.log)[0]


@case
def case_from_config_not_callable(api):
    class BtBroken(BtBase):
        from_config = None

    return deser_record(api, {"class_name": "BtBroken", "config": {}}, module_objects={"BtBroken": BtBroken},
                        interpreter=True)[0]


@case
def case_from_config_raises_scope_restored(api):
    Probe = probe(api, style="raises")
    registry = api.get_custom_objects()
    try:
        registry["BtHelper"] = bt_fn
        record = deser_record(api, {"class_name": "BtProbe", "config": {}}, module_objects={"BtProbe": Probe},
                              custom_objects={"BtHelper": bt_other_fn, "bt_new": bt_other_fn}, log=Probe.log)[0]
        record["registry_after"] = registry_state(api)
        return record
    finally:
        cleanup(api, ["BtHelper"])


@case
def case_class_without_from_config_called_in_scope(api):
    Probe = probe(api, style="none", name="BtNoFromConfig")
    record = deser_record(api, {"class_name": "BtNoFromConfig", "config": {"a": 1, "f": "bt_fn"}},
                          module_objects={"BtNoFromConfig": Probe}, custom_objects={"bt_fn": bt_fn, "BtHelper": bt_fn},
                          log=Probe.log)[0]
    record["registry_after"] = registry_state(api)
    return record


@case
def case_class_name_resolving_to_factory_function(api):
    seen = []

    def bt_factory(**kwargs):
        seen.append({"kwargs": render(kwargs), "visible": visible(api)})
        return BtBase(kwargs)

    record = deser_record(api, {"class_name": "bt_factory", "config": {"k": 2}},
                          module_objects={"bt_factory": bt_factory}, custom_objects={"bt_c": 1})[0]
    record["seen"] = seen
    return record


@case
def case_class_without_from_config_bad_kwargs(api):
    return deser_record(api, {"class_name": "BtNeedsArg", "config": {"wrong": 1}},
                        module_objects={"BtNeedsArg": BtNeedsArg}, interpreter=True)[0]


@case
def case_from_config_returns_none(api):
    class BtNone(BtBase):
        @classmethod
        def from_config(cls, config):
            return None

    return deser_record(api, {"class_name": "BtNone", "config": {}}, module_objects={"BtNone": BtNone})[0]


@case
def case_recursive_deserialize_inside_from_config(api):
    log = []
    Inner = probe(api, name="BtInner", log=log)

    class BtContainer(BtBase):
        @classmethod
        def from_config(cls, config):
            children = [api.deserialize_keras_object(child, module_objects={}) for child in config["children"]]
            return cls({"children": children})

    ident = {"class_name": "BtContainer",
             "config": {"children": [{"class_name": "BtInner", "config": {"i": 0}}, {"class_name": "BtInner",
                                                                                    "config": {"i": 1}}]}}
    return deser_record(api, ident, module_objects={"BtContainer": BtContainer}, custom_objects={"BtInner": Inner},
                        log=log)[0]


# --------------------------------------------------------------------------
# Shared objects.


def _shared(object_id, **config):
    return {"class_name": "BtProbe", "config": dict(config), "shared_object_id": object_id}


@case
def case_shared_key_constant(api):
    return {"key": api.SHARED_OBJECT_KEY}


@case
def case_shared_id_ignored_outside_scope(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    a = api.deserialize_keras_object(_shared(1, n=1), module_objects=mo)
    b = api.deserialize_keras_object(_shared(1, n=2), module_objects=mo)
    return {"same": a is b, "calls": len(Probe.log), "b": render(b)}


@case
def case_shared_id_honoured_inside_scope(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    with api.SharedObjectLoadingScope() as scope:
        first = deser_record(api, _shared(1, n=1), module_objects=mo, log=Probe.log)
        second = deser_record(api, _shared(1, n=2), module_objects=mo, log=Probe.log)
        other = deser_record(api, _shared(2, n=3), module_objects=mo, log=Probe.log)
        no_id = deser_record(api, {"class_name": "BtProbe", "config": {}}, module_objects=mo, log=Probe.log)
        scope_type = type(scope).__name__
    return {
        "scope_type": scope_type,
        "first": first[0],
        "second": second[0],
        "other": other[0],
        "no_id": no_id[0],
        "second_is_first": second[1] is first[1],
        "other_is_first": other[1] is first[1],
    }


@case
def case_shared_id_checked_after_class_resolution(api):
    log = []
    Probe = probe(api, log=log)
    Other = probe(api, name="BtOther", log=log)
    mo = {"BtProbe": Probe, "BtOther": Other}
    with api.SharedObjectLoadingScope():
        first = api.deserialize_keras_object(_shared(5), module_objects=mo)
        del log[:]
        unknown = deser_record(api, {"class_name": "BtMissing", "config": {}, "shared_object_id": 5},
                               module_objects=mo)[0]
        other_ident = {"class_name": "BtOther",
                       "config": {"f": "bt_fn", "p": {"class_name": "BtOther", "config": {},
                                                        "__passive_serialization__": True}},
                       "shared_object_id": 5}
        other_record, other_value = deser_record(api, other_ident, module_objects=mo, custom_objects={"bt_fn": bt_fn},
                                                 log=log)
    return {"unknown": unknown, "other_class_same_id": other_record, "returned_first": other_value is first}


@case
def case_shared_scope_does_not_nest(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    with api.SharedObjectLoadingScope():
        a = api.deserialize_keras_object(_shared(1), module_objects=mo)
        with api.SharedObjectLoadingScope():
            b = api.deserialize_keras_object(_shared(1), module_objects=mo)
            c = api.deserialize_keras_object(_shared(1), module_objects=mo)
        d = api.deserialize_keras_object(_shared(1), module_objects=mo)
        e = api.deserialize_keras_object(_shared(1), module_objects=mo)
    return {"inner_new": b is not a, "inner_shares": c is b, "after_inner_exit_a": d is a,
            "after_inner_exit_b": d is b, "after_inner_exit_shares": e is d, "calls": len(Probe.log)}


@case
def case_shared_scope_reentered_clears(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    scope = api.SharedObjectLoadingScope()
    with scope:
        a = api.deserialize_keras_object(_shared(1), module_objects=mo)
    with scope:
        b = api.deserialize_keras_object(_shared(1), module_objects=mo)
        c = api.deserialize_keras_object(_shared(1), module_objects=mo)
    return {"reentered_new": a is not b, "shares": c is b, "calls": len(Probe.log)}


@case
def case_shared_scope_get_set(api):
    scope = api.SharedObjectLoadingScope()
    with scope:
        scope.set(None, "bt_value")
        scope.set(3, "bt_three")
        scope.set(0, "bt_zero")
        got = [render(scope.get(None)), render(scope.get(3)), render(scope.get(0)), render(scope.get(4))]
    noop = api.NoopLoadingScope()
    noop.set(1, "x")
    return {"got": got, "noop_get": render(noop.get(1)), "after_exit": render(scope.get(3))}


@case
def case_shared_falsy_and_none_objects(api):
    made = []

    class BtFalsy:
        @classmethod
        def from_config(cls, config):
            made.append(config["v"])
            return config["v"]

    mo = {"BtFalsy": BtFalsy}

    def ident(object_id, value):
        return {"class_name": "BtFalsy", "config": {"v": value}, "shared_object_id": object_id}

    with api.SharedObjectLoadingScope():
        empty_1 = api.deserialize_keras_object(ident(1, []), module_objects=mo)
        empty_2 = api.deserialize_keras_object(ident(1, [9]), module_objects=mo)
        none_1 = api.deserialize_keras_object(ident(2, None), module_objects=mo)
        none_2 = api.deserialize_keras_object(ident(2, 7), module_objects=mo)
        zero_1 = api.deserialize_keras_object(ident(0, "z"), module_objects=mo)
        zero_2 = api.deserialize_keras_object(ident(0, "y"), module_objects=mo)
    return {"empty_shared": empty_2 is empty_1, "none_then": render(none_2), "zero_id": [zero_1, zero_2],
            "made": render(made), "none_1": none_1}


@case
def case_shared_id_unhashable_inside_scope(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    outside = deser_record(api, _shared([1]), module_objects=mo)[0]
    with api.SharedObjectLoadingScope():
        inside = deser_record(api, _shared([1]), module_objects=mo, interpreter=True, log=Probe.log)[0]
    return {"outside": outside, "inside": inside}


@case
def case_shared_scope_from_config_raises(api):
    Probe = probe(api, style="raises")
    mo = {"BtProbe": Probe}
    with api.SharedObjectLoadingScope():
        first = deser_record(api, _shared(1), module_objects=mo, log=Probe.log)[0]
        second = deser_record(api, _shared(1), module_objects=mo, log=Probe.log)[0]
    return {"first": first, "second": second}


@case
def case_disable_shared_object_scope(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    out = {}
    with api.SharedObjectLoadingScope():
        a = api.deserialize_keras_object(_shared(1), module_objects=mo)
        with api.DisableSharedObjectScope() as disabled:
            out["disable_enter_returns"] = render(disabled)
            b = api.deserialize_keras_object(_shared(1), module_objects=mo)
            with api.SharedObjectLoadingScope() as inner:
                out["inner_scope_type"] = type(inner).__name__
                c = api.deserialize_keras_object(_shared(2), module_objects=mo)
                d = api.deserialize_keras_object(_shared(2), module_objects=mo)
        e = api.deserialize_keras_object(_shared(1), module_objects=mo)
    out.update({"outer_ignored_while_disabled": b is not a, "noop_inner": c is not d, "restored": e is a,
                "calls": len(Probe.log)})
    return out


@case
def case_disable_shared_outside_any_scope(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    with api.DisableSharedObjectScope():
        pass
    a = api.deserialize_keras_object(_shared(1), module_objects=mo)
    b = api.deserialize_keras_object(_shared(1), module_objects=mo)
    with api.SharedObjectLoadingScope() as scope:
        scope_type = type(scope).__name__
        c = api.deserialize_keras_object(_shared(1), module_objects=mo)
        d = api.deserialize_keras_object(_shared(1), module_objects=mo)
    return {"outside_shared": a is b, "scope_type": scope_type, "inside_shared": c is d}


@case
def case_shared_nested_passive_objects(api):
    log = []
    Outer = probe(api, name="BtOuter", log=log)
    Init = probe(api, name="BtInit", log=log)
    mo = {"BtOuter": Outer, "BtInit": Init}

    def ident():
        return {"class_name": "BtOuter", "config": {"init": {"class_name": "BtInit", "config": {"seed": 1},
                                                               "shared_object_id": 9,
                                                               "__passive_serialization__": True}}}

    with api.SharedObjectLoadingScope():
        x = api.deserialize_keras_object(ident(), module_objects=mo)
        y = api.deserialize_keras_object(ident(), module_objects=mo)
    return {"outer_distinct": x is not y, "init_shared": x.config["init"] is y.config["init"],
            "calls": [type_name for type_name in (render(e["config"]) for e in log)]}


@case
def case_shared_scope_entered_inside_from_config(api):
    class BtInnerScope(BtBase):
        @classmethod
        def from_config(cls, config):
            with api.SharedObjectLoadingScope():
                pass
            return cls(config)

    Probe = probe(api)
    mo = {"BtProbe": Probe, "BtInnerScope": BtInnerScope}
    with api.SharedObjectLoadingScope():
        a = api.deserialize_keras_object({"class_name": "BtInnerScope", "config": {}, "shared_object_id": 3},
                                         module_objects=mo)
        b = api.deserialize_keras_object({"class_name": "BtInnerScope", "config": {}, "shared_object_id": 3},
                                         module_objects=mo)
    return {"remembered": a is b}


# --------------------------------------------------------------------------
# CustomObjectScope and get_custom_objects.


@case
def case_scope_enter_returns_self_and_alias(api):
    scope = api.CustomObjectScope({"bt_a": 1})
    with scope as entered:
        same = entered is scope
        inside = visible(api)
    return {"returns_self": same, "alias": api.custom_object_scope is api.CustomObjectScope, "inside": inside,
            "after": visible(api), "attr": render(scope.custom_objects)}


@case
def case_nested_scopes(api):
    out = {}
    with api.CustomObjectScope({"bt_a": 1, "bt_b": 2}):
        out["outer"] = visible(api)
        with api.custom_object_scope({"bt_b": 20, "bt_c": 30}):
            out["inner"] = visible(api)
            out["lookup_b"] = render(api.get_registered_object("bt_b"))
        out["after_inner"] = visible(api)
    out["after_outer"] = visible(api)
    return out


@case
def case_scope_several_dicts_later_wins(api):
    with api.CustomObjectScope({"bt_a": 1, "bt_b": 1}, {"bt_b": 2}, {}, {"bt_c": 3}):
        inside = visible(api)
    return {"inside": inside, "after": visible(api)}


@case
def case_scope_shadows_registered_and_restores(api):
    registry = api.get_custom_objects()
    try:
        registry["bt_a"] = bt_fn
        with api.CustomObjectScope({"bt_a": bt_other_fn}):
            inside = visible(api)
        return {"inside": inside, "after": visible(api)}
    finally:
        cleanup(api, ["bt_a"])


@case
def case_scope_restores_after_exception(api):
    try:
        with api.CustomObjectScope({"bt_a": 1}):
            raise KeyError("bt boom")
    except KeyError as exc:
        err = error(exc)
    return {"error": err, "after": visible(api)}


@case
def case_scope_with_no_dicts_and_pairs(api):
    out = {}
    with api.CustomObjectScope():
        out["none"] = visible(api)
    with api.CustomObjectScope([("bt_pair", 1)]):
        out["pairs"] = visible(api)
    out["after"] = visible(api)
    return out


@case
def case_scope_invalid_dict(api):
    """Keras 2.9 applies the dicts one by one; an invalid one raises."""
    out = {}
    scope = api.CustomObjectScope({"bt_first": 1}, None, {"bt_third": 3})
    try:
        out["enter"] = attempt(scope.__enter__, interpreter=True)[0]
        out["after_failed_enter"] = visible(api)
    finally:
        cleanup(api, ["bt_first", "bt_third"])
    return out


@case
def case_registration_inside_scope(api):
    """Keras 2.9's scope exit restores a snapshot of the whole registry."""

    class BtRegistered(BtBase):
        pass

    out = {}
    try:
        with api.CustomObjectScope({"bt_scoped": 1}):
            api.register_keras_serializable("Bt")(BtRegistered)
            api.get_custom_objects()["bt_direct"] = 2
            out["inside"] = registry_state(api)
        out["after"] = registry_state(api)
        out["registered_name"] = api.get_registered_name(BtRegistered)
        out["register_again"] = attempt(lambda: api.register_keras_serializable("Bt")(BtRegistered))[0]
    finally:
        cleanup(api, ["Bt>BtRegistered", "bt_direct"], [BtRegistered])
    return out


@case
def case_deletion_inside_scope(api):
    registry = api.get_custom_objects()
    out = {}
    try:
        registry["bt_existing"] = 1
        registry["bt_changed"] = 1
        with api.CustomObjectScope({"bt_scoped": 2}):
            del registry["bt_existing"]
            registry["bt_changed"] = 3
            out["inside"] = visible(api)
        out["after"] = visible(api)
    finally:
        cleanup(api, ["bt_existing", "bt_changed"])
    return out


@case
def case_scope_key_overwritten_inside(api):
    with api.CustomObjectScope({"bt_a": 1}):
        api.get_custom_objects()["bt_a"] = 5
        inside = visible(api)
    return {"inside": inside, "after": visible(api)}


@case
def case_scope_exit_out_of_order(api):
    outer = api.CustomObjectScope({"bt_a": 1})
    inner = api.CustomObjectScope({"bt_b": 2})
    out = {}
    try:
        outer.__enter__()
        inner.__enter__()
        outer.__exit__(None, None, None)
        out["after_outer_exit"] = visible(api)
        inner.__exit__(None, None, None)
        out["after_inner_exit"] = visible(api)
    finally:
        cleanup(api, ["bt_a", "bt_b"])
    return out


@case
def case_scope_instance_reentered(api):
    scope = api.CustomObjectScope({"bt_a": 1})
    out = {}
    try:
        with scope:
            with scope:
                out["inside"] = visible(api)
            out["after_inner"] = visible(api)
        out["after_outer"] = visible(api)
    finally:
        cleanup(api, ["bt_a"])
    return out


@case
def case_empty_custom_objects_registration_in_from_config(api):
    """Keras 2.9 enters ``CustomObjectScope({})`` even for empty ``custom_objects``."""

    class BtLate(BtBase):
        pass

    class BtRegistering(BtBase):
        @classmethod
        def from_config(cls, config):
            api.register_keras_serializable("Bt")(BtLate)
            return cls(config)

    out = {}
    try:
        out["result"] = deser_record(api, {"class_name": "BtRegistering", "config": {}},
                                     module_objects={"BtRegistering": BtRegistering})[0]
        out["after"] = registry_state(api)
    finally:
        cleanup(api, ["Bt>BtLate"], [BtLate])
    return out


@case
def case_custom_objects_registration_in_from_config(api):
    class BtLate(BtBase):
        pass

    class BtRegistering(BtBase):
        @classmethod
        def from_config(cls, config):
            api.get_custom_objects()["bt_late"] = 1
            return cls(config)

    out = {}
    try:
        out["result"] = deser_record(api, {"class_name": "BtRegistering", "config": {}},
                                     module_objects={"BtRegistering": BtRegistering}, custom_objects={"bt_c": 1})[0]
        out["after"] = registry_state(api)
    finally:
        cleanup(api, ["bt_late"], [BtLate])
    return out


@case
def case_get_custom_objects_is_live(api):
    registry = api.get_custom_objects()
    try:
        registry["bt_live"] = bt_fn
        return {
            "same_object": api.get_custom_objects() is registry,
            "is_dict": isinstance(registry, dict),
            "lookup": render(api.get_registered_object("bt_live")),
            "deserialize": deser_record(api, "bt_live", module_objects={})[0],
        }
    finally:
        cleanup(api, ["bt_live"])


# --------------------------------------------------------------------------
# Registration.


@case
def case_register_class_default_name(api):
    class BtLayer(BtBase):
        pass

    try:
        returned = api.register_keras_serializable()(BtLayer)
        return {
            "returned_same": returned is BtLayer,
            "state": registry_state(api),
            "name": api.get_registered_name(BtLayer),
            "object": render(api.get_registered_object("Custom>BtLayer")),
            "deserialize": deser_record(api, {"class_name": "Custom>BtLayer", "config": {"config": {"a": 1}}})[0],
            "plain_name_unknown": deser_record(api, {"class_name": "BtLayer", "config": {}})[0],
        }
    finally:
        cleanup(api, ["Custom>BtLayer"], [BtLayer])


@case
def case_register_package_and_name(api):
    def bt_activation(x):
        return x

    try:
        api.register_keras_serializable(package="Bt", name="bt_act")(bt_activation)
        return {"state": registry_state(api), "name": api.get_registered_name(bt_activation),
                "by_string": deser_record(api, "Bt>bt_act")[0]}
    finally:
        cleanup(api, ["Bt>bt_act"], [bt_activation])


@case
def case_register_duplicate_name(api):
    class BtDup(BtBase):
        pass

    class BtDup2(BtBase):
        pass

    try:
        api.register_keras_serializable("Bt")(BtDup)
        dup = attempt(lambda: api.register_keras_serializable("Bt", name="BtDup")(BtDup2))[0]
        return {"duplicate": dup, "state": registry_state(api)}
    finally:
        cleanup(api, ["Bt>BtDup"], [BtDup, BtDup2])


@case
def case_register_same_object_twice(api):
    def bt_twice(x):
        return x

    try:
        api.register_keras_serializable("Bt")(bt_twice)
        again = attempt(lambda: api.register_keras_serializable("Bt", name="bt_twice_2")(bt_twice))[0]
        return {"again": again, "state": registry_state(api)}
    finally:
        cleanup(api, ["Bt>bt_twice", "Bt>bt_twice_2"], [bt_twice])


@case
def case_register_class_without_get_config(api):
    class BtNoConfig:
        pass

    try:
        record = attempt(lambda: api.register_keras_serializable("Bt")(BtNoConfig))[0]
        record["state"] = registry_state(api)
        return record
    finally:
        cleanup(api, ["Bt>BtNoConfig"], [BtNoConfig])


@case
def case_register_name_taken_by_scope(api):
    def bt_fn_2(x):
        return x

    out = {}
    try:
        with api.CustomObjectScope({"Bt>bt_fn_2": 1}):
            out["inside"] = attempt(lambda: api.register_keras_serializable("Bt")(bt_fn_2))[0]
        out["after"] = registry_state(api)
    finally:
        cleanup(api, ["Bt>bt_fn_2"], [bt_fn_2])
    return out


@case
def case_register_object_without_name(api):
    obj = BtBase({"x": 1})
    try:
        record = attempt(lambda: api.register_keras_serializable("Bt")(obj))[0]
        record["named"] = attempt(lambda: api.register_keras_serializable("Bt", name="bt_obj")(obj))[0]
        record["state"] = registry_state(api)
        return record
    finally:
        cleanup(api, ["Bt>bt_obj"], [obj])


@case
def case_get_registered_name_unregistered(api):
    return {"class": api.get_registered_name(BtPlainClass), "function": api.get_registered_name(bt_fn),
            "no_name": attempt(lambda: api.get_registered_name(3))[0]}


@case
def case_get_registered_object_order(api):
    registry = api.get_custom_objects()
    try:
        registry["bt_r"] = "registry"
        registry["bt_rn"] = None
        g = api.get_registered_object
        return {
            "registry_first": g("bt_r", {"bt_r": "custom"}, {"bt_r": "module"}),
            "registry_none": render(g("bt_rn", {"bt_rn": "custom"})),
            "custom": g("bt_c", {"bt_c": "custom"}, {"bt_c": "module"}),
            "module": g("bt_m", None, {"bt_m": "module"}),
            "module_empty_custom": g("bt_m", {}, {"bt_m": "module"}),
            "missing": render(g("bt_missing", {"x": 1}, {"y": 2})),
            "custom_falsy_value": render(g("bt_f", {"bt_f": 0}, {"bt_f": "module"})),
        }
    finally:
        cleanup(api, ["bt_r", "bt_rn"])


# --------------------------------------------------------------------------
# Serialization.


@case
def case_serialize_roundtrip(api):
    log = []
    Probe = probe(api, name="BtOuter", log=log)
    Child = probe(api, name="BtChild", log=log)
    child = Child({"c": 1})
    outer = Probe({"fn": bt_fn, "child": child, "s": "text", "n": 3, "d": {"k": 1}, "name": "bt_fn", "none": None})
    out = {}
    serialized, _ = attempt(lambda: api.serialize_keras_object(outer))
    out["serialized"] = serialized
    ident = api.serialize_keras_object(outer)
    out["back"] = deser_record(api, ident, module_objects={"BtOuter": Probe},
                               custom_objects={"BtChild": Child, "bt_fn": bt_fn}, log=log)[0]
    return out


@case
def case_serialize_functions_and_classes(api):
    def bt_reg(x):
        return x

    try:
        api.register_keras_serializable("Bt")(bt_reg)
        return {
            "function": api.serialize_keras_object(bt_fn),
            "registered": api.serialize_keras_object(bt_reg),
            "none": api.serialize_keras_object(None),
            "class": attempt(lambda: api.serialize_keras_object(BtPlainClass), interpreter=True)[0],
            "no_config_no_name": attempt(lambda: api.serialize_keras_object(object()))[0],
            "int": attempt(lambda: api.serialize_keras_object(3))[0],
        }
    finally:
        cleanup(api, ["Bt>bt_reg"], [bt_reg])


@case
def case_serialize_get_config_not_implemented(api):
    class BtAbstract(BtBase):
        def get_config(self):
            raise NotImplementedError("bt no config")

    return attempt(lambda: api.serialize_keras_object(BtAbstract()))[0]


@case
def case_serialize_unserializable_items_kept(api):
    class BtHolder(BtBase):
        pass

    holder = BtHolder({"obj": object(), "list": [1, "a"], "tuple": (1, 2), "fn": bt_fn})
    result = api.serialize_keras_object(holder)
    return {"keys": list(result), "obj_kept": result["config"]["obj"] is holder.config["obj"],
            "list": render(result["config"]["list"]), "tuple": render(result["config"]["tuple"]),
            "fn": render(result["config"]["fn"])}


@case
def case_serialize_class_and_config(api):
    f = api.serialize_keras_class_and_config
    return {
        "plain": render(f("BtX", {"a": 1})),
        "with_id": render(f("BtX", {"a": 1}, shared_object_id=4)),
        "with_obj_no_scope": render(f("BtX", {"a": 1}, obj=BtBase())),
    }


@case
def case_saving_scope_shared_ids(api):
    class BtInit(BtBase):
        pass

    class BtLayer(BtBase):
        pass

    init = BtInit({"seed": 1})
    layer_a = BtLayer({"init": init, "name": "a"})
    layer_b = BtLayer({"init": init, "name": "b"})
    with api.SharedObjectSavingScope() as scope:
        scope_type = type(scope).__name__
        first = api.serialize_keras_object(layer_a)
        second = api.serialize_keras_object(layer_b)
        with api.SharedObjectSavingScope() as nested:
            passthrough = nested is scope
    return {
        "scope_type": scope_type,
        "passthrough": passthrough,
        "first": render(dict(first)),
        "second": render(dict(second)),
        "config_type": type(first).__name__,
        "same_init_config": first["config"]["init"] is second["config"]["init"],
    }


@case
def case_saving_scope_disabled(api):
    with api.DisableSharedObjectScope():
        with api.SharedObjectSavingScope() as scope:
            out = render(scope)
            init = BtBase({"s": 1})
            a = api.serialize_keras_object(BtBase({"i": init}))
            b = api.serialize_keras_object(BtBase({"i": init}))
    return {"scope": out, "a": render(a), "b": render(b)}


@case
def case_serialize_mask_warning(api):
    import warnings

    class BtMasking(BtBase):
        supports_masking = True

    BtMasking.get_config = lambda self: {"m": 1}
    BtMasking.get_config._is_default = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = api.serialize_keras_object(BtMasking())
    return {"result": render(result),
            "warnings": [[w.category.__name__, str(w.message)] for w in caught if "mask" in str(w.message)]}


# --------------------------------------------------------------------------
# Instrumented mappings: which reads and writes each implementation makes.


class BtCounting(dict):
    """A dict subclass logging ``in``, ``[]``, ``get`` and ``[]=`` by key."""

    def __init__(self, *args, **kwargs):
        dict.__init__(self, *args, **kwargs)
        self.calls = []

    def __contains__(self, key):
        self.calls.append(["in", render(key)])
        return dict.__contains__(self, key)

    def __getitem__(self, key):
        self.calls.append(["getitem", render(key)])
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        self.calls.append(["get", render(key)])
        return dict.get(self, key, default)

    def __setitem__(self, key, value):
        self.calls.append(["setitem", render(key)])
        dict.__setitem__(self, key, value)


@case
def case_custom_objects_reads_for_string_values(api):
    Probe = probe(api)
    custom = BtCounting(bt_custom_fn=bt_fn, BtPlainClass=BtPlainClass)
    ident = {"class_name": "BtProbe", "config": {"f": "bt_custom_fn", "c": "BtPlainClass", "u": "bt_unknown"}}
    record = deser_record(api, ident, module_objects={"BtProbe": Probe}, custom_objects=custom, log=Probe.log)[0]
    record["calls"] = [call for call in custom.calls if call[1] != "BtHelper"]
    return record


@case
def case_identifier_reads_shared_id(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    with api.SharedObjectLoadingScope():
        inside = BtCounting(class_name="BtProbe", config={}, shared_object_id=4)
        api.deserialize_keras_object(inside, module_objects=mo)
    return {"inside_scope": inside.calls}


@case
def case_identifier_reads_after_scope_exit(api):
    Probe = probe(api)
    mo = {"BtProbe": Probe}
    with api.SharedObjectLoadingScope():
        pass
    after = BtCounting(class_name="BtProbe", config={}, shared_object_id=4)
    api.deserialize_keras_object(after, module_objects=mo)
    return {"after_a_scope": after.calls}


@case
def case_serialize_get_config_registers_class(api):
    class BtSelfRegistering(BtBase):
        def get_config(self):
            if self not in registered:
                registered.append(self)
                api.register_keras_serializable("Bt")(BtSelfRegistering)
            return {"a": 1}

    registered = []
    try:
        return {"serialized": render(api.serialize_keras_object(BtSelfRegistering()))}
    finally:
        cleanup(api, ["Bt>BtSelfRegistering"], [BtSelfRegistering])


@case
def case_inner_config_writes(api):
    Probe = probe(api)
    inner = BtCounting(name="bt_fn", f="bt_fn", n=1,
                       p={"class_name": "BtProbe", "config": {}, "__passive_serialization__": True})
    ident = {"class_name": "BtProbe", "config": inner}
    deser_record(api, ident, module_objects={"BtProbe": Probe}, custom_objects={"bt_fn": bt_fn})
    return {"writes": [call for call in inner.calls if call[0] == "setitem"]}


# --------------------------------------------------------------------------
# Running.


def _registry_snapshot(api):
    return dict(api.get_custom_objects()), dict(api.registered_names())


def _diff(before, after):
    changed = []
    for key in set(before) | set(after):
        if key not in before or key not in after or before[key] is not after[key]:
            changed.append(render(key) if not isinstance(key, str) else key)
    return sorted(changed, key=repr)


def _restore(api, snapshot):
    registry, names = snapshot
    live = api.get_custom_objects()
    live.clear()
    live.update(registry)
    live_names = api.registered_names()
    live_names.clear()
    live_names.update(names)


def run_case(api, name):
    """Run one case; report (and repair) registry entries it leaked."""
    before = _registry_snapshot(api)
    try:
        outcome = CASES[name](api)
    except Exception as exc:  # noqa: BLE001 - an escaping error is an outcome too
        outcome = {"escaped": error(exc)}
    after = _registry_snapshot(api)
    leaked = {"objects": _diff(before[0], after[0]), "names": _diff(before[1], after[1])}
    if leaked["objects"] or leaked["names"]:
        outcome = {"outcome": outcome, "leaked": leaked}
        _restore(api, before)
    return outcome


def run_all(api):
    """``{case name: outcome}`` for every case, in definition order."""
    return collections.OrderedDict((name, run_case(api, name)) for name in CASES)
