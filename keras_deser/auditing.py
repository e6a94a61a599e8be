"""Look at a whole config before any of it runs (in the spirit of skops.io).

:func:`audit` walks a serialized Keras object without constructing anything
and reports, in one pass, every class and function name it would resolve,
where each resolves from, and what safe mode would refuse.  Safe mode
(:mod:`keras_deser.safety`) runs the same walk before building anything.

The decision is fail closed (docs/safe-mode.md): a name is allowed when it
resolves to the caller's own code (``custom_objects``, the registry) or to
one of the loaded release's built-in objects known to be harmless
(:mod:`keras_deser.safe_policy`); everything else is refused with its key
path and reason.  The walk is iterative (no recursion limit), visits each
container once (self-referencing configs end), is bounded by the policy's
limits, and never imports a module or calls code from the config.
"""

from __future__ import annotations

import binascii
import sys
from typing import Any, Callable, Iterable, NamedTuple, Optional

from . import _state, shipped_code
from . import safe_policy as policy
from .builtins import builtin_groups, keras_builtins
from .flavours import UPSTREAM_PACKAGES
from .keypath import MAX_PATH_PARTS, display_name, path_text, short_repr  # noqa: F401 (re-exported)
from .keypath import link as _link
from .keypath import render as _render

__all__ = ["Finding", "AuditReport", "audit", "path_text", "classify", "import_reason"]

_MISSING: Any = object()
_ModuleType = type(sys)
_OWN_PACKAGE = __name__.split(".")[0]
Link = Optional[tuple]


class Finding(NamedTuple):
    """One name the config would resolve, or one unsafe spot in it."""

    #: Where in the config, e.g. ``config['config']['layers'][3]['class_name']``.
    path: str
    #: The name as written in the config (or a short description).
    name: str
    #: ``"class"``, ``"function"``, ``"object"``, ``"bytecode"``, ``"module"``,
    #: ``"op"``, ``"path"``, ``"limit"`` or ``None``.
    kind: str | None
    #: ``"custom_objects"``, ``"registry"``, ``"module_objects"``,
    #: ``"keras"`` (the loaded Keras's public objects) or ``"unresolved"``.
    resolves_from: str
    #: Why safe mode refuses it, or ``None``.
    unsafe: str | None = None


class AuditReport:
    """Every :class:`Finding` of one config, with summaries."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings

    @property
    def entries(self) -> list[Finding]:
        return self.findings

    @property
    def names(self) -> list[str]:
        """The distinct names found, in order of first appearance."""
        return list(dict.fromkeys(f.name for f in self.findings if f.kind not in _STRUCTURAL_KINDS))

    @property
    def unresolved(self) -> list[Finding]:
        return [f for f in self.findings if f.resolves_from == "unresolved"]

    @property
    def unsafe(self) -> list[Finding]:
        return [f for f in self.findings if f.unsafe]

    @property
    def ok(self) -> bool:
        """True when nothing is unsafe and everything resolves."""
        return not self.unsafe and not self.unresolved

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": [f._asdict() for f in self.findings],
            "unresolved": [f.name for f in self.unresolved],
            "unsafe": [f._asdict() for f in self.unsafe],
        }

    def __iter__(self) -> Any:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def __str__(self) -> str:
        rows = [("path", "name", "kind", "resolves from", "unsafe")]
        rows += [(f.path, f.name, f.kind or "-", f.resolves_from, f.unsafe or "") for f in self.findings]
        widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths)) + ("  " + row[4] if row[4] else "")
                 for row in rows]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<AuditReport {len(self.findings)} findings, {len(self.unsafe)} unsafe, "
                f"{len(self.unresolved)} unresolved>")


#: Finding kinds that are spots of a config rather than names it resolves.
_STRUCTURAL_KINDS = frozenset(("bytecode", "limit"))

_REASON_CODE = "carries Python bytecode or a pickle (Lambda-like layer)"
_REASON_FACTORY = "a factory callable would be called with arguments from the config"


def _not_shipped_reason() -> str:
    places = shipped_code.shipped(_state.binding.flavour.name).places
    return ("a Lambda whose bytecode is not identical to the installed release's own code ("
            + (", ".join(places) or "not found in this install")
            + "), e.g. a model saved with another install path or Python version, or altered: "
            "pass trusted=['Lambda'] to load it if you trust its source")

# --- what the loaded release holds ------------------------------------------


class _Tables(NamedTuple):
    """The loaded release's built-ins as safe mode reads them (one per flavour)."""

    #: ``id`` of every harmless built-in object (the objects stay alive in their modules).
    harmless: frozenset[int]
    #: Harmless built-in functions by public name (the function form's lookup).
    functions: dict[str, Any]
    #: Every built-in by name (:func:`keras_deser.builtins.keras_builtins`).
    everything: dict[str, Any]
    #: Packages a ``module`` key may name.
    module_packages: frozenset[str]


