"""The ``keras-deser`` command (also ``python -m keras_deser``).

Subcommands::

    keras-deser doctor                 what keras_deser is bound to
    keras-deser load [FILE]            build an object from a config, summarise it
    keras-deser verify FILE            keras_deser against the unpatched upstream
    keras-deser audit FILE             what a config would resolve, from where, and
                                       what safe mode would refuse (nothing is built)

``FILE`` is a Keras JSON config (``model.to_json()``), a JSON file holding a
serialized object (``{"class_name": ..., "config": ...}``), an HDF5 file
with a ``model_config`` attribute (read with h5py), or ``-`` for standard
input.  Every subcommand takes ``--json`` (one JSON document on standard
output, errors included).

``--safe`` (load, verify, audit) runs keras_deser's safe mode: a config
holding Lambda bytecode, a factory function or a dangerous function is
refused before any of it runs (exit 1, every unsafe key path on stderr).

Exit codes: 0 success; 1 the operation failed (an unresolvable name, a file
that is not a usable config, a config safe mode refuses, a ``verify``
difference, an ``audit`` finding: anything unsafe or unresolved); 2 usage
errors (bad options, a file that does not exist, a ``--custom-objects`` that
cannot be imported).

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

__all__ = ["main", "CLIError", "format_audit_table", "audit_entries", "audit_counts", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE"]

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

    def __init__(self, message, code=EXIT_FAILURE, file=None, path=None, hint=None, details=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.file = file
        self.path = path
        self.hint = hint
        self.details = details  # extra JSON-able facts (safe mode: the unsafe findings)

    def as_dict(self):
        document = {
            "message": self.message,
            "exit_code": self.code,
            "file": self.file,
            "path": self.path,
            "hint": self.hint,
        }
        if self.details:
            document.update(self.details)
        return document

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
    """``keras_deser.safe_mode()`` (this thread), or a no-op."""
    if not enabled:
        return _NullContext()
    import keras_deser

    return keras_deser.safe_mode()


def unsafe_error(error, label):
    """A :class:`CLIError` for an :class:`keras_deser.UnsafeConfigError`.

    The message is the error's own text, which names every unsafe key path
    (so no single ``path``); ``--json`` also gets the findings (``unsafe``).
    """
    unsafe = [finding._asdict() for finding in error.report.unsafe]
    return CLIError(
        str(error),
        file=label,
        hint="run `keras-deser audit FILE` to see every name the config resolves; "
        "drop --safe only for files you trust",
        details={"unsafe": unsafe},
    )


def refuse_if_unsafe(config, label, module_objects, custom_objects):
    """Raise what safe mode would raise for ``config``, without building it.

    Used before building with code that does not check safe mode itself
    (``verify``'s upstream side).
    """
    import keras_deser
    from keras_deser.safety import trusted_objects

    report = keras_deser.audit(
        copy.deepcopy(config), module_objects, custom_objects or None, trusted=trusted_objects()
    )
    if report.unsafe:
        raise unsafe_error(keras_deser.UnsafeConfigError(report), label)


class _Routing:
    """Route nested deserializations through keras_deser while building.

    Uses ``keras_deser.patched()`` (install for the block, then uninstall;
    left installed if it already was) when a Keras is loaded and
    ``--no-patch`` was not given; otherwise only the top-level object goes
    through keras_deser (the model's own ``from_config`` then calls upstream
    for its layers).
    """

    def __init__(self, up, enabled):
        self.enabled = bool(enabled and up is not None and up.available)
        self.sites = []
        self.calls = None
        self.error = None
        self._context = None
        self._start_calls = None

    @property
    def mode(self):
        if self.enabled and self.error is None:
            return "installed"
        return "top-level"

    def __enter__(self):
        if not self.enabled:
            return self
        import keras_deser
        from keras_deser.installer import call_count

        self._start_calls = call_count()
        try:
            self._context = keras_deser.patched()
            self.sites = list(self._context.__enter__() or ())
        except Exception as exc:  # cannot install: fall back to the top level
            self.error = f"{type(exc).__name__}: {exc}"
            self._context = None
        return self

    def __exit__(self, *exc):
        if self._context is not None:
            from keras_deser.installer import call_count

            self.calls = call_count() - self._start_calls
            return self._context.__exit__(*exc)
        return False

    def describe(self):
        if self.mode == "installed":
            calls = f", {self.calls} nested calls" if self.calls is not None else ""
            return f"keras_deser throughout (installed for the build at {len(self.sites)} sites{calls})"
        why = f"; install failed: {self.error}" if self.error else ""
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
            caller = frame.f_back
            if caller is not None and caller.f_code.co_name == "from_config" and caller.f_locals.get("cls") is cls:
                return  # super().from_config of the same layer (Keras 3's Dense): one layer, counted once
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

    ``routing`` (a :class:`_Routing`) is entered around the call, inside
    ``keras_deser.safe_mode()`` when ``safe``.  Returns ``(object, seconds)``;
    failures (a safe-mode refusal included) become :class:`CLIError`.
    """
    from keras_deser import UnsafeConfigError

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
    except UnsafeConfigError as exc:  # a ValueError: before the generic case
        raise unsafe_error(exc, label)
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
        "safe_mode": _safe_mode_status(keras_deser),
    }
    if args.json:
        return report, EXIT_OK
    install = report["install"]
    if install.get("error"):
        installed = f"unknown ({install['error']})"
    elif install["installed"]:
        installed = f"yes, at {len(install['sites'])} sites: " + (", ".join(install["sites"]) or "(none)")
    else:
        installed = "no"
    safe = report["safe_mode"]
    if safe["on"]:
        safe_text = "on for this process" + (f" (KERAS_DESER_INSTALL={safe['env']})" if safe["env"] else "")
    else:
        safe_text = "off (Keras 2.9 behaviour; --safe, keras_deser.safe_mode() or KERAS_DESER_INSTALL=safe turn it on)"
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
        ("safe mode", safe_text),
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
    try:
        return {"installed": bool(keras_deser.is_installed()), "sites": [str(site) for site in keras_deser.installed_sites()]}
    except Exception as exc:
        return {"installed": None, "sites": [], "error": f"{type(exc).__name__}: {exc}"}


