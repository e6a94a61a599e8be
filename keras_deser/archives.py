"""Load a ``.keras`` archive's weights into a model of any release.

A ``.keras`` archive (Keras 2.12's ``save_format="keras_v3"``, 2.13+,
tf_keras and Keras 3) is a zip of ``config.json`` and ``model.weights.h5``.
The weights are laid out by object path, not by variable name: every object
keeps its own variables at ``<path>/vars/<i>`` (trainable, then
non-trainable, in creation order: ``Layer.save_own_variables`` of Keras 2.15,
tf_keras 2.21 and Keras 3.15 alike), the objects it tracks below
``<path>/<attribute>`` (``cell``, ``forward_layer``, ``backward_layer``,
``layer``, ``cells``), and a model's layers under a list key whose items are
named by snake-cased class with ``_<n>`` from the second of a class on
(:data:`keras_deser.format_changes.ARCHIVE_LAYOUTS`: ``layers`` from 2.13,
``_layer_checkpoint_dependencies`` in 2.12).

:func:`assign_archive_weights` maps that tree onto a built model of the
bound release: list items are paired class by class in the model's layer
order (the class read from the archive's own config where it has one, the
target's class otherwise), attributes by name, variables by index; every
count and every shape is checked before anything is assigned, and every
variable of the model must receive exactly one value.  Anything else is an
:class:`ArchiveWeightsError` naming the layer and the store path; no weight
is ever loaded by luck.  The optimizer's state is not loaded (the model is
returned uncompiled).  :func:`load_archive` builds the model from the
translated config first.

Nothing here runs at ``import keras_deser``; the functions import ``h5py``
and use the loaded Keras.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import types
import warnings
import zipfile
from typing import Any, Callable, Iterable

from .flavours import ARCHIVE_LOADERS, KERAS_NAMESPACES
from .format_changes import ARCHIVE_CLASS_ALIASES, ARCHIVE_LAYER_LISTS, ARCHIVE_SKIPPED_STATE

__all__ = [
    "ArchiveWeightsError", "is_archive", "read_archive", "assign_archive_weights", "load_archive", "patch_loaders",
]

WEIGHTS_FILE = "model.weights.h5"
CONFIG_FILE = "config.json"
_VARS = "vars"


class ArchiveWeightsError(ValueError):
    """The archive's weights cannot be mapped onto the model unambiguously.

    ``layer`` names the model's layer (``""`` for the model), ``path`` the
    store path in ``model.weights.h5``.
    """

    def __init__(self, message: str, layer: str = "", path: str = "") -> None:
        self.layer = layer
        self.path = path
        super().__init__(message)


class _Node:
    """One object of the weight store: its own variables and its children."""

    __slots__ = ("values", "children")

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.children: dict[str, _Node] = {}

    def empty(self) -> bool:
        return not self.values and all(child.empty() for child in self.children.values())


def is_archive(path: Any) -> bool:
    """True when ``path`` names a zip file holding a ``config.json`` (a ``.keras`` archive)."""
    if not isinstance(path, str) or not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return CONFIG_FILE in archive.namelist()


def read_archive(path: str) -> tuple[dict[str, Any], str | None, _Node]:
    """``(config, keras_version, weight tree)`` of a ``.keras`` archive."""
    import h5py

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        config = json.loads(archive.read(CONFIG_FILE))
        version = None
        if "metadata.json" in names:
            version = json.loads(archive.read("metadata.json")).get("keras_version")
        if WEIGHTS_FILE not in names:
            stores = [name for name in names if name.startswith("model.weights")]
            raise ArchiveWeightsError(
                f"{path}: no {WEIGHTS_FILE} in the archive"
                + (f" (found {', '.join(stores)}: sharded or npz stores are not read)" if stores else "")
            )
        data = archive.read(WEIGHTS_FILE)
    root = _Node()
    with h5py.File(io.BytesIO(data), "r") as handle:
        _read_group(handle, root, "")
    return config, version, root


def _read_group(group: Any, node: _Node, path: str) -> None:
    for name in group:
        item = group[name]
        where = f"{path}/{name}" if path else name
        if name == _VARS and not hasattr(item, "shape"):
            node.values = _read_vars(item, where)
        elif not hasattr(item, "shape"):
            child = node.children[name] = _Node()
            _read_group(item, child, where)
        else:
            raise ArchiveWeightsError(f"unexpected dataset {where!r} in {WEIGHTS_FILE} (outside a vars group)",
                                      path=where)


def _read_vars(group: Any, path: str) -> list[Any]:
    import numpy as np

    keys = list(group)
    if not all(key.isdigit() for key in keys):
        raise ArchiveWeightsError(f"{path}: variables keyed {sorted(keys)!r}, not 0, 1, ...", path=path)
    ordered = sorted(keys, key=int)
    if ordered != [str(i) for i in range(len(ordered))]:
        raise ArchiveWeightsError(f"{path}: variables {ordered!r} are not numbered 0..{len(ordered) - 1}", path=path)
    return [np.asarray(group[key]) for key in ordered]


# --- the bound release --------------------------------------------------------------


def _keras_api() -> Any:
    """The loaded Keras API (``tf.keras``, ``keras`` or ``tf_keras``, as keras_deser binds)."""
    for package, namespace in KERAS_NAMESPACES:
        module = sys.modules.get(package)
        if module is None:
            continue
        api: Any = module
        for part in filter(None, namespace.split(".")):
            api = getattr(api, part)
        return api
    raise ArchiveWeightsError("no TensorFlow or Keras is loaded: import one before loading a .keras archive")


def _keras3() -> bool:
    from .translation import bound_release

    return bound_release() >= (3, 0)


#: The attributes holding a layer's own variables, in ``save_own_variables``'s
#: order, by whether the release is Keras 3.
_OWN_VARIABLES = {
    False: ("_trainable_weights", "_non_trainable_weights"),
    True: ("_trainable_variables", "_non_trainable_variables"),
}


def _snake(name: str) -> str:
    """Keras's ``to_snake_case`` (the same in 2.12, 2.15, tf_keras and Keras 3 for class names)."""
    name = re.sub(r"\W+", "", name)
    intermediate = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def _shape(variable: Any) -> tuple[int, ...]:
    return tuple(int(dim) for dim in variable.shape)


