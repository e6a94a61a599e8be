"""Look at a whole config before any of it runs (in the spirit of skops.io).

:func:`audit` walks a serialized Keras object without constructing anything
and reports, in one pass, every class and function name it would resolve,
where each resolves from, and what safe mode would refuse.  Safe mode
(:mod:`keras_deser.safety`) runs the same walk before building anything.

The walk is iterative (no recursion limit), visits each container once
(self-referencing configs end) and never imports a module or calls code
from the config.
"""

import base64
import binascii
import sys
from typing import List, NamedTuple, Optional

from . import _state
from .builtins import keras_builtins
from .flavours import UPSTREAM_PACKAGES
from .keypath import MAX_PATH_PARTS, display_name, path_text, short_repr  # noqa: F401 (re-exported)
from .keypath import link as _link
from .keypath import render as _render

__all__ = ["Finding", "AuditReport", "audit", "path_text"]

_MISSING = object()

#: Class names whose configs carry Python bytecode or pickles (Keras 2
#: ``Lambda``, Keras 3 ``__lambda__`` and ``TorchModuleWrapper``).
BYTECODE_CLASSES = frozenset(("Lambda", "__lambda__", "TorchModuleWrapper"))

#: Functions that fetch files, load models, run code or switch safety off,
#: by ``__name__`` (also refused as a ``class_name``).
DANGEROUS_NAMES = frozenset(
    (
        "get_file", "load_model", "load_weights", "model_from_json", "model_from_yaml",
        "model_from_config", "save_model", "save_weights", "enable_unsafe_deserialization",
        "func_load", "exec", "eval", "compile", "__import__", "import_module", "system",
        "popen", "Popen", "check_output", "check_call", "spawn", "execv", "execve",
        "loads", "getattr", "setattr", "delattr", "globals", "vars", "breakpoint",
        "rmtree", "remove", "unlink", "write_file", "read_file", "urlopen", "urlretrieve",
        "open", "input",
    )
)

#: Dangerous names that are no ordinary config value: an inner-config string
#: equal to one is reported unsafe even where nothing resolves it yet.
UNMISTAKABLE_NAMES = frozenset(
    (
        "get_file", "load_model", "load_weights", "model_from_json", "model_from_yaml", "model_from_config",
        "save_model", "save_weights", "enable_unsafe_deserialization", "func_load", "exec", "eval",
        "__import__", "import_module", "system", "popen", "Popen", "check_output", "check_call", "execv",
        "execve", "urlopen", "urlretrieve", "rmtree", "write_file",
    )
)

#: Modules whose objects are never built from a config in safe mode.
DANGEROUS_MODULES = frozenset(
    (
        "os", "posix", "nt", "subprocess", "sys", "builtins", "shutil", "importlib",
        "marshal", "pickle", "shelve", "socket", "urllib", "http", "requests", "ctypes",
        "runpy", "code", "codeop", "pty", "multiprocessing", "tempfile", "io", "pathlib",
        "glob", "signal", "webbrowser", "ftplib", "smtplib", "asyncio", "threading",
        "types", "inspect", "gc", "dill", "cloudpickle", "joblib",
    )
)


class Finding(NamedTuple):
    """One name the config would resolve, or one unsafe spot in it."""

    #: Where in the config, e.g. ``config['config']['layers'][3]['class_name']``.
    path: str
    #: The name as written in the config (or a short description).
    name: str
    #: ``"class"``, ``"function"``, ``"object"``, ``"bytecode"`` or ``None``.
    kind: Optional[str]
    #: ``"custom_objects"``, ``"registry"``, ``"module_objects"``,
    #: ``"keras"`` (the loaded Keras's public objects) or ``"unresolved"``.
    resolves_from: str
    #: Why safe mode refuses it, or ``None``.
    unsafe: Optional[str] = None