def _safe_mode_status(keras_deser):
    """Safe mode as this thread sees it, and the switch that may have set it."""
    from keras_deser._activation import ENV_VAR

    env = os.environ.get(ENV_VAR, "").strip() or None
    return {"on": bool(keras_deser.is_safe_mode()), "env": env}


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
    """Upstream's own 4-argument function (never keras_deser's) and its label."""
    import keras_deser
    from keras_deser.testing import upstream_function

    info = keras_deser.upstream_info()
    if not up.available:
        raise CLIError(
            "verify needs an installed TensorFlow/Keras to compare against "
            f"(keras_deser is bound to {info['flavour']!r})"
        )
    try:
        function = upstream_function()
    except (RuntimeError, KeyError) as exc:
        raise CLIError(f"verify cannot find upstream's deserialize_keras_object: {exc}")
    return function, f"{info['legacy_module']}.deserialize_keras_object"


class _Unpatched:
    """Take keras_deser out of the loaded Keras for a block, if installed.

    While keras_deser is installed, upstream's function would still reach
    keras_deser for every nested object (the modules it calls are patched);
    the upstream side of ``verify`` is built with everything restored, and
    keras_deser is installed again afterwards.
    """

    def __init__(self):
        import keras_deser

        self.was_installed = keras_deser.is_installed()

    def __enter__(self):
        if self.was_installed:
            import warnings

            import keras_deser

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # re-patched sites stay as they are
                keras_deser.uninstall()
        return self

    def __exit__(self, *exc):
        if self.was_installed:
            import keras_deser

            keras_deser.install()
        return False


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
    if args.safe or keras_deser.is_safe_mode():
        # Upstream does not check safe mode: refuse before either side runs anything.
        refuse_if_unsafe(config, label, up.layer_objects, custom_objects)
    upstream, upstream_name = _upstream_function(up)
    unpatched = _Unpatched()
    routing = _Routing(up, not args.no_patch)
    printable = _printable(up)
    sides = {}
    for side, function in (("upstream", upstream), ("keras_deser", keras_deser.deserialize_keras_object)):
        try:
            ours = side == "keras_deser"
            with _NullContext() if ours else unpatched:
                obj, seconds = build(
                    function, config, label, up, custom_objects, printable, None, args.safe and ours, routing if ours else None
                )
            sides[side] = {"ok": True, "text": describe(obj), "seconds": seconds}
        except CLIError as error:
            if error.code == EXIT_USAGE:
                raise
            sides[side] = {"ok": False, "error": error}
    ours, theirs = sides["keras_deser"], sides["upstream"]
    result = {
        "file": label,
        "upstream": upstream_name,
        "identical": False,
        "diff": None,
        "routing": routing.mode,
        "was_installed": unpatched.was_installed,
    }
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
        if unpatched.was_installed:
            out.write("  upstream side: built with keras_deser uninstalled for the build (installed again after)\n")
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
        elif result["status"] == "both-failed":
            out.write(f"not built: both fail, with different messages, on {label}\n")
        else:
            out.write(f"different: only one side fails on {label}\n")
        for side, error in result["errors"].items():
            out.write(f"  {side}: {error if error else 'built'}\n")
    return None, code


