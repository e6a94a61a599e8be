"""A corpus of malicious configs, generated at test time.

Every case, loaded *outside* safe mode (Keras 2.9 behaviour), writes a canary
file or imports a module, or would hand back a dangerous function; loaded in
safe mode none of it may run.  Bytecode is produced for the running Python
(``marshal`` is version-specific) with ``marshal`` + ``base64``, as Keras 2's
``func_dump`` does.

:func:`cases` returns :class:`Case` objects; ``case.build(canary)`` gives a
fresh ``(config, module_objects, custom_objects)`` for one canary path.
Pure Python: nothing here needs TensorFlow or Keras.
"""

import base64
import codecs
import marshal
import os
import subprocess
import sys
import types
from typing import Callable, NamedTuple, Optional, Tuple

__all__ = [
    "Case", "cases", "case_ids", "lambda_code", "lambda_function_config", "write_canary",
    "IMPORTABLE", "CANARY_MODULE", "FakeLambda", "FakeSequential",
]

#: Directory holding :data:`CANARY_MODULE`, to put on ``sys.path``.
IMPORTABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "importable")
#: A module that writes the canary when imported (``KD_CANARY_PATH``).
CANARY_MODULE = "kd_canary_module"


def lambda_code(canary):
    """Base64 marshalled code of ``lambda x: <write canary>; x`` for this Python."""
    source = "lambda x: (open(%r, 'w').write('lambda bytecode ran'), x)[1]" % canary
    code = compile(source, "<malicious>", "eval").co_consts[0]
    if not isinstance(code, types.CodeType):  # pragma: no cover - CPython layout
        code = next(c for c in compile(source, "<malicious>", "eval").co_consts if isinstance(c, types.CodeType))
    # Keras 2's func_dump: base64 of marshal, 'raw_unicode_escape' decoded.
    return codecs.encode(marshal.dumps(code), "base64").decode("ascii")


def lambda_function_config(canary, name="lambda"):
    """A Keras 2 ``Lambda`` layer config whose function writes ``canary``."""
    return {
        "class_name": "Lambda",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "function": (lambda_code(canary), None, None),
            "function_type": "lambda",
            "module": "builtins",
            "output_shape": None,
            "output_shape_type": "raw",
            "output_shape_module": None,
            "arguments": {},
        },
    }


def _run_dumped(code):
    raw = codecs.decode(code.encode("ascii"), "base64")
    return types.FunctionType(marshal.loads(raw), {"open": open})


def write_canary(path="canary", **kwargs):
    """A gadget: any callable a config can reach that does something."""
    with open(path, "w") as file:
        file.write("gadget ran\n")
    return path


class FakeLambda:
    """Stands in for Keras 2.9's ``Lambda``: ``from_config`` unmarshals the bytecode.

    (Keras runs it on the first call; the stand-in calls it right away, so a
    refusal that comes too late shows up as a canary.)
    """

    def __init__(self, function=None, **kwargs):
        self.function = function

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        function = config.pop("function")
        if config.get("function_type") == "lambda":
            code = function[0] if isinstance(function, (list, tuple)) else function
            function = _run_dumped(code)
            function(1)
        return cls(function=function, **config)


class FakeSequential:
    """A container whose ``from_config`` deserializes its layers in turn."""

    module_objects = None  # set by cases that nest

    def __init__(self, layers):
        self.layers = layers

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from keras_deser import deserialize_keras_object

        layers = config["layers"] if isinstance(config, dict) else config
        return cls([
            deserialize_keras_object(layer, module_objects=cls.module_objects, custom_objects=custom_objects)
            for layer in layers
        ])


class Innocent:
    """A class that does what its config says: unmarshals and runs ``payload``."""

    def __init__(self, payload=None, loader=None, inner=None, **kwargs):
        if isinstance(payload, str):
            _run_dumped(payload)(1)
        if callable(loader):
            loader(kwargs.get("path", "canary"))
        self.inner = inner


def keras3_lambda(code, *args, **kwargs):
    """Stands in for Keras 3's ``__lambda__`` handling: unmarshal and run."""
    _run_dumped(code)(1)


class TFOpLambda:
    """Stands in for Keras 2's TF op layer: calls the named op with config args."""

    OPS = {}

    def __init__(self, function=None, **kwargs):
        op = self.OPS.get(function)
        if op is not None:
            op(kwargs.get("path", "canary"))


def _fake(name):
    """A function with ``__name__`` ``name`` (a dangerous Keras function stand-in)."""

    def function(*args, **kwargs):
        path = kwargs.get("path") or kwargs.get("fname") or kwargs.get("filepath") or (args[0] if args else "canary")
        write_canary(path)

    function.__name__ = function.__qualname__ = name
    return function