class AuditReport:
    """Every :class:`Finding` of one config, with summaries."""

    def __init__(self, findings: List[Finding]):
        self.findings = findings

    entries = property(lambda self: self.findings)

    @property
    def names(self):
        """The distinct names found, in order of first appearance."""
        return list(dict.fromkeys(f.name for f in self.findings if f.kind != "bytecode"))

    @property
    def unresolved(self):
        return [f for f in self.findings if f.resolves_from == "unresolved"]

    @property
    def unsafe(self):
        return [f for f in self.findings if f.unsafe]

    @property
    def ok(self):
        """True when nothing is unsafe and everything resolves."""
        return not self.unsafe and not self.unresolved

    def to_dict(self):
        return {
            "entries": [f._asdict() for f in self.findings],
            "unresolved": [f.name for f in self.unresolved],
            "unsafe": [f._asdict() for f in self.unsafe],
        }

    def __iter__(self):
        return iter(self.findings)

    def __len__(self):
        return len(self.findings)

    def __str__(self):
        rows = [("path", "name", "kind", "resolves from", "unsafe")]
        rows += [(f.path, f.name, f.kind or "-", f.resolves_from, f.unsafe or "") for f in self.findings]
        widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths)) + ("  " + row[4] if row[4] else "") for row in rows]
        return "\n".join(lines)

    def __repr__(self):
        return f"<AuditReport {len(self.findings)} findings, {len(self.unsafe)} unsafe, {len(self.unresolved)} unresolved>"


def _looks_like_bytecode(value):
    """True for a base64 string that decodes to a marshalled code object."""
    if not isinstance(value, str) or len(value) < 24:
        return False
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=False)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False
    # marshal type code 'c' (code object), optionally with the FLAG_REF bit.
    return bool(raw) and raw[0] in (0x63, 0xE3) and len(raw) > 16


def _kind(obj):
    if obj is _MISSING:
        return None
    if _state.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "object"


def _module_of(obj):
    module = getattr(obj, "__module__", None)
    return module.split(".")[0] if isinstance(module, str) else ""


def classify(name, obj, trusted=()):
    """Why safe mode refuses building ``obj`` named ``name``, or ``None``."""
    if _is_trusted(name, obj, trusted):
        return None
    if isinstance(name, str) and name in BYTECODE_CLASSES:
        return "carries Python bytecode or a pickle (Lambda-like layer)"
    if obj is not _MISSING and _state.isclass(obj):
        if any(getattr(base, "__name__", None) in BYTECODE_CLASSES for base in getattr(obj, "__mro__", ())):
            return "carries Python bytecode or a pickle (Lambda-like layer)"
    label = getattr(obj, "__name__", None) if obj is not _MISSING else None
    if (isinstance(name, str) and name in DANGEROUS_NAMES) or (isinstance(label, str) and label in DANGEROUS_NAMES):
        return "fetches files, loads models, runs code or switches safety off"
    if obj is not _MISSING and _module_of(obj) in DANGEROUS_MODULES:
        return f"comes from the {_module_of(obj)!r} module"
    return None


def _is_trusted(name, obj, trusted):
    for item in trusted:
        if isinstance(item, str):
            if item == name or (obj is not _MISSING and item == getattr(obj, "__name__", None)):
                return True
        elif obj is not _MISSING and item is obj:
            return True
    return False


#: Packages whose submodules Keras's own loaders import by name as a matter
#: of course (new-format configs carry ``'module': 'keras.layers'`` and so on).
KERAS_PACKAGES = frozenset(UPSTREAM_PACKAGES)


def import_reason(module_name):
    """Why a ``module`` key naming ``module_name`` is unsafe, or ``None``.

    Keras 3-style loaders (TF 2.13+, tf_keras, Keras 3) import the module a
    config names.  Modules already imported, and submodules of a Keras
    package already loaded, are fine; anything else would run its code.
    """
    if not isinstance(module_name, str) or module_name in sys.modules:
        return None
    top = module_name.split(".")[0]
    if top in KERAS_PACKAGES and top in sys.modules:
        return None
    if top == "keras" and "tf_keras" in sys.modules:
        # tf_keras writes its own objects under 'keras.*' module names and its
        # loader reads them as 'tf_keras.*' (export table, then import of the
        # tf_keras module): Keras 3 is never imported.
        return None
    return f"the 'module' key would make Keras 3-style loaders import {module_name!r}"