def _variable_name(variable: Any) -> str:
    return str(getattr(variable, "path", None) or getattr(variable, "name", "?"))


class _Mapper:
    def __init__(self, keras3: bool) -> None:
        self.own = _OWN_VARIABLES[keras3]
        self.pairs: list[tuple[Any, Any]] = []
        self.visited: set[int] = set()
        self.skipped: list[str] = []

    def own_variables(self, obj: Any) -> list[Any]:
        found: list[Any] = []
        for attribute in self.own:
            found.extend(getattr(obj, attribute, None) or ())
        return found

    def object(self, node: _Node, obj: Any, path: str, label: str, source: Any, top: bool = False) -> None:
        self.visited.add(id(obj))
        own = self.own_variables(obj)
        where = f"{path}/{_VARS}" if path else _VARS
        if len(node.values) != len(own):
            raise ArchiveWeightsError(
                f"layer {label!r}: the archive holds {len(node.values)} variable(s) at {where!r}, "
                f"the layer has {len(own)} of its own ({', '.join(_variable_name(v) for v in own) or 'none'})",
                layer=label, path=where,
            )
        for index, (value, variable) in enumerate(zip(node.values, own)):
            if tuple(value.shape) != _shape(variable):
                raise ArchiveWeightsError(
                    f"layer {label!r}: {where}/{index} has shape {tuple(value.shape)}, "
                    f"its variable {_variable_name(variable)} {_shape(variable)}",
                    layer=label, path=f"{where}/{index}",
                )
            self.pairs.append((variable, value))
        for name in sorted(node.children):
            child = node.children[name]
            if child.empty():
                continue
            key = f"{path}/{name}" if path else name
            if top and name in ARCHIVE_SKIPPED_STATE:
                self.skipped.append(key)
                continue
            attribute = "layers" if name in ARCHIVE_LAYER_LISTS else name
            try:
                value = getattr(obj, attribute, None)
            except Exception:  # a property that cannot be read here (Keras raises for some)
                value = None
            if isinstance(value, (list, tuple)):
                self.items(child, list(value), key, label, _source_layers(source) if attribute == "layers" else None)
            elif value is not None and isinstance(getattr(value, "weights", None), list):
                self.object(child, value, key, f"{label}.{name}" if label else name, None)
            else:
                raise ArchiveWeightsError(
                    f"layer {label or 'model'!r} has no {attribute!r} to take the weights at {key!r}",
                    layer=label, path=key,
                )

    def items(self, node: _Node, items: list[Any], path: str, label: str, sources: dict[str, Any] | None) -> None:
        carrying = []
        for item in items:
            if id(item) in self.visited or not getattr(item, "weights", None):
                continue
            self.visited.add(id(item))
            carrying.append(item)
        entries = {name: child for name, child in node.children.items() if not child.empty()}
        groups: dict[str, list[Any]] = {}
        for item in carrying:
            groups.setdefault(self.base_name(item, sources), []).append(item)
        by_base: dict[str, list[tuple[int, str]]] = {base: [] for base in groups}
        for name in entries:
            base, number = _split(name, by_base)
            if base is None:
                raise ArchiveWeightsError(
                    f"the archive holds weights at {path}/{name} that no layer of {label or 'the model'!r} takes "
                    f"(its layers with weights: {', '.join(str(item.name) for item in carrying) or 'none'})",
                    layer=label, path=f"{path}/{name}",
                )
            by_base[base].append((number, name))
        for base, members in groups.items():
            stored = [name for _number, name in sorted(by_base[base])]
            if len(stored) != len(members):
                raise ArchiveWeightsError(
                    f"{label or 'model'}: {len(members)} layer(s) of class {base!r} with weights "
                    f"({', '.join(str(item.name) for item in members)}) but {len(stored)} in the archive under "
                    f"{path!r} ({', '.join(stored) or 'none'})",
                    layer=label, path=path,
                )
            for name, item in zip(stored, members):
                source = sources.get(str(item.name)) if sources else None
                self.object(entries[name], item, f"{path}/{name}", str(item.name), source)
            self.visited.update(id(item) for item in members)

    @staticmethod
    def base_name(item: Any, sources: dict[str, Any] | None) -> str:
        source = sources.get(str(item.name)) if sources else None
        class_name = source.get("class_name") if isinstance(source, dict) else None
        if not isinstance(class_name, str):
            class_name = type(item).__name__
            class_name = ARCHIVE_CLASS_ALIASES.get(class_name, class_name)
        return _snake(class_name)