def _gadget_module(canary):
    """A module whose ``globals()`` an ``activations.deserialize``-style loader passes."""
    module = types.ModuleType("kd_gadget_namespace")
    exec(
        "import os\nfrom os import system\nfrom subprocess import Popen\n"
        "def relu(x):\n    return x\n"
        "def write_canary(path='canary', **kwargs):\n"
        "    open(path, 'w').write('gadget ran')\n",
        module.__dict__,
    )
    return module


class Case(NamedTuple):
    """One malicious config."""

    id: str
    #: ``build(canary) -> (config, module_objects, custom_objects)``.
    build: Callable
    #: Names the audit must report (class and function names).
    names: Tuple[str, ...]
    #: Outside safe mode Keras 2.9 runs it (the canary is written).
    runs_unsafe: bool = True
    #: The exception safe mode raises ("unsafe" = UnsafeConfigError).
    refusal: str = "unsafe"
    #: Needs a POSIX shell (os.system / Popen cases).
    posix: bool = False
    #: The loader: "dict" (deserialize_keras_object on a dict) or "string".
    via: str = "dict"
    note: Optional[str] = None


def _case_lambda(canary):
    return lambda_function_config(canary), {"Lambda": FakeLambda}, None


def _case_lambda_list_function(canary):
    config = lambda_function_config(canary)
    config["config"]["function"] = list(config["config"]["function"])  # JSON gives lists
    return config, {"Lambda": FakeLambda}, None


def _case_lambda_bare_string(canary):
    config = lambda_function_config(canary)
    config["config"]["function"] = lambda_code(canary)  # Keras 2.0 stored the code alone
    return config, {"Lambda": FakeLambda}, None


def _case_lambda_in_sequential(canary):
    FakeSequential.module_objects = {"Lambda": FakeLambda, "Sequential": FakeSequential}
    config = {
        "class_name": "Sequential",
        "config": {"name": "seq", "layers": [
            {"class_name": "Sequential", "config": {"name": "inner", "layers": []}},
            lambda_function_config(canary, "deep_lambda"),
        ]},
    }
    return config, FakeSequential.module_objects, None


def _case_lambda_subclass(canary):
    class Lambda(FakeLambda):  # the name in the MRO gives it away
        pass

    class ScaleLayer(Lambda):
        pass

    config = lambda_function_config(canary)
    config["class_name"] = "ScaleLayer"
    return config, None, {"ScaleLayer": ScaleLayer}


def _case_keras3_lambda(canary):
    config = {"class_name": "__lambda__", "config": {"code": lambda_code(canary), "defaults": None, "closure": None}}
    return config, {"__lambda__": keras3_lambda}, None


def _case_bytecode_in_innocent(canary):
    config = {"class_name": "Innocent", "config": {"name": "x", "payload": lambda_code(canary)}}
    return config, {"Innocent": Innocent}, None


def _case_bytecode_in_cycle(canary):
    config = {"class_name": "Innocent", "config": {"name": "x", "payload": lambda_code(canary)}}
    config["config"]["inner"] = {"loop": config}
    return config, {"Innocent": Innocent}, None


def _case_factory_module_objects(canary):
    return {"class_name": "write_canary", "config": {"path": canary}}, {"write_canary": write_canary}, None


def _case_factory_custom_objects(canary):
    config = {"class_name": "make_layer", "config": {"path": canary}}
    return config, None, {"make_layer": write_canary}


def _case_factory_passive(canary):
    config = {"class_name": "Innocent", "config": {"name": "x", "inner": {
        "class_name": "write_canary", "config": {"path": canary}, "__passive_serialization__": True}}}
    return config, {"Innocent": Innocent, "write_canary": write_canary}, None


def _case_factory_module_globals(canary):
    # activations.deserialize passes module_objects=globals() of its module.
    module = _gadget_module(canary)
    return {"class_name": "write_canary", "config": {"path": canary}}, vars(module), None


def _case_os_system(canary):
    config = {"class_name": "system", "config": {"command": "echo system ran > %s" % canary}}
    return config, vars(_gadget_module(canary)), None


def _case_popen(canary):
    config = {"class_name": "Popen", "config": {"args": [sys.executable, "-c", "open(%r,'w').write('x')" % canary]}}
    return config, {"Popen": subprocess.Popen}, None


def _dangerous(name, key):
    def build(canary):
        config = {"class_name": name, "config": {key: canary}}
        return config, {name: _fake(name)}, None

    return build


def _case_dangerous_inner_string(canary):
    # Keras 2.9 turns the string into the custom_objects function and passes it on.
    config = {"class_name": "Innocent", "config": {"name": "x", "loader": "load_model", "path": canary}}
    return config, {"Innocent": Innocent}, {"load_model": _fake("load_model")}


