"""The ``keras-deser`` command (also ``python -m keras_deser``).

Subcommands::

    keras-deser doctor                 what keras_deser is bound to
    keras-deser load [FILE]            build an object from a config, summarise it
    keras-deser verify FILE            keras_deser against the unpatched upstream
    keras-deser audit FILE             what a config would resolve, and from where

``FILE`` is a Keras JSON config (``model.to_json()``), a JSON file holding a
serialized object (``{"class_name": ..., "config": ...}``), an HDF5 file
with a ``model_config`` attribute (read with h5py), or ``-`` for standard
input.  Every subcommand takes ``--json`` (one JSON document on standard
output, errors included).

Exit codes: 0 success; 1 the operation failed (an unresolvable name, a file
that is not a usable config, a ``verify`` difference, an ``audit`` finding);
2 usage errors (bad options, a file that does not exist, a
``--custom-objects`` that cannot be imported, a feature this version lacks).

This module imports only the standard library and keras_deser at import
time.  TensorFlow/Keras are imported by the subcommands that need them, and
only when installed.
"""

import argparse
import copy
import difflib
import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
import time

__all__ = ["main", "CLIError", "format_audit_table", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

#: The example model config shipped with the package (``load`` with no FILE).
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "example_model.json")

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_HDF5_SUFFIXES = (".h5", ".hdf5", ".he5")

#: Modules where upstream Keras keeps the JSON decoder its ``model_from_json``
#: uses (``__tuple__``, ``TensorShape`` ...).  Used only if already imported.
_JSON_UTILS = (
    "keras.saving.saved_model.json_utils",
    "keras.saving.legacy.saved_model.json_utils",
    "keras.src.saving.legacy.saved_model.json_utils",
    "tf_keras.src.saving.legacy.saved_model.json_utils",
    "keras.src.legacy.saving.json_utils",
    "tensorflow.python.keras.saving.saved_model.json_utils",
)

_UNKNOWN_RE = re.compile(r"^Unknown ([^:]+): (.*?)\. Please ensure", re.S)


