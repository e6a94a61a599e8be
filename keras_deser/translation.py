"""Carry a Keras config saved by one release to another release.

:func:`translate` walks a serialized model (or any serialized object) once,
applies the rows of :data:`keras_deser.format_changes.FORMAT_CHANGES` that
lie between the config's form and the target release, and returns the new
config with a report of every change and its key path.  The input is never
modified: changed containers are copied, unchanged ones are shared, and a
config already in the target's form comes back with no changes at the cost
of one walk.

The loaders hook in through :func:`run_translated` (installed by
``keras_deser.install(translate=True)``): the outermost deserialization of
each load translates the whole config for the bound release; the calls
nested inside it see the translated config and are left alone.

Nothing here imports TensorFlow, Keras or numpy; :func:`convert_file` needs
``h5py`` only for HDF5 files.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import zipfile
from typing import Any, Callable, Iterable, Iterator, NamedTuple, TypeVar

from . import format_changes as _fc
from .format_changes import Blocked, FormatChange, TranslationError, UnknownReleaseError, Version, parse_release
from .keypath import path_text

__all__ = [
    "Change",
    "Translation",
    "TranslationError",
    "UnknownReleaseError",
    "translate",
    "infer_source",
    "bound_release",
    "read_model_config",
    "convert_file",
    "run_translated",
    "set_loader_translation",
    "loader_translation",
]

#: Keys whose values are node data, not serialized objects (handled by rows
#: on the layer that holds them).
_NODE_KEYS = frozenset(("inbound_nodes", "input_layers", "output_layers"))
#: Deeper than this is no model config (and would exhaust the stack).
MAX_DEPTH = 400
_ROOT = "config"

T = TypeVar("T")


class Change(NamedTuple):
    """One change made by :func:`translate`."""

    #: Key path in the audit's syntax (``config['config']['layers'][3]['class_name']``).
    path: str
    #: Name of the :class:`~keras_deser.format_changes.FormatChange` row applied.
    rule: str
    #: What was done.
    description: str


class Translation(NamedTuple):
    """What :func:`translate` returns: ``new_config, changes = translate(...)``."""

    config: Any
    changes: list[Change]


class _Plan:
    """The fixes that apply for one target, indexed by class name."""

    def __init__(self, target: Version) -> None:
        self.target = target
        self.label = _fc.release_name(target)
        self.steps: list[tuple[FormatChange, Callable[[dict[str, Any]], Any]]] = []
        for row in _fc.FORMAT_CHANGES:
            fix = row.down if target < parse_release(row.since) else row.up
            if fix is not None:
                self.steps.append((row, fix))
        self.by_class: dict[str, list[tuple[FormatChange, Callable[[dict[str, Any]], Any]]]] = {}

    def has_early(self, class_name: str) -> bool:
        """Whether a row of ``class_name`` runs before its children."""
        return any(row.before_children for row, _fix in self.for_class(class_name))

    def for_class(self, class_name: str) -> list[tuple[FormatChange, Callable[[dict[str, Any]], Any]]]:
        steps = self.by_class.get(class_name)
        if steps is None:
            steps = [(row, fix) for row, fix in self.steps if not row.classes or class_name in row.classes]
            self.by_class[class_name] = steps
        return steps


_PLANS: dict[Version, _Plan] = {}


def _plan(target: Version) -> _Plan:
    plan = _PLANS.get(target)
    if plan is None:
        plan = _PLANS[target] = _Plan(target)
    return plan


class _Walk:
    def __init__(self, plan: _Plan, custom: Iterable[str], kind: str | None = None) -> None:
        self.plan = plan
        self.custom = frozenset(custom)
        #: The kind of the outermost object, when the loader called says (``"layers"``).
        self.kind = kind
        self.changes: list[Change] = []

    def value(self, value: Any, parts: tuple[Any, ...]) -> Any:
        if len(parts) > MAX_DEPTH:
            raise TranslationError(
                f"config nested deeper than {MAX_DEPTH} levels at {path_text(_ROOT, parts[:8])}...",
                target=self.plan.label,
                path=path_text(_ROOT, parts),
            )
        if isinstance(value, dict):
            return self.object(value, parts)
        if isinstance(value, list):
            new: list[Any] | None = None
            for index, item in enumerate(value):
                if isinstance(item, (dict, list)):
                    result = self.value(item, parts + (index,))
                    if result is not item:
                        if new is None:
                            new = list(value)
                        new[index] = result
            return value if new is None else new
        return value

    def object(self, obj: dict[str, Any], parts: tuple[Any, ...]) -> Any:
        class_name = obj.get("class_name")
        if isinstance(class_name, str) and self.plan.has_early(class_name):
            obj = self.apply(obj, class_name, parts, early=True)
            if not isinstance(obj, dict):
                return obj
        new: dict[str, Any] | None = None
        for key, item in obj.items():
            if isinstance(item, (dict, list)) and key not in _NODE_KEYS:
                result = self.value(item, parts + (key,))
                if result is not item:
                    if new is None:
                        new = dict(obj)
                    new[key] = result
        current: Any = obj if new is None else new
        if not isinstance(class_name, str):
            return current
        return self.apply(current, class_name, parts, early=False)

    def apply(self, current: Any, class_name: str, parts: tuple[Any, ...], early: bool) -> Any:
        """Apply the rows of ``class_name`` (those run before its children, or the others)."""
        top = not parts
        for row, fix in self.plan.for_class(class_name):
            if not isinstance(current, dict):
                break
            if row.before_children != early:
                continue
            if row.top_only and not top:
                continue
            if row.top_kinds and self.kind not in row.top_kinds:
                continue
            try:
                result = fix(current)
            except Blocked as blocked:
                if row.kind in ("class-added", "class-removed") and blocked.class_name in self.custom:
                    continue
                path = path_text(_ROOT, parts + blocked.key)
                raise TranslationError(
                    f"cannot translate for {self.plan.label}: {blocked} (at {path})",
                    class_name=blocked.class_name,
                    target=self.plan.label,
                    path=path,
                ) from None
            if result is not None:
                current = result.value
                self.changes.append(Change(path_text(_ROOT, parts + result.key), row.name, result.description))
        return current


def bound_release() -> Version:
    """The format version of the Keras keras_deser is bound to.

    Raises :class:`UnknownReleaseError` when no Keras is loaded (name a
    ``target`` then).
    """
    from . import _state
    from .binding import Binding

    binding: Binding = _state.binding
    if _BOUND.binding is binding and _BOUND.release is not None:
        return _BOUND.release
    flavour = binding.flavour
    source = flavour.keras_version or ""
    version = binding.tensorflow_version if source.startswith("tensorflow:") else binding.keras_version
    if not version:
        raise UnknownReleaseError(
            "no Keras is loaded: pass target='<release>' (see keras_deser.format_changes.RELEASES)"
        )
    release = parse_release(version)
    _BOUND.binding, _BOUND.release = binding, release
    return release


class _BoundRelease:
    """The last binding :func:`bound_release` read, and its format version."""

    def __init__(self) -> None:
        self.binding: Any = None
        self.release: Version | None = None


_BOUND = _BoundRelease()


def _target_version(target: str | Version | None) -> Version:
    if target is None:
        return bound_release()
    if isinstance(target, tuple):
        return target if target < (3, 0) else (3, 0)
    return parse_release(target)


def translate(
    config: Any, target: str | None = None, custom_objects: Iterable[str] | None = None
) -> Translation:
    """Translate ``config`` (a dict, or a JSON string) for ``target``.

    ``target`` is a release label (``"tf1.15"``, ``"2.4"``, ``"2.9"``,
    ``"2.15"``, ``"tf_keras-2.21"``, ``"keras-3"``, or any ``"X.Y"``; see
    :func:`keras_deser.format_changes.parse_release`); ``None`` means the
    Keras keras_deser is bound to.  The source release is read from the
    config's own form.  Returns ``Translation(config, changes)``; the input
    is never modified and the returned config shares no container with it
    (a config native to the target comes back equal, with no changes).

    ``custom_objects``: names of custom classes (a dict's keys will do) that
    may shadow built-in names the target lacks.  Raises
    :class:`TranslationError` (a ``ValueError``) naming the class, the
    target and the key path when the target cannot carry something.
    """
    if isinstance(config, (str, bytes)):
        config = json.loads(config)
    result = _translate(config, _target_version(target), custom_objects or ())
    return Translation(_copy(result.config), result.changes)


def _translate(config: Any, target: Version, custom: Iterable[str], kind: str | None = None) -> Translation:
    walk = _Walk(_plan(target), custom, kind)
    new = walk.value(config, ())
    for change in walk.changes:
        if change.rule in _NEEDS_KERAS_DESER:
            _NEEDS_KERAS_DESER[change.rule](target, change)
    return Translation(new, walk.changes)


def _register_hard_sigmoid(target: Version, change: Change) -> None:
    """Keras 2's ``hard_sigmoid`` exists in Keras 3 only as keras_deser registers it."""
    try:
        bound = bound_release()
    except UnknownReleaseError:
        bound = (0, 0)
    if bound != target:
        raise TranslationError(
            f"cannot translate for {_fc.release_name(target)}: 'hard_sigmoid' means clip(0.2*x + 0.5) in Keras 2 "
            f"but clip(x/6 + 0.5) in Keras 3, and only a Keras 3 with keras_deser loaded carries the former "
            f"(at {change.path})",
            class_name="hard_sigmoid",
            target=_fc.release_name(target),
            path=change.path,
        )
    from .registry import get_custom_objects

    registry = get_custom_objects()
    if _fc.KERAS2_HARD_SIGMOID not in registry:
        registry[_fc.KERAS2_HARD_SIGMOID] = hard_sigmoid_keras2


def hard_sigmoid_keras2(x: Any) -> Any:
    """Keras 2's ``hard_sigmoid``, ``clip(0.2 * x + 0.5, 0, 1)``, in Keras 3's ops."""
    from keras import ops  # only ever called inside a loaded Keras 3

    return ops.clip(ops.add(ops.multiply(x, 0.2), 0.5), 0.0, 1.0)


#: Rows whose result only loads where keras_deser supplies something.
_NEEDS_KERAS_DESER: dict[str, Callable[[Version, Change], None]] = {"hard-sigmoid": _register_hard_sigmoid}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


# --- source inference ---------------------------------------------------------------


def infer_source(config: Any, keras_version: str | None = None) -> str:
    """The release label whose form ``config`` is in, read from its markers.

    ``keras_version`` (an HDF5 file's ``keras_version`` attribute, when the
    caller has it) wins.  Otherwise the newest marker found decides:
    DTypePolicy objects, ``batch_shape``, ``keras.src.models`` modules or
    call-node dicts (``"keras-3"``); InputLayer ``optional`` (``"2.16"``);
    ``module`` keys (``"2.13"``); ``shared_object_id`` (``"2.5"``);
    ``Functional`` or ``L1``/``L2`` (``"2.3"``); a functional ``Model``
    (``"tf1.15"``).  ``"unknown"`` when nothing tells.
    """
    if keras_version:
        try:
            return _fc.release_name(parse_release(keras_version))
        except UnknownReleaseError:
            pass
    found: list[Version] = []
    stack = [config]
    seen = 0
    while stack and seen < 1_000_000:
        value = stack.pop()
        seen += 1
        if isinstance(value, list):
            stack.extend(item for item in value if isinstance(item, (dict, list)))
            continue
        if not isinstance(value, dict):
            continue
        class_name = value.get("class_name")
        inner = value.get("config")
        module = value.get("module")
        if class_name in ("DTypePolicy", "FloatDTypePolicy", "__keras_tensor__") or (
            isinstance(module, str) and module.startswith("keras.src.models")
        ):
            return "keras-3"
        if isinstance(inner, dict) and class_name == "InputLayer":
            if "batch_shape" in inner:
                return "keras-3"
            if "optional" in inner:
                found.append((2, 16))
        if "module" in value:
            found.append((2, 13))
        if "shared_object_id" in value:
            found.append((2, 5))
        if class_name in ("Functional", "L1", "L2"):
            found.append((2, 3))
        if class_name == "Model" and isinstance(inner, dict) and "input_layers" in inner:
            found.append((1, 15))
        stack.extend(item for item in value.values() if isinstance(item, (dict, list)))
    if not found:
        return "unknown"
    newest = max(found)
    return "2.16" if newest == (2, 16) else _fc.release_name(newest)


# --- loaders ------------------------------------------------------------------------

class _LoaderSwitch:
    """Whether the installed loaders translate (process-wide)."""

    def __init__(self) -> None:
        self.on = False


_LOADER = _LoaderSwitch()
_LOCAL = threading.local()


def set_loader_translation(flag: bool) -> None:
    """Turn translation in the installed loaders on or off (process-wide)."""
    _LOADER.on = bool(flag)


def loader_translation() -> bool:
    """True while the installed loaders translate."""
    return _LOADER.on


def _custom_names(custom_objects: Any) -> list[str]:
    from .registry import get_custom_objects

    names = list(get_custom_objects())
    if isinstance(custom_objects, dict):
        names.extend(str(name) for name in custom_objects)
    return names


def run_translated(
    call: Callable[[Any], T], config: Any, custom_objects: Any = None, kind: str | None = None,
    inner_of: str | None = None,
) -> T:
    """Run ``call(config)`` with ``config`` translated for the bound release.

    Only the outermost call of a thread translates (what it builds is
    already translated); nested calls run ``call(config)`` as is.  In safe
    mode both the config as it came in and the translated config are
    audited before anything is built.

    ``kind``: what the loader called builds, when it says (``"layers"`` for
    a kind's public ``deserialize``): rows with ``top_kinds`` apply to the
    outermost object only for their kinds.  ``inner_of``: ``config`` is the
    inner config of a model class's ``from_config`` (no ``class_name``): it
    is translated as the config of a ``{'class_name': inner_of}`` object.
    """
    depth = getattr(_LOCAL, "depth", 0)
    if depth or not isinstance(config, dict):
        return call(config)
    from .safety import guard_config, is_safe_mode

    custom = custom_objects if isinstance(custom_objects, dict) else None
    safe = is_safe_mode()
    whole = {"class_name": inner_of, "config": config} if inner_of is not None else config
    result = _translate(whole, bound_release(), _custom_names(custom_objects), kind)
    if safe and result.config is not whole:
        _guard_incoming(whole, result.changes, custom)
    if safe:
        guard_config(result.config, None, custom)
    translated = result.config
    if inner_of is not None:
        inner = translated.get("config") if isinstance(translated, dict) else None
        translated = inner if isinstance(inner, dict) else config
    _LOCAL.depth = depth + 1
    try:
        return call(translated)
    finally:
        _LOCAL.depth = depth


@contextlib.contextmanager
def untranslated() -> Iterator[None]:
    """Inside the block, this thread's loaders build configs as they are (as nested calls do).

    For a file the bound release wrote itself (a ``.keras`` archive of its
    own format, :mod:`keras_deser.archives`): its config is native even
    where the table's markers say otherwise (Keras 2.12 writes ``module`` keys
    into archives only).  Safe mode still audits what is built.
    """
    depth = getattr(_LOCAL, "depth", 0)
    _LOCAL.depth = depth + 1
    try:
        yield
    finally:
        _LOCAL.depth = depth


def _guard_incoming(config: dict[str, Any], changes: list[Change], custom: dict[str, Any] | None) -> None:
    """Safe mode's audit of a config as it came in, before its translation is built.

    Refuses what the audit refuses, except findings at or below a path that
    translation rewrote (a Keras 3 ``DTypePolicy`` dict that becomes a dtype
    string is no built-in of Keras 2.9, yet nothing of it is built there):
    those parts are judged in the translated config, which is audited in full
    afterwards, so translation never makes an unsafe config pass.
    """
    from .auditing import AuditReport, audit
    from .safety import UnsafeConfigError, trusted_objects

    rewritten = tuple(change.path for change in changes)

    def superseded(path: str) -> bool:
        return any(path == done or path.startswith(done + "[") for done in rewritten)

    refused = [finding for finding in audit(config, None, custom, trusted_objects()).unsafe
               if not superseded(finding.path)]
    if refused:
        raise UnsafeConfigError(AuditReport(refused))


# --- files --------------------------------------------------------------------------

_H5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _decode(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_model_config(path: str) -> tuple[dict[str, Any], str | None]:
    """``(config, keras_version)`` of a saved model: JSON, HDF5 or ``.keras``.

    HDF5: the ``model_config`` attribute (``h5py`` needed); ``.keras``:
    the archive's ``config.json`` (and ``metadata.json``'s version).
    """
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK"):
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            version = None
            if "metadata.json" in archive.namelist():
                version = json.loads(archive.read("metadata.json")).get("keras_version")
        return config, version
    if head == _H5_MAGIC:
        import h5py

        with h5py.File(path, "r") as handle:
            if "model_config" not in handle.attrs:
                raise ValueError(f"{path}: HDF5 file without a model_config attribute (weights only?)")
            config = json.loads(_decode(handle.attrs["model_config"]))
            version = handle.attrs.get("keras_version")
        return config, None if version is None else _decode(version)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle), None


def convert_file(source: str, destination: str, target: str) -> Translation:
    """Write ``source``'s model translated for ``target`` to ``destination``.

    ``destination`` ending in ``.h5``/``.hdf5``: an HDF5 source is copied
    with its ``model_config`` attribute replaced (weights untouched, byte for
    byte); a ``.keras`` archive is written as a Keras 2 HDF5 file with its
    weights (:func:`keras_deser.archives.archive_to_hdf5`); any other destination gets the
    translated config as JSON (what ``model_from_json`` reads).  Returns the
    :class:`Translation`.  The target's own loader reads the result without
    keras_deser.
    """
    if destination.lower().endswith((".h5", ".hdf5")) and zipfile.is_zipfile(source):
        from .archives import archive_to_hdf5

        converted: Translation = archive_to_hdf5(source, destination, target)
        return converted
    config, _version = read_model_config(source)
    result = translate(config, target)
    text = json.dumps(result.config)
    if destination.lower().endswith((".h5", ".hdf5")):
        with open(source, "rb") as handle:
            if handle.read(8) != _H5_MAGIC:
                raise ValueError(f"{source}: HDF5 output needs an HDF5 or .keras source (its weights are copied)")
        import shutil

        import h5py

        shutil.copyfile(source, destination)
        with h5py.File(destination, "r+") as handle:
            handle.attrs["model_config"] = text.encode("utf-8")
        return result
    tmp = destination + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, destination)
    return result
