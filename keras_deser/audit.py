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
import difflib
import sys
from typing import List, NamedTuple, Optional

from . import _state

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


def path_text(root, parts):
    """``root['a'][3]`` from ``['a', 3]``."""
    return root + "".join(f"[{part!r}]" for part in parts)


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


def _keras_builtins():
    """Public objects of the loaded Keras's serializable modules, or {}."""
    binding = _state.binding
    if binding.legacy_module is None:
        return {}
    cached = _BUILTINS_CACHE.get(binding.flavour.name)
    if cached is not None:
        return cached
    roots = []
    for package, attr in (("tensorflow", "keras"), ("keras", None), ("tf_keras", None)):
        module = sys.modules.get(package)
        if module is not None:
            try:
                roots.append(getattr(module, attr) if attr else module)
            except AttributeError:
                pass
    objects = {}
    for root in roots[:1]:
        for group in ("layers", "initializers", "regularizers", "constraints", "activations",
                      "losses", "metrics", "optimizers", "models"):
            module = getattr(root, group, None)
            if module is None:
                continue
            for key, value in vars(module).items():
                if not key.startswith("_") and (callable(value)):
                    objects.setdefault(key, value)
    _BUILTINS_CACHE[binding.flavour.name] = objects
    return objects


_BUILTINS_CACHE = {}


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
    """
    builtins = _keras_builtins() if module_objects is None else None
    findings = []
    trusted = tuple(trusted)

    def resolve_name(name, parts, string_order):
        obj, source = _resolve(name, module_objects, custom_objects, builtins, string_order)
        kind = _kind(obj)
        unsafe = classify(name, obj, trusted)
        if unsafe is None and obj is not _MISSING and kind != "class" and not string_order:
            if not _is_trusted(name, obj, trusted):
                unsafe = "a factory callable would be called with arguments from the config"
        findings.append(Finding(path_text(root, parts), str(name), kind, source, unsafe))

    if isinstance(config, str):
        resolve_name(config, [], True)
        return AuditReport(findings)

    seen = set()
    stack = [(config, [])]
    while stack:
        node, parts = stack.pop()
        if isinstance(node, (dict, list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, dict):
            children = list(node.items())
            if "class_name" in node and "config" in node:
                resolve_name(node["class_name"], parts + ["class_name"], False)
                inner = node["config"]
                if isinstance(inner, dict):
                    for key, item in inner.items():
                        if key != "name" and isinstance(item, str):
                            obj, source = _resolve(item, None, custom_objects, None, False)
                            if obj is not _MISSING and source != "unresolved" and _state.isfunction(obj):
                                findings.append(Finding(
                                    path_text(root, parts + ["config", key]), item, "function", source,
                                    classify(item, obj, trusted),
                                ))
            if node.get("function_type") == "lambda" or node.get("output_shape_type") == "lambda":
                if not _is_trusted("Lambda", _MISSING, trusted):
                    findings.append(Finding(path_text(root, parts), "lambda", "bytecode", "unresolved",
                                            "carries Python bytecode (function_type 'lambda')"))
            for key, value in reversed(children):
                stack.append((value, parts + [key]))
        elif isinstance(node, (list, tuple)):
            for index in range(len(node) - 1, -1, -1):
                stack.append((node[index], parts + [index]))
        elif _looks_like_bytecode(node) and not _is_trusted("Lambda", _MISSING, trusted):
            findings.append(Finding(path_text(root, parts), "<bytecode>", "bytecode", "unresolved",
                                    "a string holding marshalled Python bytecode"))
    return AuditReport(findings)


def suggestions(name, module_objects=None, custom_objects=None, limit=3):
    """Names close to ``name`` among those that were available."""
    if not isinstance(name, str):
        return []
    candidates = set()
    for source in (_state.store.visible(), custom_objects, module_objects):
        if source:
            try:
                candidates.update(key for key in source if isinstance(key, str))
            except TypeError:
                pass
    return difflib.get_close_matches(name, sorted(candidates), n=limit, cutoff=0.6)