_TABLES: dict[str, _Tables] = {}
_STDLIB: frozenset[str] = frozenset(getattr(sys, "stdlib_module_names", ())) | policy.STDLIB_FALLBACK


def _tables() -> _Tables:
    flavour = _state.binding.flavour.name
    cached = _TABLES.get(flavour)
    if cached is not None:
        return cached
    harmless: set[int] = set()
    functions: dict[str, Any] = {}
    for group, objects in builtin_groups().items():
        class_only = group in policy.CLASS_ONLY_GROUPS
        for key, value in objects.items():
            if _state.isclass(value):
                if not _mro_names(value) & policy.CODE_CLASSES:
                    harmless.add(id(value))
            elif not class_only and key not in policy.META_FUNCTIONS and _top(value) not in _STDLIB:
                harmless.add(id(value))
                functions.setdefault(key, value)
    everything = keras_builtins()
    for value in everything.values():  # the Keras subclasses of Layer/Model
        if _state.isclass(value) and not _mro_names(value) & policy.CODE_CLASSES:
            harmless.add(id(value))
    packages = frozenset(UPSTREAM_PACKAGES) | frozenset(policy.release_policy(flavour).module_aliases)
    tables = _TABLES[flavour] = _Tables(frozenset(harmless), functions, everything, packages)
    return tables


_MRO_NAMES: dict[int, tuple[Any, frozenset[str]]] = {}


def _mro_names(cls: Any) -> frozenset[str]:
    """The ``__name__`` of every class of ``cls``'s MRO (cached per class)."""
    cached = _MRO_NAMES.get(id(cls))
    if cached is not None and cached[0] is cls:
        return cached[1]
    names = frozenset(getattr(base, "__name__", "") for base in getattr(cls, "__mro__", ()) or ())
    _MRO_NAMES[id(cls)] = (cls, names)
    return names