def _split(name: str, bases: Iterable[str]) -> tuple[str | None, int]:
    """``(base, number)`` of a list item's store name (``dense_2`` -> ``("dense", 2)``); longest base wins."""
    best: tuple[str | None, int] = (None, 0)
    for base in bases:
        if name == base:
            number = 0
        elif name.startswith(base + "_") and name[len(base) + 1:].isdigit():
            number = int(name[len(base) + 1:])
        else:
            continue
        if best[0] is None or len(base) > len(best[0]):
            best = (base, number)
    return best


def _source_layers(source: Any) -> dict[str, Any] | None:
    """``{layer name: layer config}`` of a model config (the archive's own), or None."""
    if not isinstance(source, dict) or not isinstance(source.get("config"), dict):
        return None
    layers = source["config"].get("layers")
    if not isinstance(layers, list):
        return None
    found: dict[str, Any] = {}
    for layer in layers:
        if isinstance(layer, dict) and isinstance(layer.get("config"), dict):
            name = layer["config"].get("name")
            if isinstance(name, str):
                found[name] = layer
    return found


def assign_archive_weights(model: Any, path: str, config: dict[str, Any] | None = None) -> list[str]:
    """Set ``model``'s variables from the ``.keras`` archive at ``path``.

    ``model`` is a built model of the bound release (made from the archive's
    config, translated or not); ``config`` the archive's own config (read
    from ``path`` when omitted), used to name layers the way the saving
    release did.  Checks every count and shape and that each of the model's
    weights receives exactly one value before assigning anything; raises
    :class:`ArchiveWeightsError` (a ``ValueError``) naming the layer and the
    store path otherwise.  Returns the store paths skipped (the optimizer's).
    """
    own_config, _version, root = read_archive(path)
    return _assign_tree(model, root, config if config is not None else own_config)


def _assign_tree(model: Any, root: _Node, config: dict[str, Any]) -> list[str]:
    mapper = _Mapper(_keras3())
    mapper.object(root, model, "", "", config, top=True)
    assigned = {id(variable) for variable, _value in mapper.pairs}
    if len(assigned) != len(mapper.pairs):
        raise ArchiveWeightsError("a variable of the model would be set twice from the archive")
    missing = [variable for variable in model.weights if id(variable) not in assigned]
    if missing:
        names = ", ".join(_variable_name(variable) for variable in missing[:5])
        raise ArchiveWeightsError(
            f"{len(missing)} weight(s) of the model have no value in the archive: {names}"
            + (" ..." if len(missing) > 5 else "")
        )
    _assign(mapper.pairs)
    return mapper.skipped