def _case_unresolved_dangerous_string(canary):
    # nothing resolves 'get_file' here; a nested loader with other module_objects might
    config = {"class_name": "Innocent", "config": {"name": "x", "loader": "get_file", "path": canary}}
    return config, {"Innocent": Innocent}, None


def _case_lambda_named_function(canary):
    # Keras 2.9's Lambda resolves function_type 'function' by name in the 'module' it names
    config = {"class_name": "Lambda", "config": {"name": "l", "function": "write_canary", "function_type": "function",
                                                 "module": "os", "arguments": {"path": canary}}}
    return config, {"Lambda": FakeLambda}, None


def _case_tf_op(canary):
    TFOpLambda.OPS = {"io.write_file": write_canary}
    config = {"class_name": "TFOpLambda", "config": {"name": "tf.io.write_file", "function": "io.write_file",
                                                      "path": canary}}
    return config, {"TFOpLambda": TFOpLambda}, None


def _string(name):
    def build(canary):
        return name, {name: _fake(name), "system": os.system}, None

    return build


def _case_module_key(canary):
    config = {
        "module": CANARY_MODULE,
        "class_name": "Payload",
        "config": {"name": "payload"},
        "registered_name": CANARY_MODULE + ">Payload",
    }
    return config, None, None


def _case_module_key_nested(canary):
    config = {"class_name": "Innocent", "config": {"name": "x", "inner": {
        "module": CANARY_MODULE, "class_name": "Payload", "config": {}, "__passive_serialization__": True}}}
    return config, {"Innocent": Innocent}, None


def cases():
    """Every malicious case."""
    return [
        Case("keras2_lambda", _case_lambda, ("Lambda",)),
        Case("keras2_lambda_json_list", _case_lambda_list_function, ("Lambda",)),
        Case("keras2_lambda_bare_code", _case_lambda_bare_string, ("Lambda",)),
        Case("lambda_nested_in_sequential", _case_lambda_in_sequential, ("Sequential", "Lambda")),
        Case("lambda_subclass_renamed", _case_lambda_subclass, ("ScaleLayer",)),
        Case("keras3_lambda", _case_keras3_lambda, ("__lambda__",)),
        Case("bytecode_in_innocent_class", _case_bytecode_in_innocent, ("Innocent",)),
        Case("bytecode_in_self_referencing_config", _case_bytecode_in_cycle, ("Innocent",)),
        Case("factory_in_module_objects", _case_factory_module_objects, ("write_canary",)),
        Case("factory_in_custom_objects", _case_factory_custom_objects, ("make_layer",)),
        Case("factory_passive_nested", _case_factory_passive, ("Innocent", "write_canary")),
        Case("factory_in_module_globals", _case_factory_module_globals, ("write_canary",)),
        Case("os_system_from_module_globals", _case_os_system, ("system",), posix=True),
        Case("subprocess_popen_class", _case_popen, ("Popen",)),
        Case("get_file", _dangerous("get_file", "fname"), ("get_file",)),
        Case("load_model", _dangerous("load_model", "filepath"), ("load_model",)),
        Case("enable_unsafe_deserialization", _dangerous("enable_unsafe_deserialization", "path"),
             ("enable_unsafe_deserialization",)),
        Case("model_from_json", _dangerous("model_from_json", "path"), ("model_from_json",)),
        Case("dangerous_name_as_inner_string", _case_dangerous_inner_string, ("Innocent", "load_model")),
        Case("tf_op_layer_write_file", _case_tf_op, ("TFOpLambda", "io.write_file")),
        Case("dangerous_name_unresolved_inner_string", _case_unresolved_dangerous_string, ("Innocent", "get_file"),
             runs_unsafe=False),
        Case("lambda_function_by_name", _case_lambda_named_function, ("Lambda", "write_canary"), runs_unsafe=False),
        Case("string_get_file", _string("get_file"), ("get_file",), runs_unsafe=False, via="string"),
        Case("string_load_model", _string("load_model"), ("load_model",), runs_unsafe=False, via="string"),
        Case("string_os_system", _string("system"), ("system",), runs_unsafe=False, via="string"),
        Case("module_key_imports_nothing", _case_module_key, ("Payload", "kd_canary_module"), runs_unsafe=False,
             refusal="unsafe",
             note="keras_deser never imports a config's 'module' (outside safe mode: an unknown class); safe mode "
                  "refuses it because Keras 3-style loaders would import it"),
        Case("module_key_nested_imports_nothing", _case_module_key_nested, ("Innocent", "Payload", "kd_canary_module"),
             runs_unsafe=False, refusal="unsafe"),
    ]


def case_ids():
    return [case.id for case in cases()]