class CLIError(Exception):
    """A failure reported to the user: message, exit code and where."""

    def __init__(self, message, code=EXIT_FAILURE, file=None, path=None, hint=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.file = file
        self.path = path
        self.hint = hint

    def as_dict(self):
        return {
            "message": self.message,
            "exit_code": self.code,
            "file": self.file,
            "path": self.path,
            "hint": self.hint,
        }

    def render(self, command):
        where = ""
        if self.file:
            where += f"{self.file}: "
        if self.path:
            where += f"at {self.path}: "
        text = f"keras-deser {command}: {where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


# ---------------------------------------------------------------------------
# Upstream (TensorFlow / Keras), imported lazily


def _installed(name):
    """True when ``name`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


class Upstream:
    """What the CLI found of TensorFlow/Keras in this process."""

    def __init__(self):
        self.imported = []  # package names imported successfully
        self.errors = {}  # package name -> "Type: message"
        self.installed = {}  # package name -> bool
        self.keras = None  # the Keras API package (tf.keras, keras, tf_keras)
        self.layer_objects = None  # {name: class} for module_objects
        self.layer_objects_source = None
        self.layer_base = None  # the Layer base class, for progress counting
        self.skipped = False  # --no-keras

    @property
    def available(self):
        return self.keras is not None


def load_upstream(use_keras=True):
    """Import TensorFlow (else Keras) when installed, then bind keras_deser.

    Returns an :class:`Upstream`.  Import failures are recorded, not raised:
    the commands then work as without Keras and say why.
    """
    import keras_deser

    up = Upstream()
    up.skipped = not use_keras
    for name in ("tensorflow", "keras", "tf_keras"):
        up.installed[name] = _installed(name)
    if use_keras:
        for name in ("tensorflow", "keras"):
            if not up.installed[name]:
                continue
            try:
                module = importlib.import_module(name)
                if name == "tensorflow":
                    getattr(module, "keras")  # TensorFlow's lazy loaders
                up.imported.append(name)
                break
            except Exception as exc:  # a broken install must not stop doctor
                up.errors[name] = f"{type(exc).__name__}: {exc}"
    up.keras = _keras_api()
    keras_deser.bind()
    if up.keras is not None:
        _find_layer_objects(up)
    return up


def _keras_api():
    """The Keras API package of what is loaded: ``tf.keras``, else ``keras``."""
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        try:
            api = getattr(tf, "keras", None)
            if getattr(api, "layers", None) is not None:
                return api
        except Exception:
            pass
    for name in ("keras", "tf_keras"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "layers", None) is not None:
            return module
    return None


def _find_layer_objects(up):
    """Fill ``up.layer_objects``: the names ``keras.layers.deserialize`` knows.

    Release-generic: the module defining ``layers.deserialize`` keeps them in
    ``LOCAL.ALL_OBJECTS`` (filled by ``populate_deserializable_objects``) on
    Keras 2.x and tf.keras; otherwise the public classes of ``layers`` and
    ``models`` are used.
    """
    keras = up.keras
    layers = getattr(keras, "layers", None)
    up.layer_base = getattr(layers, "Layer", None)
    deserialize = getattr(layers, "deserialize", None)
    module = sys.modules.get(getattr(deserialize, "__module__", None) or "")
    populate = getattr(module, "populate_deserializable_objects", None)
    if callable(populate):
        try:
            populate()
        except Exception:
            pass
    objects = getattr(getattr(module, "LOCAL", None), "ALL_OBJECTS", None)
    if isinstance(objects, dict) and objects:
        up.layer_objects = dict(objects)
        up.layer_objects_source = f"{module.__name__}.LOCAL.ALL_OBJECTS"
        return
    objects = {}
    for package in (layers, getattr(keras, "models", None)):
        for name in dir(package or ()):
            if name.startswith("_"):
                continue
            value = getattr(package, name, None)
            if inspect.isclass(value):
                objects[name] = value
    model = getattr(keras, "Model", None)
    if model is not None:
        objects.setdefault("Model", model)
        objects.setdefault("Functional", model)
    up.layer_objects = objects
    up.layer_objects_source = "public names of keras.layers and keras.models"


# ---------------------------------------------------------------------------
# Reading configs


def _decode_json(text):
    """Parse Keras JSON with upstream's decoder when loaded, else plainly."""
    for name in _JSON_UTILS:
        module = sys.modules.get(name)
        decode = getattr(module, "decode", None)
        if callable(decode):
            return decode(text)
    return json.loads(text, object_hook=_plain_hook)


def _plain_hook(obj):
    # Keras's own encodings of tuples and Ellipsis, understood with no Keras.
    if obj.get("class_name") == "__tuple__" and "items" in obj:
        return tuple(obj["items"])
    if obj.get("class_name") == "__ellipsis__":
        return Ellipsis
    return obj


def _size(size):
    if size < 1000:
        return f"{size} bytes"
    if size < 1000000:
        return f"{size / 1e3:.1f} kB"
    return f"{size / 1e6:.1f} MB"


def _is_hdf5(path):
    with open(path, "rb") as handle:
        head = handle.read(8)
    return head == _HDF5_MAGIC or path.lower().endswith(_HDF5_SUFFIXES)


def read_config(path, progress=None):
    """Read the serialized object in ``path``; return ``(config, label)``.

    ``path`` None means the bundled example, ``-`` standard input.
    """
    if path is None:
        path = EXAMPLE
        label = "example_model.json (bundled example)"
    else:
        label = path
    if path == "-":
        text = sys.stdin.read()
        label = "<stdin>"
        return _parse_text(text, label), label
    if not os.path.exists(path):
        raise CLIError("no such file", code=EXIT_USAGE, file=label)
    if os.path.isdir(path):
        raise CLIError(
            "is a directory (SavedModel directories are not supported; give a JSON or HDF5 file)",
            code=EXIT_USAGE,
            file=label,
        )
    try:
        size = os.path.getsize(path)
        if progress is not None:
            progress.note(f"reading {label} ({_size(size)})")
        if _is_hdf5(path):
            text = _read_hdf5_model_config(path, label)
            label_inner = f"{label}:/model_config"
            return _parse_text(text, label_inner), label_inner
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise CLIError(f"cannot read: {exc.strerror or exc}", code=EXIT_USAGE, file=label)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CLIError("not a UTF-8 JSON file nor an HDF5 file", file=label)
    return _parse_text(text, label), label


def _read_hdf5_model_config(path, label):
    try:
        import h5py
    except ImportError:
        raise CLIError(
            "is an HDF5 file, and reading it needs h5py, which is not installed",
            file=label,
            hint="pip install h5py",
        )
    try:
        with h5py.File(path, "r") as handle:
            value = handle.attrs.get("model_config")
    except OSError as exc:
        raise CLIError(f"cannot open as HDF5: {exc}", file=label)
    if value is None:
        raise CLIError(
            "HDF5 file has no 'model_config' attribute (a weights-only file?)",
            file=label,
            path="/ attrs['model_config']",
        )
    if hasattr(value, "decode"):
        value = value.decode("utf-8")
    return str(value)


def _parse_text(text, label):
    if not text.strip():
        raise CLIError("empty file, expected a JSON config", file=label)
    try:
        config = _decode_json(text)
    except ValueError as exc:
        line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        where = f" (line {line}, column {col})" if line is not None else ""
        message = getattr(exc, "msg", None) or str(exc)
        raise CLIError(f"invalid JSON{where}: {message}", file=label)
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        found = type(config).__name__
        if isinstance(config, dict):
            found = "a dict with keys " + ", ".join(sorted(map(str, config))[:8])
        raise CLIError(
            f"not a serialized object: expected a JSON object with 'class_name' and 'config', found {found}",
            file=label,
            path="$",
        )
    return config


def key_paths(config, name):
    """JSONPath-like paths in ``config`` where ``name`` is used as a name.

    A ``class_name`` equal to ``name`` or a string value equal to ``name``.
    """
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            if node.get("class_name") == name:
                found.append(path + ".class_name")
            for key, value in node.items():
                if key == "class_name":
                    continue
                walk(value, f"{path}.{key}" if _simple_key(key) else f"{path}[{json.dumps(key)}]")
        elif isinstance(node, (list, tuple)):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")
        elif isinstance(node, str) and node == name:
            found.append(path)

    walk(config, "$")
    return found


def _simple_key(key):
    return isinstance(key, str) and key.isidentifier()


# ---------------------------------------------------------------------------
# Options shared by load / verify / audit


def parse_custom_objects(specs):
    """``module:attribute`` specs to one ``{name: object}`` dict.

    The attribute is a dict of name to object, or a single class or
    function (registered under its ``__name__``).  The current directory is
    importable, as with ``python -m``.
    """
    objects = {}
    if not specs:
        return objects
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    for spec in specs:
        module_name, sep, attribute = spec.partition(":")
        if not sep or not module_name or not attribute:
            raise CLIError(f"--custom-objects {spec!r}: expected module:attribute", code=EXIT_USAGE)
        try:
            value = importlib.import_module(module_name)
        except Exception as exc:
            raise CLIError(
                f"--custom-objects {spec!r}: cannot import {module_name!r}: {type(exc).__name__}: {exc}",
                code=EXIT_USAGE,
            )
        try:
            for part in attribute.split("."):
                value = getattr(value, part)
        except AttributeError:
            raise CLIError(f"--custom-objects {spec!r}: {module_name!r} has no attribute {attribute!r}", code=EXIT_USAGE)
        if isinstance(value, dict):
            objects.update(value)
        elif callable(value) and hasattr(value, "__name__"):
            objects[value.__name__] = value
        else:
            raise CLIError(
                f"--custom-objects {spec!r}: expected a dict of name to class/function, "
                f"or a class or function, got {type(value).__name__}",
                code=EXIT_USAGE,
            )
    return objects


class _NullContext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def safe_context(enabled):
    """The context of keras_deser's safe mode, or a no-op."""
    if not enabled:
        return _NullContext()
    import keras_deser

    safe_mode = getattr(keras_deser, "safe_mode", None)
    if safe_mode is None:
        raise CLIError("--safe: safe mode is not available in this version of keras_deser", code=EXIT_USAGE)
    context = safe_mode() if callable(safe_mode) else safe_mode
    if not hasattr(context, "__enter__"):
        raise CLIError("--safe: keras_deser.safe_mode() did not return a context manager", code=EXIT_USAGE)
    return context


class _Routing:
    """Route nested deserializations through keras_deser while building.

    Uses ``keras_deser.patched()`` (install for the block, then uninstall)
    when the install API exists, a Keras is loaded and ``--no-patch`` was not
    given; otherwise only the top-level object goes through keras_deser (the
    model's own ``from_config`` then calls upstream for its layers).
    """

    def __init__(self, up, enabled):
        import keras_deser

        self.patched = getattr(keras_deser, "patched", None)
        self.enabled = bool(enabled and up is not None and up.available and callable(self.patched))
        self.sites = []
        self.calls = None
        self.error = None
        self._context = None
        self._counter = None

    @property
    def mode(self):
        if self.enabled and self.error is None:
            return "installed"
        return "top-level"

    def __enter__(self):
        if not self.enabled:
            return self
        import keras_deser

        install_module = sys.modules.get(getattr(self.patched, "__module__", None) or "")
        self._counter = getattr(keras_deser, "call_count", None) or getattr(install_module, "call_count", None)
        start = self._counter() if callable(self._counter) else None
        self._start_calls = start
        try:
            self._context = self.patched()
            self.sites = list(self._context.__enter__() or ())
        except Exception as exc:  # cannot install: fall back to the top level
            self.error = f"{type(exc).__name__}: {exc}"
            self._context = None
        return self

    def __exit__(self, *exc):
        if self._context is not None:
            if callable(self._counter) and self._start_calls is not None:
                self.calls = self._counter() - self._start_calls
            return self._context.__exit__(*exc)
        return False

    def describe(self):
        if self.mode == "installed":
            calls = f", {self.calls} nested calls" if self.calls is not None else ""
            return f"keras_deser throughout (installed for the build at {len(self.sites)} sites{calls})"
        why = ""
        if self.error:
            why = f"; install failed: {self.error}"
        elif self.patched is None:
            why = "; install API not available"
        return f"keras_deser at the top level, upstream for nested objects{why}"


class Progress:
    """Progress on stderr: notes, and a counter of layers built.

    Layers are counted as calls to a ``from_config`` of a ``Layer`` subclass
    (of any ``from_config`` with no Keras), seen through ``sys.setprofile``
    while the object is built; only active when enabled.
    """

    def __init__(self, enabled, stream=None, layer_base=None, total=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.layer_base = layer_base
        self.total = total
        self._tty = False
        self.count = 0
        self._seen_root = False
        self._last = 0.0
        self._start = None
        self._previous = None

    def note(self, text):
        if self.enabled:
            self.stream.write(f"keras-deser: {text}\n")
            self.stream.flush()

    def _profile(self, frame, event, arg):
        if event != "call" or frame.f_code.co_name != "from_config":
            return
        if self.layer_base is not None:
            cls = frame.f_locals.get("cls")
            if not (isinstance(cls, type) and issubclass(cls, self.layer_base)):
                return
        if not self._seen_root:  # the object being loaded is not one of its layers
            self._seen_root = True
            return
        self.count += 1
        now = time.perf_counter()
        if now - self._last >= (0.1 if self._tty else 2.0):
            self._last = now
            self._draw(now)

    def _draw(self, now, final=False):
        of = f" of {self.total} listed at the top level" if self.total else ""
        text = f"keras-deser: built {self.count} layers{of}, {now - self._start:.1f}s"
        if self._tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def __enter__(self):
        if self.enabled:
            try:
                self._tty = self.stream.isatty()
            except Exception:
                self._tty = False
            self._start = self._last = time.perf_counter()
            self._previous = sys.getprofile()
            sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        if self.enabled:
            sys.setprofile(self._previous)
            self._draw(time.perf_counter(), final=True)
        return False


def _progress_enabled(args):
    if getattr(args, "progress", None) is not None:
        return args.progress
    try:
        return sys.stderr.isatty()
    except Exception:
        return False


def _top_level_layer_count(config):
    inner = config.get("config")
    if isinstance(inner, dict) and isinstance(inner.get("layers"), list):
        return len(inner["layers"])
    if isinstance(inner, list):  # Keras 2.0.6 Sequential
        return len(inner)
    return None


# ---------------------------------------------------------------------------
# Building


def _unknown_error(exc, config, label, up):
    """A :class:`CLIError` for an ``Unknown <kind>: <name>`` ValueError, or None."""
    match = _UNKNOWN_RE.match(str(exc))
    if not match:
        return None
    kind, name = match.group(1), match.group(2)
    paths = key_paths(config, name)
    path = paths[0] if paths else None
    more = f" (used at {len(paths)} places)" if len(paths) > 1 else ""
    message = f"unknown {kind} {name!r}: no class or function of that name is registered or given{more}"
    if up is not None and up.skipped and not up.available:
        hint = (
            "TensorFlow/Keras was not imported (--no-keras): it is needed to build Keras layers; "
            "classes of your own can be given with --custom-objects module:attribute"
        )
    elif up is not None and not up.available:
        hint = (
            "no TensorFlow/Keras is installed (or it failed to import): TensorFlow/Keras is needed to "
            "build Keras layers; classes of your own can be given with --custom-objects module:attribute"
        )
    else:
        hint = "give it with --custom-objects module:attribute (a dict of name to class, or the class itself)"
    return CLIError(message, file=label, path=path, hint=hint)


def build(function, config, label, up, custom_objects, printable, progress=None, safe=False, routing=None):
    """Call ``function`` (a 4-argument deserializer) on a copy of ``config``.

    ``routing`` (a :class:`_Routing`) is entered around the call.  Returns
    ``(object, seconds)``; failures become :class:`CLIError`.
    """
    module_objects = up.layer_objects if up is not None else None
    work = copy.deepcopy(config)
    try:
        with safe_context(safe), routing or _NullContext(), progress or _NullContext():
            start = time.perf_counter()
            obj = function(
                work,
                module_objects=module_objects,
                custom_objects=custom_objects or None,
                printable_module_name=printable,
            )
            seconds = time.perf_counter() - start
    except CLIError:
        raise
    except ValueError as exc:
        error = _unknown_error(exc, config, label, up)
        if error is not None:
            raise error
        raise CLIError(f"building failed: ValueError: {exc}", file=label)
    except Exception as exc:
        raise CLIError(f"building failed: {type(exc).__name__}: {exc}", file=label)
    return obj, seconds


def summarize(obj, seconds, config, label):
    cls = type(obj)
    summary = {
        "file": label,
        "class_name": config.get("class_name"),
        "class": f"{cls.__module__}.{getattr(cls, '__qualname__', cls.__name__)}",
        "name": getattr(obj, "name", None) if isinstance(getattr(obj, "name", None), str) else None,
        "layers": None,
        "parameters": None,
        "seconds": round(seconds, 6),
        "keras_version": config.get("keras_version"),
    }
    layers = getattr(obj, "layers", None)
    if isinstance(layers, (list, tuple)):
        summary["layers"] = len(layers)
    count_params = getattr(obj, "count_params", None)
    if callable(count_params):
        try:
            summary["parameters"] = int(count_params())
        except Exception:  # an unbuilt model cannot count its weights
            pass
    return summary


# ---------------------------------------------------------------------------
# Subcommands


def cmd_doctor(args, out):
    import keras_deser

    up = load_upstream(use_keras=not args.no_keras)
    info = dict(keras_deser.upstream_info())
    report = {
        "keras_deser": {"version": keras_deser.__version__, "location": os.path.dirname(os.path.abspath(keras_deser.__file__))},
        "python": sys.version.split()[0],
        "installed": up.installed,
        "imported": up.imported,
        "import_errors": up.errors,
        "upstream": info,
        "layer_objects": {
            "source": up.layer_objects_source,
            "count": len(up.layer_objects) if up.layer_objects is not None else None,
        },
        "install": _install_status(keras_deser),
        "safe_mode": hasattr(keras_deser, "safe_mode"),
        "audit": hasattr(keras_deser, "audit"),
    }
    if args.json:
        return report, EXIT_OK
    install = report["install"]
    if not install["available"]:
        installed = "install API not available"
    elif install["installed"]:
        installed = "yes: " + (", ".join(install["sites"]) or "(no sites reported)")
    else:
        installed = "no"
    rows = [
        ("keras_deser", f"{keras_deser.__version__} ({report['keras_deser']['location']})"),
        ("python", report["python"]),
        ("tensorflow", _version_cell("tensorflow", info["tensorflow_version"], up)),
        ("keras", _version_cell("keras", info["keras_version"], up)),
        ("flavour", f"{info['flavour']}: {info['releases']}"),
        ("registry", info["registry"]),
        ("scopes", f"{info['scopes']['kind']} at {info['scopes']['location']}"),
        ("shared objects", info["shared_objects"]),
        ("registered names", info["registered_names"]),
        ("legacy module", info["legacy_module"] or "-"),
        ("layer objects", f"{report['layer_objects']['count']} from {up.layer_objects_source}" if up.layer_objects else "-"),
        ("installed into TF", installed),
        ("safe mode", "available" if report["safe_mode"] else "not available in this version"),
        ("audit", "available" if report["audit"] else "not available in this version"),
    ]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        out.write(f"{key:<{width}}  {value}\n")
    for name, error in up.errors.items():
        out.write(f"warning: importing {name} failed: {error}\n")
    return None, EXIT_OK


def _version_cell(name, version, up):
    if version:
        return version
    if name in up.errors:
        return "import failed"
    if up.installed.get(name):
        return "installed, not loaded"
    return "not installed"


def _install_status(keras_deser):
    is_installed = getattr(keras_deser, "is_installed", None)
    if is_installed is None:
        return {"available": False, "installed": None, "sites": []}
    try:
        installed = bool(is_installed() if callable(is_installed) else is_installed)
        sites = getattr(keras_deser, "installed_sites", ())
        if callable(sites):
            sites = sites()
        sites = [str(site) for site in (sites or ())]
    except Exception as exc:
        return {"available": True, "installed": None, "sites": [], "error": f"{type(exc).__name__}: {exc}"}
    return {"available": True, "installed": installed, "sites": sites}


def _prepare(args):
    """Shared steps of load/verify/audit: upstream, custom objects, config."""
    progress = Progress(_progress_enabled(args))
    up = load_upstream(use_keras=not args.no_keras)
    custom_objects = parse_custom_objects(args.custom_objects)
    config, label = read_config(args.file, progress)
    progress.layer_base = up.layer_base
    progress.total = _top_level_layer_count(config)
    return up, custom_objects, config, label, progress


def _printable(up):
    return "layer" if up.available else "object"


def cmd_load(args, out):
    import keras_deser

    up, custom_objects, config, label, progress = _prepare(args)
    routing = _Routing(up, not args.no_patch)
    obj, seconds = build(
        keras_deser.deserialize_keras_object,
        config,
        label,
        up,
        custom_objects,
        _printable(up),
        progress,
        args.safe,
        routing,
    )
    summary = summarize(obj, seconds, config, label)
    summary["flavour"] = keras_deser.upstream_info()["flavour"]
    summary["routing"] = {"mode": routing.mode, "sites": len(routing.sites), "nested_calls": routing.calls}
    if routing.error:
        summary["routing"]["error"] = routing.error
    if args.json:
        return summary, EXIT_OK
    out.write(f"built {summary['class']} from {label}\n")
    if summary["name"]:
        out.write(f"  name        {summary['name']}\n")
    if summary["layers"] is not None:
        out.write(f"  layers      {summary['layers']}\n")
    if summary["parameters"] is not None:
        out.write(f"  parameters  {summary['parameters']:,}\n")
    out.write(f"  time        {seconds * 1000:.1f} ms\n")
    out.write(f"  flavour     {summary['flavour']}\n")
    out.write(f"  through     {routing.describe()}\n")
    return None, EXIT_OK


def _upstream_function(up):
    import keras_deser

    info = keras_deser.upstream_info()
    name = info.get("legacy_module")
    if not name or not up.available:
        raise CLIError(
            "verify needs an installed TensorFlow/Keras to compare against "
            f"(keras_deser is bound to {info['flavour']!r})"
        )
    module = sys.modules.get(name) or importlib.import_module(name)
    function = getattr(module, "deserialize_keras_object", None)
    if function is None:
        raise CLIError(f"{name} has no deserialize_keras_object")
    if function is keras_deser.deserialize_keras_object or str(getattr(function, "__module__", "")).startswith("keras_deser"):
        raise CLIError(
            f"{name}.deserialize_keras_object is keras_deser's own (keras_deser is installed): "
            "verify needs the unpatched upstream; run it in a process where keras_deser is not installed"
        )
    return function, f"{name}.deserialize_keras_object"


def _json_default(value):
    for attribute in ("as_list", "tolist"):
        method = getattr(value, attribute, None)
        if callable(method):
            try:
                return method()
            except Exception:
                pass
    if getattr(value, "__name__", None) and callable(value):
        return f"<{getattr(value, '__module__', '?')}.{value.__name__}>"
    return repr(value)


def describe(obj):
    """A JSON text describing ``obj`` for comparison: class and get_config()."""
    cls = type(obj)
    description = {"class": f"{cls.__module__}.{getattr(cls, '__qualname__', cls.__name__)}"}
    get_config = getattr(obj, "get_config", None)
    if callable(get_config):
        description["config"] = get_config()
    elif hasattr(obj, "__dict__"):
        description["attributes"] = {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    else:
        description["repr"] = repr(obj)
    return json.dumps(description, sort_keys=True, indent=1, default=_json_default)


def cmd_verify(args, out):
    import keras_deser

    up, custom_objects, config, label, _ = _prepare(args)
    is_installed = getattr(keras_deser, "is_installed", None)
    if callable(is_installed) and is_installed():
        raise CLIError(
            "keras_deser is installed into the loaded Keras: verify needs the unpatched upstream; "
            "run it in a process where keras_deser is not installed"
        )
    upstream, upstream_name = _upstream_function(up)
    routing = _Routing(up, not args.no_patch)
    printable = _printable(up)
    sides = {}
    for side, function in (("upstream", upstream), ("keras_deser", keras_deser.deserialize_keras_object)):
        try:
            ours = side == "keras_deser"
            obj, seconds = build(
                function, config, label, up, custom_objects, printable, None, args.safe and ours, routing if ours else None
            )
            sides[side] = {"ok": True, "text": describe(obj), "seconds": seconds}
        except CLIError as error:
            if error.code == EXIT_USAGE:
                raise
            sides[side] = {"ok": False, "error": error}
    ours, theirs = sides["keras_deser"], sides["upstream"]
    result = {"file": label, "upstream": upstream_name, "identical": False, "diff": None, "routing": routing.mode}
    if ours["ok"] and theirs["ok"]:
        result["seconds"] = {"upstream": round(theirs["seconds"], 6), "keras_deser": round(ours["seconds"], 6)}
        if ours["text"] == theirs["text"]:
            result["status"] = "identical"
            result["identical"] = True
        else:
            result["status"] = "different"
            result["diff"] = "".join(
                difflib.unified_diff(
                    theirs["text"].splitlines(True),
                    ours["text"].splitlines(True),
                    fromfile=f"upstream ({upstream_name})",
                    tofile="keras_deser",
                )
            )
    else:
        errors = {side: (None if value["ok"] else value["error"].render("verify")) for side, value in sides.items()}
        result["errors"] = errors
        result["status"] = "both-failed" if not (ours["ok"] or theirs["ok"]) else "one-failed"
        if result["status"] == "both-failed" and str(ours["error"].message) == str(theirs["error"].message):
            result["status"] = "both-failed-alike"
    code = EXIT_OK if result["identical"] else EXIT_FAILURE
    if args.json:
        return result, code
    if result["identical"]:
        out.write(f"identical: keras_deser and {upstream_name} build the same object from {label}\n")
        out.write(f"  keras_deser side: {routing.describe()}\n")
        out.write(
            f"  upstream {result['seconds']['upstream'] * 1000:.1f} ms (built first: includes one-time warm-up), "
            f"keras_deser {result['seconds']['keras_deser'] * 1000:.1f} ms\n"
        )
    elif result["status"] == "different":
        out.write(f"different: get_config() of the two objects built from {label} differ\n")
        out.write(result["diff"])
    else:
        if result["status"] == "both-failed-alike":
            out.write(f"not built: both fail alike on {label}\n")
        else:
            out.write(f"different: only one side fails on {label}\n")
        for side, error in result["errors"].items():
            out.write(f"  {side}: {error if error else 'built'}\n")
    return None, code


#: Columns of the audit table: (title, entry key).
_AUDIT_COLUMNS = (
    ("PATH", "path"),
    ("NAME", "name"),
    ("KIND", "kind"),
    ("RESOLVES FROM", "resolves_from"),
    ("UNSAFE", "unsafe"),
)


def audit_entries(report):
    """Normalise an audit report to a list of plain dicts.

    Accepts a list of entries, a dict or object with ``entries``, or an
    object with ``to_dict()``; an entry is a dict or an object with the
    attributes ``name``, ``kind``, ``resolves_from``, ``unsafe`` (reason or
    None) and ``path`` (or ``key_path``).
    """
    if hasattr(report, "to_dict") and callable(report.to_dict):
        report = report.to_dict()
    if isinstance(report, dict):
        report = report.get("entries", [])
    elif hasattr(report, "entries"):
        report = report.entries
    entries = []
    for entry in report or ():
        if hasattr(entry, "_asdict"):
            entry = entry._asdict()
        elif not isinstance(entry, dict):
            entry = {key: getattr(entry, key, None) for key in ("name", "kind", "resolves_from", "unsafe", "reason", "path", "key_path")}
        entry = dict(entry)
        if entry.get("path") is None and entry.get("key_path") is not None:
            entry["path"] = entry["key_path"]
        unsafe = entry.get("unsafe")
        if unsafe is True:
            unsafe = entry.get("reason") or entry.get("unsafe_reason") or "unsafe"
        elif not unsafe:
            unsafe = entry.get("unsafe_reason") or None
        entry["unsafe"] = unsafe
        entries.append(entry)
    return entries


def format_audit_table(report):
    """The audit report as a fixed-width text table (ends with a summary)."""
    entries = audit_entries(report)
    rows = [[title for title, _ in _AUDIT_COLUMNS]]
    for entry in entries:
        rows.append(["-" if entry.get(key) in (None, "") else str(entry.get(key)) for _, key in _AUDIT_COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(_AUDIT_COLUMNS))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    unresolved = sum(1 for entry in entries if entry.get("resolves_from") == "unresolved")
    unsafe = sum(1 for entry in entries if entry.get("unsafe"))
    lines.append(f"{len(entries)} names, {unresolved} unresolved, {unsafe} unsafe")
    return "\n".join(lines) + "\n"


def audit_findings(report):
    entries = audit_entries(report)
    return any(entry.get("resolves_from") == "unresolved" or entry.get("unsafe") for entry in entries)


def cmd_audit(args, out):
    import keras_deser

    audit = getattr(keras_deser, "audit", None)
    if audit is None:
        raise CLIError("audit is not available in this version of keras_deser", code=EXIT_USAGE)
    up, custom_objects, config, label, _ = _prepare(args)
    kwargs = {"module_objects": up.layer_objects, "custom_objects": custom_objects or None}
    try:
        parameters = inspect.signature(audit).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
            kwargs = {key: value for key, value in kwargs.items() if key in parameters}
    except (TypeError, ValueError):
        pass
    try:
        with safe_context(args.safe):
            report = audit(copy.deepcopy(config), **kwargs)
    except CLIError:
        raise
    except Exception as exc:
        raise CLIError(f"audit failed: {type(exc).__name__}: {exc}", file=label)
    code = EXIT_FAILURE if audit_findings(report) else EXIT_OK
    if args.json:
        return {"file": label, "entries": audit_entries(report)}, code
    out.write(f"audit of {label}\n")
    out.write(format_audit_table(report))
    return None, code


# ---------------------------------------------------------------------------
# Entry point


def build_parser(prog="keras-deser"):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout (errors included)")
    common.add_argument(
        "--no-keras",
        action="store_true",
        help="do not import TensorFlow/Keras even when installed (pure-Python configs)",
    )

    building = argparse.ArgumentParser(add_help=False)
    building.add_argument(
        "--custom-objects",
        action="append",
        default=[],
        metavar="MODULE:ATTRIBUTE",
        help="a dict of name to class/function, or one class or function (repeatable)",
    )
    building.add_argument("--safe", action="store_true", help="deserialize in keras_deser's safe mode")
    building.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="show progress on stderr (default: only when stderr is a terminal)",
    )
    building.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
    building.add_argument(
        "--no-patch",
        action="store_true",
        help="do not install keras_deser into the loaded Keras while building: only the top-level "
        "object goes through keras_deser, nested layers through upstream",
    )

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Inspect, build, verify and audit serialized Keras objects with keras_deser.",
        epilog="Exit codes: 0 ok, 1 the operation failed, 2 usage error.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    commands.add_parser(
        "doctor", parents=[common], help="show the detected TensorFlow/Keras and what keras_deser is bound to"
    )
    load = commands.add_parser(
        "load", parents=[common, building], help="build an object from a config and summarise it"
    )
    load.add_argument(
        "file", nargs="?", metavar="FILE", help="JSON config, HDF5 file with model_config, or - (default: bundled example)"
    )
    verify = commands.add_parser(
        "verify", parents=[common, building], help="compare keras_deser with the unpatched upstream on FILE"
    )
    verify.add_argument("file", metavar="FILE", help="JSON config or HDF5 file with model_config, or -")
    audit = commands.add_parser(
        "audit", parents=[common, building], help="list every name FILE would resolve, and from where"
    )
    audit.add_argument("file", metavar="FILE", help="JSON config or HDF5 file with model_config, or -")
    return parser


_COMMANDS = {"doctor": cmd_doctor, "load": cmd_load, "verify": cmd_verify, "audit": cmd_audit}


def main(argv=None, prog="keras-deser"):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out = sys.stdout
    try:
        result, code = _COMMANDS[args.command](args, out)
    except CLIError as error:
        sys.stderr.write(error.render(args.command) + "\n")
        if args.json:
            out.write(json.dumps({"ok": False, "error": error.as_dict()}, indent=1, default=_json_default) + "\n")
        return error.code
    except KeyboardInterrupt:
        sys.stderr.write(f"keras-deser {args.command}: interrupted\n")
        return 130
    if args.json:
        document = {"ok": code == EXIT_OK}
        document.update(result or {})
        out.write(json.dumps(document, indent=1, sort_keys=True, default=_json_default) + "\n")
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