def _resolve(name, module_objects, custom_objects, builtins, string_order):
    """``(object, source)``, in Keras 2.9's order for a dict or string."""
    try:
        registered = _state.lookup(name, _MISSING)
    except TypeError:  # unhashable name
        return _MISSING, "unresolved"
    custom = custom_objects[name] if custom_objects and name in custom_objects else _MISSING
    if string_order and custom is not _MISSING:
        return custom, "custom_objects"
    if registered is not _MISSING:
        return registered, "registry"
    if custom is not _MISSING:
        return custom, "custom_objects"
    if module_objects and name in module_objects:
        return module_objects[name], "module_objects"
    if builtins and name in builtins:
        return builtins[name], "keras"
    return _MISSING, "unresolved"


def audit(config, module_objects=None, custom_objects=None, trusted=(), root="config"):
    """Report every name ``config`` would resolve and what safe mode refuses.

    Nothing is constructed, imported or called.  ``module_objects`` and
    ``custom_objects`` are used as :func:`keras_deser.deserialize_keras_object`
    would use them; with no ``module_objects`` the public objects of the
    loaded Keras's layer, initializer, ... modules stand in for the ones its
    own loaders pass.  ``trusted`` names or objects are never reported unsafe.
    Returns an :class:`AuditReport`.

    The walk is iterative and visits each container once, so
    self-referencing and very deeply nested configs end; paths longer than
    :data:`MAX_PATH_PARTS` keys have their middle elided.
    """
    return AuditReport(_walk(config, module_objects, custom_objects, tuple(trusted), root, None))


#: Keras 2 ``TFOpLambda``-style layers: ``config['function']`` names a
#: TensorFlow API symbol that the model calls, with arguments from the config,
#: while it is rebuilt.
TF_OP_CLASSES = frozenset(("TFOpLambda", "SlicingOpLambda"))

#: Parts of a TF API name (``io.write_file``) that make a TF op layer unsafe.
DANGEROUS_TF_OP_PARTS = frozenset(
    (
        "io", "gfile", "raw_ops", "py_function", "numpy_function", "py_func", "eager_py_func",
        "summary", "saved_model", "load_op_library", "load_library", "print", "data", "lookup",
        "train", "debugging", "distribute", "experimental", "config", "profiler", "autograph",
        "function", "Module", "keras", "estimator", "feature_column", "audio", "image_summary",
    )
)


def _tf_op_unsafe(function):
    """Why a TF op layer calling ``function`` (an API name) is refused, or None."""
    if not isinstance(function, str):
        return "a TF op layer whose function is not an API name"
    parts = function.split(".")
    if any(part in DANGEROUS_TF_OP_PARTS or part in DANGEROUS_NAMES or part.startswith("_") and part != "__operators__"
           for part in parts):
        return f"a TF op layer calling {function!r} (file, I/O or Python function ops run while the model is rebuilt)"
    return None