#: Columns of the audit table: (title, Finding field).
_AUDIT_COLUMNS = (
    ("PATH", "path"),
    ("NAME", "name"),
    ("KIND", "kind"),
    ("RESOLVES FROM", "resolves_from"),
    ("UNSAFE", "unsafe"),
)


def audit_entries(report):
    """The findings of an :class:`keras_deser.AuditReport` (or of an iterable
    of :class:`keras_deser.Finding`) as plain dicts, in the report's order."""
    findings = getattr(report, "findings", report)
    return [finding._asdict() if hasattr(finding, "_asdict") else dict(finding) for finding in findings or ()]


def audit_counts(report):
    """``{"findings", "unresolved", "unsafe"}`` counts of a report."""
    entries = audit_entries(report)
    return {
        "findings": len(entries),
        "unresolved": sum(1 for entry in entries if entry.get("resolves_from") == "unresolved"),
        "unsafe": sum(1 for entry in entries if entry.get("unsafe")),
    }


def format_audit_table(report):
    """The audit report as a fixed-width text table (ends with a summary).

    Paths are printed as the audit gives them; empty cells are ``-``.
    """
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
    counts = audit_counts(report)
    lines.append(f"{counts['findings']} findings, {counts['unresolved']} unresolved, {counts['unsafe']} unsafe")
    return "\n".join(lines) + "\n"


def audit_findings(report):
    """True when anything in the report is unsafe or unresolved (exit 1)."""
    counts = audit_counts(report)
    return bool(counts["unresolved"] or counts["unsafe"])


def cmd_audit(args, out):
    """Audit the config (for a model file: the model config) without building it.

    ``module_objects=None``: the loaded Keras's public layer, initializer,
    ... objects stand in for the tables its own loaders pass (resolves from
    ``keras``).  With ``--safe`` the audit runs inside safe mode and the
    verdict says whether safe mode would refuse the config.
    """
    import keras_deser
    from keras_deser.safety import trusted_objects

    up, custom_objects, config, label, _ = _prepare(args)
    try:
        with safe_context(args.safe):
            report = keras_deser.audit(
                copy.deepcopy(config), module_objects=None, custom_objects=custom_objects or None,
                trusted=trusted_objects(),
            )
    except CLIError:
        raise
    except Exception as exc:
        raise CLIError(f"audit failed: {type(exc).__name__}: {exc}", file=label)
    code = EXIT_FAILURE if audit_findings(report) else EXIT_OK
    counts = audit_counts(report)
    refused = bool(counts["unsafe"])
    if args.json:
        document = {"file": label, "counts": counts, "safe_mode_would_refuse": refused, "keras": up.available}
        document.update(report.to_dict())
        return document, code
    out.write(f"audit of {label}\n")
    out.write(format_audit_table(report))
    if refused:
        out.write(f"safe mode would refuse this config ({counts['unsafe']} unsafe)\n")
    else:
        out.write("safe mode would accept this config\n")
    if counts["unresolved"] and not up.available:
        why = "--no-keras was given" if up.skipped else "no TensorFlow/Keras could be imported"
        out.write(
            f"note: {why}, so Keras's own classes and functions are unresolved; "
            "classes of your own can be given with --custom-objects module:attribute\n"
        )
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
    building.add_argument(
        "--safe",
        action="store_true",
        help="keras_deser's safe mode: refuse (exit 1) a config holding Lambda bytecode, a factory or a "
        "dangerous function before any of it runs",
    )
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
        "audit",
        parents=[common, building],
        help="list every name FILE would resolve, from where, and what safe mode would refuse (builds nothing)",
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
