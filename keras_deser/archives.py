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
from .format_changes import (
    ARCHIVE_CHILD_ORDER,
    ARCHIVE_CLASS_ALIASES,
    ARCHIVE_LAYER_LISTS,
    ARCHIVE_NON_TRAINABLE,
    ARCHIVE_SKIPPED_STATE,
)

__all__ = [
    "ArchiveWeightsError", "is_archive", "read_archive", "assign_archive_weights", "load_archive", "patch_loaders",
    "archive_to_hdf5",
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
    (:func:`keras_deser.translation.run_translated`: in safe mode both the
    config as saved and as translated are audited first) and built with the
    release's own ``model_from_json``; the weights are then mapped by
    :func:`assign_archive_weights`.  ``compile=True`` is refused: the
    training configuration and optimizer state are not carried across
    releases (compile the returned model yourself).
    """
    if compile:
        raise ValueError("load_archive(compile=True): an archive's optimizer state is not carried; "
                         "pass compile=False and compile the model yourself")
    from .translation import run_translated

    config, _version, root = read_archive(path)
    api = _keras_api()
    model = run_translated(
        lambda translated: api.models.model_from_json(json.dumps(translated), custom_objects=custom_objects),
        config,
        custom_objects,
    )
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

    An archive the bound release wrote itself (its config then built
    untranslated, as without keras_deser), anything that is no archive, and
    every call while translation is off go to ``original`` unchanged.
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
            from .translation import untranslated

            with untranslated():  # its own format: built as upstream builds it
                return original(filepath, custom_objects, compile, *args, **kwargs)
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


# --- to a Keras 2 HDF5 file, without the target release -------------------------------------


def _class_base(config: Any) -> str | None:
    class_name = config.get("class_name") if isinstance(config, dict) else None
    return _snake(class_name) if isinstance(class_name, str) else None


def _pair_with_configs(node: _Node, layers: Any, path: str) -> list[tuple[dict[str, Any], str, _Node]]:
    """A layer list's store entries with the config layers they belong to (class by class, in config order)."""
    entries = {name: child for name, child in node.children.items() if not child.empty()}
    if not isinstance(layers, list):
        if entries:
            raise ArchiveWeightsError(f"no layer list in the config for the weights under {path!r}", path=path)
        return []
    groups: dict[str, list[dict[str, Any]]] = {}
    for layer in layers:
        base = _class_base(layer)
        if base is not None:
            groups.setdefault(base, []).append(layer)
    by_base: dict[str, list[tuple[int, str]]] = {base: [] for base in groups}
    for name in entries:
        base, number = _split(name, by_base)
        if base is None:
            raise ArchiveWeightsError(f"the archive holds weights at {path}/{name} that no layer of the config takes",
                                      path=f"{path}/{name}")
        by_base[base].append((number, name))
    paired: dict[int, tuple[dict[str, Any], str, _Node]] = {}
    for base, stored in by_base.items():
        if not stored:
            continue
        names = [name for _number, name in sorted(stored)]
        members = groups[base]
        if len(names) != len(members):
            raise ArchiveWeightsError(
                f"{len(members)} layer(s) of class {base!r} in the config, {len(names)} with weights under {path!r} "
                f"({', '.join(names)}): which is which cannot be told without building the model",
                path=path,
            )
        for name, layer in zip(names, members):
            paired[id(layer)] = (layer, name, entries[name])
    return [paired[id(layer)] for layer in layers if id(layer) in paired]


def _inner_config(config: Any) -> dict[str, Any]:
    inner = config.get("config") if isinstance(config, dict) else None
    return inner if isinstance(inner, dict) else {}


def _child_base(parent: Any, parent_base: str | None, name: str) -> str | None:
    """The archive name of the class of ``parent``'s tracked attribute ``name``, from the parent's config."""
    inner = _inner_config(parent)
    if name == "cell":
        cell = inner.get("cell")
        return _class_base(cell) if isinstance(cell, dict) else (f"{parent_base}_cell" if parent_base else None)
    if name == "backward_layer" and isinstance(inner.get("backward_layer"), dict):
        return _class_base(inner["backward_layer"])
    if name in ("layer", "forward_layer", "backward_layer"):
        return _class_base(inner.get("layer"))
    return None


def _child_config(parent: Any, name: str) -> Any:
    inner = _inner_config(parent)
    if name in ("forward_layer", "layer"):
        return inner.get("layer")
    if name == "backward_layer":
        return inner.get("backward_layer") or inner.get("layer")
    return inner.get(name)


def _leaves(node: _Node, path: str, config: Any, base: str | None, found: list[tuple[str, list[Any], str | None, bool]],
            frozen: bool) -> None:
    """The objects holding variables below ``node``, in the order Keras 2 tracks them."""
    frozen = frozen or _inner_config(config).get("trainable") is False
    if node.values:
        found.append((path, node.values, base, frozen))
    order = {name: index for index, name in enumerate(ARCHIVE_CHILD_ORDER)}
    children = [(name, child) for name, child in node.children.items() if not child.empty()]
    for name, child in sorted(children, key=lambda item: (order.get(item[0], len(order)), item[0])):
        key = f"{path}/{name}"
        if name in ARCHIVE_LAYER_LISTS:
            for layer, entry, grandchild in _pair_with_configs(child, _inner_config(config).get("layers"), key):
                _leaves(grandchild, f"{key}/{entry}", layer, _class_base(layer), found, frozen)
        elif name in order:
            _leaves(child, key, _child_config(config, name), _child_base(config, base, name), found, frozen)
        else:
            found.append((key, [], None, frozen))  # an attribute whose place in Keras 2's order is unknown
            _leaves(child, key, None, None, found, frozen)


def _legacy_order(node: _Node, path: str, config: dict[str, Any]) -> list[tuple[str, Any]]:
    """One layer's weights in the order of Keras 2's ``trainable_weights + non_trainable_weights``."""
    found: list[tuple[str, list[Any], str | None, bool]] = []
    _leaves(node, path, config, _class_base(config), found, False)
    found = [leaf for leaf in found if leaf[1] or leaf[2] is None]
    carrying = [leaf for leaf in found if leaf[1]]
    if len(carrying) == 1 and len(found) == 1:
        key, values, _base, _frozen = carrying[0]
        return [(f"{key}/{index}", value) for index, value in enumerate(values)]
    name = _inner_config(config).get("name")
    trainable: list[tuple[str, Any]] = []
    rest: list[tuple[str, Any]] = []
    for key, values, base, frozen in found:
        tail = ARCHIVE_NON_TRAINABLE.get(base or "")
        if frozen or tail is None or tail > len(values):
            why = "a frozen sublayer" if frozen else f"the variables of {key!r} ({base or 'unknown class'})"
            raise ArchiveWeightsError(
                f"layer {name!r}: cannot order its weights for a Keras 2 HDF5 file without the target release "
                f"({why}); load the archive there with keras_deser.archives.load_archive and save it as HDF5",
                layer=str(name), path=key,
            )
        split = len(values) - tail
        trainable.extend((f"{key}/{index}", value) for index, value in enumerate(values[:split]))
        rest.extend((f"{key}/{split + index}", value) for index, value in enumerate(values[split:]))
    return trainable + rest


def archive_to_hdf5(source: str, destination: str, target: str) -> Any:
    """Write the ``.keras`` archive ``source`` as a Keras 2 HDF5 file for ``target``, weights included.

    The config is translated (:func:`keras_deser.translate`); the weights
    go to ``model_weights/<layer>`` in the order Keras 2's HDF5 loader
    (``load_weights_from_hdf5_group``, 1.15 to 2.15 and tf_keras alike) pairs
    them with ``trainable_weights + non_trainable_weights``.  Needs ``h5py``
    and ``numpy``, no Keras.  Raises :class:`ArchiveWeightsError` where that
    order cannot be told from the archive (a layer of several weighted
    objects of classes outside
    :data:`keras_deser.format_changes.ARCHIVE_NON_TRAINABLE`, or a frozen
    sublayer inside one).  Returns the :class:`~keras_deser.translation.Translation`.
    """
    import h5py

    from .translation import translate

    config, version, root = read_archive(source)
    result = translate(config, target)
    if root.values:
        raise ArchiveWeightsError("the archive holds variables of the model itself, which a Keras 2 HDF5 cannot carry",
                                  path=_VARS)
    per_layer: dict[str, list[tuple[str, Any]]] = {}
    for name, child in root.children.items():
        if child.empty() or name in ARCHIVE_SKIPPED_STATE:
            continue
        if name not in ARCHIVE_LAYER_LISTS:
            raise ArchiveWeightsError(f"the archive holds weights at {name!r}, outside the model's layers", path=name)
        for layer, entry, node in _pair_with_configs(child, _inner_config(config).get("layers"), name):
            per_layer[str(_inner_config(layer).get("name"))] = _legacy_order(node, f"{name}/{entry}", layer)
    names = [str(_inner_config(layer).get("name")) for layer in _inner_config(result.config).get("layers") or ()]
    missing = set(per_layer) - set(names)
    if missing:
        raise ArchiveWeightsError(f"layers {sorted(missing)} of the archive are not in the translated config")
    tmp = destination + ".tmp"
    with h5py.File(tmp, "w") as handle:
        handle.attrs["keras_version"] = (version or "2").encode("utf-8")
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["model_config"] = json.dumps(result.config).encode("utf-8")
        group = handle.create_group("model_weights")
        group.attrs["layer_names"] = [name.encode("utf-8") for name in names]
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = (version or "2").encode("utf-8")
        for name in names:
            layer_group = group.create_group(name)
            weights = per_layer.get(name, [])
            weight_names = [f"{name}/{key.replace('/', '.')}:0" for key, _value in weights]
            layer_group.attrs["weight_names"] = [weight.encode("utf-8") for weight in weight_names]
            for weight, (_key, value) in zip(weight_names, weights):
                layer_group.create_dataset(weight, data=value)
    os.replace(tmp, destination)
    return result