def _assign(pairs: list[tuple[Any, Any]]) -> None:
    if _keras3():
        for variable, value in pairs:
            variable.assign(value)
        return
    _keras_api().backend.batch_set_value(pairs)


def load_archive(path: str, custom_objects: dict[str, Any] | None = None, compile: bool = False) -> Any:
    """The model of the ``.keras`` archive at ``path``, built by the bound release, with its weights.

    The archive's config is translated for the loaded release
    (:func:`keras_deser.translate`) and built with the release's own
    ``model_from_json``; the weights are then mapped by
    :func:`assign_archive_weights`.  ``compile=True`` is refused: the
    training configuration and optimizer state are not carried across
    releases (compile the returned model yourself).
    """
    if compile:
        raise ValueError("load_archive(compile=True): an archive's optimizer state is not carried; "
                         "pass compile=False and compile the model yourself")
    from .translation import translate

    config, _version, root = read_archive(path)
    translated = translate(config, custom_objects=custom_objects).config
    api = _keras_api()
    model = api.models.model_from_json(json.dumps(translated), custom_objects=custom_objects)
    _assign_tree(model, root, config)
    return model


# --- in the loaders -----------------------------------------------------------------


def _native(version: str | None) -> bool:
    """Whether the bound release wrote the archive's format itself (its own loader reads it)."""
    from .format_changes import UnknownReleaseError, parse_release
    from .translation import bound_release

    if not version:
        return False
    try:
        return parse_release(version) == bound_release()
    except UnknownReleaseError:
        return False


def _archive_loading(original: Callable[..., Any]) -> Callable[..., Any]:
    """``load_model`` that, while the loaders translate, reads other releases' ``.keras`` archives.

    An archive the bound release wrote itself, anything that is no archive,
    and every call while translation is off go to ``original`` unchanged.
    Another release's archive is built by :func:`load_archive`; it comes back
    uncompiled (``compile=True``, upstream's default, gives a warning, as
    Keras 2.9 does for an HDF5 file without a training configuration).
    """

    def load_model(filepath: Any, custom_objects: Any = None, compile: bool = True, *args: Any, **kwargs: Any) -> Any:
        from .translation import loader_translation

        path = os.fspath(filepath) if isinstance(filepath, os.PathLike) else filepath
        if loader_translation() and is_archive(path):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                version = json.loads(archive.read("metadata.json")).get("keras_version") \
                    if "metadata.json" in names else None
            if not _native(version):
                if compile:
                    warnings.warn(
                        f"keras_deser: {path} was saved by Keras {version or '(unknown)'}; its training "
                        "configuration and optimizer state are not carried across releases, so the model "
                        "was *not* compiled. Compile it manually.",
                        stacklevel=2,
                    )
                return load_archive(path, custom_objects=custom_objects)
        return original(filepath, custom_objects, compile, *args, **kwargs)

    load_model.__name__ = load_model.__qualname__ = "load_model"
    load_model.__doc__ = original.__doc__
    load_model.__wrapped__ = original  # type: ignore[attr-defined]
    load_model.__keras_deser__ = True  # type: ignore[attr-defined]
    return load_model


def patch_loaders(patches: Any, modules: Iterable[types.ModuleType]) -> list[Any]:
    """Route the loaded release's ``load_model`` through :func:`_archive_loading`.

    ``patches`` is the installation's :class:`keras_deser.patching.PatchSet`
    (so ``uninstall()`` restores them); ``modules`` the modules to look in
    (``load_model`` attributes holding upstream's function, located through
    :data:`keras_deser.flavours.ARCHIVE_LOADERS`).  Returns the sites patched.
    """
    replacements: dict[Any, Any] = {}
    for module_name, attribute in ARCHIVE_LOADERS:
        module = sys.modules.get(module_name)
        original = vars(module).get(attribute) if module is not None else None
        if callable(original) and not getattr(original, "__keras_deser__", False):
            replacements[original] = _archive_loading(original)
    sites: list[Any] = []
    if not replacements:
        return sites
    for module in modules:
        value = module.__dict__.get("load_model")
        try:
            replacement = replacements.get(value)
        except TypeError:
            continue
        if replacement is not None:
            site = patches.apply(module, "load_model", value, replacement)
            if site is not None:
                sites.append(site)
    return sites