def _walk(config, module_objects, custom_objects, trusted, root, containers):
    """The findings of :func:`audit`; ``containers`` (a list) gets every container visited."""
    builtins = keras_builtins() if module_objects is None else None
    findings = []

    def resolve_name(name, link, key, string_order):
        obj, source = _resolve(name, module_objects, custom_objects, builtins, string_order)
        kind = _kind(obj)
        unsafe = classify(name, obj, trusted)
        if unsafe is None and obj is not _MISSING and kind != "class" and not string_order:
            if not _is_trusted(name, obj, trusted):
                unsafe = "a factory callable would be called with arguments from the config"
        path = _render(root, link, key) if key is not None else _render(root, link)
        findings.append(Finding(path, display_name(name), kind, source, unsafe))
        return obj

    def _inner_string(item, link, key, function_name=False):
        # Keras 2.9 turns an inner string into the function the registry or
        # custom_objects holds under it; nested loaders may look it up in their
        # module_objects, so a dangerous object found there is reported too.
        obj, source = _resolve(item, None, custom_objects, None, False)
        if obj is not _MISSING and _state.isfunction(obj):
            findings.append(Finding(_render(root, link, key), item, "function", source,
                                    classify(item, obj, trusted)))
            return
        obj, source = _resolve(item, module_objects, None, builtins, False)
        if obj is not _MISSING and callable(obj):
            unsafe = classify(item, obj, trusted)
            if unsafe or function_name:
                findings.append(Finding(_render(root, link, key), item, _kind(obj), source, unsafe))
        elif function_name or (item in UNMISTAKABLE_NAMES and not _is_trusted(item, _MISSING, trusted)):
            # a function a nested loader resolves by name later (Lambda's
            # function_type 'function'), or a name that can only mean danger
            unsafe = None if function_name and item not in DANGEROUS_NAMES else classify(item, _MISSING, trusted)
            findings.append(Finding(_render(root, link, key), item, "function" if function_name else None,
                                    "unresolved", unsafe))

    if isinstance(config, str):
        resolve_name(config, None, None, True)
        return findings

    seen = set()
    stack = [(config, None)]
    while stack:
        node, link = stack.pop()
        if isinstance(node, (dict, list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if containers is not None:
                containers.append(node)
        if isinstance(node, dict):
            children = list(node.items())
            if "class_name" in node and "config" in node:
                class_name = node["class_name"]
                resolve_name(class_name, link, "class_name", False)
                inner = node["config"]
                if isinstance(inner, dict):
                    if isinstance(class_name, str) and class_name in TF_OP_CLASSES and not _is_trusted(
                        class_name, _MISSING, trusted
                    ):
                        reason = _tf_op_unsafe(inner.get("function"))
                        if reason:
                            findings.append(Finding(_render(root, link, "config", "function"),
                                                    display_name(inner.get("function")), "function",
                                                    "unresolved", reason))
                    named = ()
                    if inner.get("function_type") == "function":
                        named += ("function",)
                    if inner.get("output_shape_type") == "function":
                        named += ("output_shape",)
                    for key, item in list(inner.items()):
                        if key != "name" and isinstance(item, str):
                            _inner_string(item, _link(link, "config"), key, key in named)
            module_name = node.get("module") if "class_name" in node else None
            if module_name is not None and not _is_trusted(module_name, _MISSING, trusted):
                reason = import_reason(module_name)
                if reason:
                    findings.append(Finding(_render(root, link, "module"), display_name(module_name),
                                            "module", "unresolved", reason))
            if node.get("function_type") == "lambda" or node.get("output_shape_type") == "lambda":
                if not _is_trusted("Lambda", _MISSING, trusted):
                    findings.append(Finding(_render(root, link), "lambda", "bytecode", "unresolved",
                                            "carries Python bytecode (function_type 'lambda')"))
            for key, value in reversed(children):
                if isinstance(value, (dict, list, tuple)) or (isinstance(value, str) and len(value) >= 24):
                    stack.append((value, _link(link, key)))
        elif isinstance(node, (list, tuple)):
            for index in range(len(node) - 1, -1, -1):
                value = node[index]
                if isinstance(value, (dict, list, tuple)) or (isinstance(value, str) and len(value) >= 24):
                    stack.append((value, _link(link, index)))
        elif _looks_like_bytecode(node) and not _is_trusted("Lambda", _MISSING, trusted):
            findings.append(Finding(_render(root, link), "<bytecode>", "bytecode", "unresolved",
                                    "a string holding marshalled Python bytecode"))
    return findings