def _top(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    return module.split(".")[0] if isinstance(module, str) else ""


def _kind(obj: Any) -> str | None:
    if obj is _MISSING:
        return None
    if _state.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "object"


# --- the one decision --------------------------------------------------------


def is_trusted(name: Any, obj: Any, trusted: Iterable[Any]) -> bool:
    """True when ``trusted`` names ``name`` or holds ``obj`` (or names its ``__name__``)."""
    for item in trusted:
        if isinstance(item, str):
            if item == name or (obj is not _MISSING and item == getattr(obj, "__name__", None)):
                return True
        elif obj is not _MISSING and item is obj:
            return True
    return False


def decide(name: Any, obj: Any, source: str, called: bool, trusted: tuple[Any, ...] = ()) -> str | None:
    """Why safe mode refuses ``name`` resolving to ``obj`` from ``source``, or ``None``.

    ``called`` is true where the loader calls what it resolves with arguments
    from the config (a ``class_name``), false where it hands it back (a
    string identifier, an inner-config string).  Fail closed: allowed are
    the caller's own code (``custom_objects``, the registry; not a factory
    where ``called``), the release's harmless built-ins, and classes of
    other origin that carry no code; everything else is refused.
    """
    if obj is _MISSING or is_trusted(name, obj, trusted):
        return None
    if isinstance(name, str) and name in policy.CODE_CLASSES:
        return _REASON_CODE
    is_class = _state.isclass(obj)
    if is_class and _mro_names(obj) & policy.CODE_CLASSES:
        return _REASON_CODE
    if type(obj) is _ModuleType:
        return "a module (a loader's module globals hold it), which safe mode never hands to a config"
    top = _top(obj)
    if top in _STDLIB or top in policy.FOREIGN_DANGEROUS:
        return f"comes from the {top!r} module, which safe mode never builds from a config"
    if top == _OWN_PACKAGE:
        return "keras_deser's own function (installed into the loader's module globals), not a config object"
    label = getattr(obj, "__name__", None)
    if (isinstance(name, str) and name in policy.BELT_NAMES) or (isinstance(label, str) and label in policy.BELT_NAMES):
        return "fetches files, loads models, runs code or switches safety off"
    if is_class:
        return None  # its config is checked by _class_checks
    harmless = id(obj) in _tables().harmless if _state.binding.legacy_module is not None else False
    if harmless:
        return None
    if called:
        return _REASON_FACTORY
    if top in policy.UPSTREAM_CODE_PACKAGES:
        return "a Keras/TensorFlow callable that is not one of the release's harmless built-ins"
    if source in ("custom_objects", "registry") or _state.binding.legacy_module is None:
        return None  # the caller's own code (no Keras loaded: module_objects are the caller's too)
    if source == "module_objects":
        return None  # a class or function of the caller's own module
    return "not known to be harmless"


def classify(name: Any, obj: Any, trusted: tuple[Any, ...] = ()) -> str | None:
    """Why safe mode refuses building ``obj`` named ``name`` (a ``class_name``), or ``None``."""
    return decide(name, obj, "unknown", False, trusted)


def import_reason(module_name: Any, tables: _Tables | None = None) -> str | None:
    """Why a ``module`` key naming ``module_name`` is unsafe, or ``None``.

    Keras 3-style loaders (TF 2.13+, tf_keras, Keras 3) import the module a
    config names and take the object from it.  Only the loaded Keras's own
    packages (and the aliases of the release's row) are accepted; any other
    module, imported already or not, is refused unless trusted.
    """
    if not isinstance(module_name, str):
        return "the 'module' key is not a module name"
    top = module_name.split(".")[0]
    packages = (tables or _tables()).module_packages
    if top in packages and (top in sys.modules or any(alias in sys.modules for alias in packages)):
        return None
    return f"the 'module' key would make Keras 3-style loaders import {module_name!r} and take objects from it"


# --- bytecode in any encoding ------------------------------------------------


def _marshal_header(raw: bytes) -> bool:
    """True when ``raw`` starts like a marshalled code object (type 'c', maybe FLAG_REF)."""
    return len(raw) > 16 and raw[0] in (0x63, 0xE3) and raw[1:17].count(0) >= 3


def looks_like_bytecode(value: Any) -> bool:
    """True for marshalled Python code in any encoding a release's ``func_load`` accepts.

    Base64 text (``func_dump``'s form; non-alphabet characters are skipped
    as ``codecs.decode(..., 'base64')`` does), raw bytes, latin-1 /
    ``raw_unicode_escape`` text, and lists of byte values.
    """
    if isinstance(value, (bytes, bytearray)):
        return _marshal_header(bytes(value[:32]))
    if isinstance(value, str):
        if len(value) < 20:
            return False
        # func_load: base64 of the ASCII text, else the text's raw_unicode_escape bytes.
        if _marshal_header(value[:32].encode("raw_unicode_escape")):
            return True
        try:
            raw = binascii.a2b_base64(value.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return False
        return _marshal_header(raw[:32])
    if isinstance(value, (list, tuple)) and len(value) > 16:
        head = value[:17]
        if all(type(item) is int and 0 <= item < 256 for item in head):
            return _marshal_header(bytes(head))
    return False


# --- op layers, paths, code- and path-like arguments -------------------------


def _op_reason(kind: str, inner: dict[Any, Any]) -> str | None:
    """Why an op layer with config ``inner`` is refused, or ``None``."""
    op = policy.OP_LAYERS[kind]
    values = [inner.get(key) for key in op.keys]
    if op.allowlist == "raw_op":
        node_def = values[0]
        if not isinstance(node_def, dict):
            return "a TensorFlowOpLayer whose node_def is not a plain dict (raw NodeDef bytes are refused)"
        op_type = node_def.get("op")
        if type(op_type) is not str or op_type not in policy.PURE_RAW_OPS:
            return f"a TensorFlowOpLayer running raw op {short_repr(op_type)}, not a known pure tensor computation"
        if _holds_function_attr(node_def.get("attr")):
            return "a TensorFlowOpLayer whose node_def carries a function attribute"
        return None
    if not all(isinstance(value, str) for value in values):
        return f"a {kind} layer whose {'/'.join(op.keys)} is not an API name"
    symbol = ".".join(str(value) for value in values)
    if op.allowlist == "tf_api":
        parts = symbol.split(".")
        pure = symbol in policy.PURE_TF_API_NAMES or (
            len(parts) > 1 and parts[0] in policy.PURE_TF_API_NAMESPACES and parts[-1][:1].islower()
            and not any(part in policy.IMPURE_TF_API_PARTS or (part.startswith("_") and part != "__operators__")
                        for part in parts)
        )
    elif op.allowlist == "class_method":
        pure = symbol in policy.PURE_CLASS_METHODS
    else:
        pure = symbol in policy.PURE_INSTANCE_ATTRIBUTES
    if pure:
        return None
    return f"a {kind} layer calling {symbol!r}, not a known pure tensor computation"


def _holds_function_attr(attrs: Any) -> bool:
    """True when a NodeDef's ``attr`` holds a function anywhere (``func``, ``list.func``, nested)."""
    stack = [attrs]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "func" in value:
                return True
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _class_checks(class_name: Any, cls: Any, inner: Any,
                  trusted: tuple[Any, ...]) -> list[tuple[str, str, str, str]]:
    """``[(key, name, kind, reason)]`` for the config of one object of a known (or named) class."""
    if not isinstance(inner, dict):
        return []
    names: frozenset[str]
    if cls is not _MISSING and _state.isclass(cls):
        names = _mro_names(cls)
        builtin = _top(cls) in policy.UPSTREAM_CODE_PACKAGES
    else:
        # Not resolved here: another loader may resolve it (TF's feature-column
        # deserializer has its own table), so the generic rule applies too.
        names = frozenset((class_name,)) if isinstance(class_name, str) else frozenset()
        builtin = cls is _MISSING
    problems: list[tuple[str, str, str, str]] = []
    if is_trusted(class_name, cls, trusted):
        return problems
    checked: set[str] = set()
    for name in names:
        if name in policy.OP_LAYERS:
            op = policy.OP_LAYERS[name]
            checked.update(op.keys)
            if is_trusted(".".join(str(inner.get(k)) for k in op.keys), _MISSING, trusted):
                continue
            reason = _op_reason(name, inner)
            if reason:
                symbol = ".".join(short_repr(inner.get(k)) if not isinstance(inner.get(k), str) else inner[k]
                                  for k in op.keys)
                problems.append((op.keys[0], symbol, "op", reason))
        for key in policy.PATH_ARGUMENTS.get(name, ()):
            checked.add(key)
            value = inner.get(key)
            if isinstance(value, (str, bytes, bytearray)):
                problems.append((key, name, "path", f"{name}'s {key!r} names a file the release would read"))
    if builtin and not names & policy.CODE_CLASSES:
        functions = _tables().functions if _state.binding.legacy_module is not None else {}
        for key, value in inner.items():
            if (isinstance(key, str) and key not in checked and isinstance(value, (str, bytes, bytearray)) and value
                    and policy.RISKY_ARGUMENT.search(key) and not policy.RISKY_ARGUMENT_EXEMPT.search(key)
                    and value not in policy.HARMLESS_ARGUMENT_VALUES.get(key, ())
                    and not (value in functions and policy.FUNCTION_ARGUMENT.search(key))):
                problems.append((key, str(class_name), "argument", f"a string under {key!r} of the built-in "
                                 f"{getattr(cls, '__name__', class_name)}: names code or a path safe mode "
                                 "does not know"))
    return problems


# --- resolution --------------------------------------------------------------


def _resolve(name: Any, module_objects: Any, custom_objects: Any, builtins: Any, string_order: bool) -> tuple[Any, str]:
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


def audit(config: Any, module_objects: Any = None, custom_objects: Any = None, trusted: Iterable[Any] = (),
          root: str = "config") -> AuditReport:
    """Report every name ``config`` would resolve and what safe mode refuses.

    Nothing is constructed, imported or called.  ``module_objects`` and
    ``custom_objects`` are used as :func:`keras_deser.deserialize_keras_object`
    would use them; with no ``module_objects`` the public objects of the
    loaded Keras's layer, initializer, ... modules stand in for the ones its
    own loaders pass.  ``trusted`` names or objects are never reported unsafe.
    Returns an :class:`AuditReport`.

    The walk is iterative and visits each container once, so
    self-referencing and very deeply nested configs end; paths longer than
    :data:`MAX_PATH_PARTS` keys have their middle elided.  Configs beyond
    safe mode's limits (:data:`keras_deser.safe_policy.MAX_DEPTH`, ...) get
    one ``limit`` finding and are not walked further.
    """
    return AuditReport(walk(config, module_objects, custom_objects, tuple(trusted), root, None))


def check_node(config: dict[Any, Any], module_objects: Any, custom_objects: Any,
               trusted: tuple[Any, ...]) -> list[Finding]:
    """The refusals of one dict node alone, resolved as a loader resolves it now.

    Used by safe mode for nested calls whose subtree a top-level walk of the
    same load covered already: the structure was checked there; what can
    differ is what the names resolve to with this call's ``module_objects``.
    """
    findings: list[Finding] = []
    harmless = False
    if "class_name" in config:
        harmless = _node(config, None, module_objects, custom_objects, None, trusted, "config", findings, True)
    if not harmless and not is_trusted("Lambda", _MISSING, trusted):
        inner = config.get("config")
        for link, values in ((None, config), (_link(None, "config"), inner if isinstance(inner, dict) else {})):
            for key, value in values.items():
                if isinstance(value, (str, bytes, bytearray, list)) and (
                        (type(value) is str and value == policy.LAMBDA_TYPE_VALUE and str(key).endswith("_type"))
                        or looks_like_bytecode(value)):
                    findings.append(Finding(_render("config", link, key), "<bytecode>", "bytecode", "unresolved",
                                            "a value holding marshalled Python bytecode"))
    return [f for f in findings if f.unsafe]


def check_name(name: Any, obj: Any, module_objects: Any, custom_objects: Any,
               trusted: tuple[Any, ...]) -> str | None:
    """Why safe mode refuses a string identifier ``name`` that resolved to ``obj``, or ``None``."""
    if custom_objects and name in custom_objects and custom_objects[name] is obj:
        source = "custom_objects"
    elif _state.lookup(name, _MISSING) is obj:
        source = "registry"
    else:
        source = "module_objects"
    return decide(name, obj, source, False, trusted)


def _node(node: dict[Any, Any], link: Link, module_objects: Any, custom_objects: Any, builtins: Any,
          trusted: tuple[Any, ...], root: str, findings: list[Finding], shallow: bool) -> bool:
    """Findings for one dict that names an object (``class_name`` + ``config``).

    True when the object is the release's built-in ``Lambda`` carrying the
    release's own code (:func:`keras_deser.shipped_code.lambda_verdict`):
    its ``config`` is checked in full, not to be walked for bytecode.
    """
    add = findings.append
    class_name = node["class_name"]
    inner = node.get("config")
    tables = _tables() if _state.binding.legacy_module is not None else None
    module_name = node.get("module")
    registered_name = node.get("registered_name")

    def user_object(name: Any) -> Any:
        for candidate in (registered_name, name):
            if isinstance(candidate, str):
                obj, source = _resolve(candidate, None, custom_objects, None, False)
                if obj is not _MISSING:
                    return obj, source
        return _MISSING, "unresolved"

    if class_name == policy.NEW_FORMAT_FUNCTION and ("module" in node or "registered_name" in node
                                                     or isinstance(inner, str)):
        # Keras 3-style function form: the loader imports ``module`` and takes ``config`` from it.
        path = _render(root, link, "config")
        if not isinstance(inner, str):
            add(Finding(path, short_repr(inner), "function", "unresolved",
                        None if is_trusted("function", _MISSING, trusted) else
                        "a function form whose config is not a function name"))
            return False
        obj, source = user_object(inner)
        if obj is not _MISSING:
            add(Finding(path, inner, "function", source, decide(inner, obj, source, False, trusted)))
            return False
        known = tables.functions.get(inner, _MISSING) if tables is not None else _MISSING
        in_keras = (isinstance(module_name, str) and tables is not None
                    and module_name.split(".")[0] in tables.module_packages)
        reason = None
        if known is _MISSING or not in_keras:
            where = f"{module_name}.{inner}" if isinstance(module_name, str) else inner
            reason = f"a function ({where}) that is not one of the release's harmless built-ins"
        if reason and (is_trusted(inner, _MISSING, trusted) or is_trusted(module_name, _MISSING, trusted)):
            reason = None
        add(Finding(path, inner, "function", "keras" if known is not _MISSING else "unresolved", reason))
        return False
    if isinstance(class_name, str) and class_name in policy.NEW_FORMAT_DATA_FORMS:
        return False
    if (isinstance(class_name, str) and class_name.startswith("__") and class_name.endswith("__")
            and len(class_name) > 4):
        if class_name not in policy.CODE_CLASSES and not is_trusted(class_name, _MISSING, trusted):
            add(Finding(_render(root, link, "class_name"), class_name, None, "unresolved",
                        "a Keras 3-style form safe mode does not know"))
            return False

    if module_name is not None or registered_name is not None:
        obj, source = user_object(class_name)
        if obj is _MISSING and tables is not None and isinstance(class_name, str):
            obj = tables.everything.get(class_name, _MISSING)
            source = "keras" if obj is not _MISSING else "unresolved"
            if obj is _MISSING and isinstance(module_name, str) and not is_trusted(class_name, _MISSING, trusted) \
                    and module_name.split(".")[0] in tables.module_packages:
                add(Finding(_render(root, link, "class_name"), class_name, None, "unresolved",
                            f"a class of {module_name!r} that is not one of the release's built-ins"))
        if obj is _MISSING or source == "keras":
            if module_name is not None and not is_trusted(module_name, _MISSING, trusted) and not (
                    obj is _MISSING and is_trusted(class_name, _MISSING, trusted)):
                reason = import_reason(module_name, tables) if tables is not None else (
                    f"the 'module' key would make Keras 3-style loaders import {module_name!r} and take "
                    "objects from it")
                if reason:
                    add(Finding(_render(root, link, "module"), display_name(module_name), "module", "unresolved",
                                reason))
        if obj is _MISSING:
            obj, source = _resolve(class_name, module_objects, custom_objects, builtins, False)
    else:
        obj, source = _resolve(class_name, module_objects, custom_objects, builtins, False)
    reason = decide(class_name, obj, source, True, trusted)
    verdict = shipped_code.OTHER
    if reason is not None and tables is not None and obj is not _MISSING \
            and obj is tables.everything.get(policy.SHIPPED_LAMBDA_CLASS):
        verdict = shipped_code.lambda_verdict(inner, _state.binding.flavour.name)
        if verdict == shipped_code.HARMLESS:
            reason = None
        elif verdict == shipped_code.NOT_SHIPPED:
            reason = _not_shipped_reason()
    add(Finding(_render(root, link, "class_name"), display_name(class_name), _kind(obj), source, reason))
    if isinstance(class_name, str) and class_name in policy.CODE_CLASSES and obj is _MISSING \
            and not is_trusted(class_name, _MISSING, trusted):
        findings[-1] = findings[-1]._replace(unsafe=_REASON_CODE)
    for key, name, kind, reason in _class_checks(class_name, obj, inner, trusted):
        add(Finding(_render(root, link, "config", key), name, kind, source, reason))
    if isinstance(inner, dict):
        named: tuple[str, ...] = ()
        if inner.get("function_type") == "function":
            named += ("function",)
        if inner.get("output_shape_type") == "function":
            named += ("output_shape",)
        inner_link = _link(link, "config")
        for key, item in inner.items():
            if key != "name" and isinstance(item, str):
                _inner_string(item, inner_link, key, key in named, module_objects, custom_objects, builtins,
                              trusted, root, findings)
    return verdict == shipped_code.HARMLESS


def _inner_string(item: str, link: Link, key: Any, function_name: bool, module_objects: Any, custom_objects: Any,
                  builtins: Any, trusted: tuple[Any, ...], root: str, findings: list[Finding]) -> None:
    # Keras 2.9 turns an inner string into the function the registry or
    # custom_objects holds under it; nested loaders may look it up in their
    # module_objects, so a refused object found there is reported too.
    path = _render(root, link, key)
    obj, source = _resolve(item, None, custom_objects, None, False)
    if obj is not _MISSING and _state.isfunction(obj):
        findings.append(Finding(path, item, "function", source, decide(item, obj, source, False, trusted)))
        return
    obj, source = _resolve(item, module_objects, None, builtins, False)
    if obj is not _MISSING and callable(obj):
        unsafe = decide(item, obj, source, False, trusted)
        if unsafe or function_name:
            findings.append(Finding(path, item, _kind(obj), source, unsafe))
    elif function_name or (item in _UNMISTAKABLE and not is_trusted(item, _MISSING, trusted)):
        # a function a nested loader resolves by name later (Lambda's
        # function_type 'function'), or a name that can only mean danger
        unsafe = None
        if item in policy.BELT_NAMES and not is_trusted(item, _MISSING, trusted):
            unsafe = "fetches files, loads models, runs code or switches safety off"
        findings.append(Finding(path, item, "function" if function_name else None, "unresolved", unsafe))


#: Belt names that are no ordinary config value (``open``, ``input``,
#: ``remove`` can be ordinary strings): an inner-config string equal to one
#: is reported even where nothing resolves it yet.
_UNMISTAKABLE = policy.BELT_NAMES - frozenset(("open", "input", "remove", "compile", "loads", "vars", "eval",
                                               "globals", "spawn", "read_file", "unlink", "getattr", "setattr",
                                               "delattr", "breakpoint"))


def walk(config: Any, module_objects: Any, custom_objects: Any, trusted: tuple[Any, ...], root: str,
         containers: list[Any] | None, limits: tuple[int, int, int] = (policy.MAX_DEPTH, policy.MAX_NODES,
                                                                          policy.MAX_STRING)) -> list[Finding]:
    """The findings of :func:`audit`; ``containers`` (a list) gets every container visited."""
    builtins = keras_builtins() if module_objects is None else None
    findings: list[Finding] = []
    add = findings.append
    max_depth, max_nodes, max_string = limits
    lambda_trusted = is_trusted("Lambda", _MISSING, trusted)

    if isinstance(config, str):
        obj, source = _resolve(config, module_objects, custom_objects, builtins, True)
        add(Finding(root, config, _kind(obj), source, decide(config, obj, source, False, trusted)))
        return findings

    seen: set[int] = set()
    stack: list[tuple[Any, Link]] = [(config, None)]
    nodes = 0
    push = stack.append
    pop = stack.pop
    record: Callable[[Any], None] | None = containers.append if containers is not None else None
    while stack:
        node, link = pop()
        node_type = type(node)
        if node_type is dict or node_type is list or node_type is tuple or isinstance(node, (dict, list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if record is not None:
                record(node)
            nodes += len(node)
            depth = link[2] if link is not None else 0
            if nodes > max_nodes or depth > max_depth:
                what = (f"more than {max_nodes} entries" if nodes > max_nodes
                        else f"containers nested more than {max_depth} deep")
                add(Finding(_render(root, link), "<limit>", "limit", "unresolved",
                            f"the config has {what} (safe mode's limit; see docs/safe-mode.md)"))
                return findings
        else:
            if isinstance(node, (str, bytes, bytearray)):
                if len(node) > max_string:
                    add(Finding(_render(root, link), "<limit>", "limit", "unresolved",
                                f"a value of more than {max_string} characters (safe mode's limit)"))
                    return findings
                if not lambda_trusted and looks_like_bytecode(node):
                    add(Finding(_render(root, link), "<bytecode>", "bytecode", "unresolved",
                                "a value holding marshalled Python bytecode"))
            continue
        if isinstance(node, dict):
            items = list(node.items())
            harmless = False
            if "class_name" in node and ("config" in node or "module" in node or "registered_name" in node):
                harmless = _node(node, link, module_objects, custom_objects, builtins, trusted, root, findings, False)
            for key, value in items:
                if type(value) is str and value == policy.LAMBDA_TYPE_VALUE and str(key).endswith("_type") \
                        and not lambda_trusted:
                    add(Finding(_render(root, link, key), "lambda", "bytecode", "unresolved",
                                f"carries Python bytecode ({key} 'lambda')"))
            for key, value in reversed(items):
                if harmless and key == "config":
                    continue  # the release's own Lambda code, its config checked in full by _node
                value_type = type(value)
                if value_type is dict or value_type is list or value_type is tuple or (
                        (value_type is str or value_type is bytes) and len(value) >= 20) or isinstance(
                        value, (dict, list, tuple, bytes, bytearray)) or (isinstance(value, str) and len(value) >= 20):
                    push((value, _link(link, key)))
        else:
            if not lambda_trusted and len(node) > 16 and looks_like_bytecode(node):
                add(Finding(_render(root, link), "<bytecode>", "bytecode", "unresolved",
                            "a list of byte values holding marshalled Python bytecode"))
            for index in range(len(node) - 1, -1, -1):
                value = node[index]
                value_type = type(value)
                if value_type is int or value_type is float or value_type is bool or value is None:
                    continue
                if isinstance(value, (dict, list, tuple, bytes, bytearray)) or (
                        isinstance(value, str) and len(value) >= 20):
                    push((value, _link(link, index)))
    return findings
