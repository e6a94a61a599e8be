"""``deserialize_keras_object`` and its helpers, as Keras 2.9.0 behaves.

The reference is ``keras/utils/generic_utils.py`` of Keras 2.9.0: the same
results, lookup order, exception types and messages, and the same in-place
changes to the caller's config.  Intended differences are listed, each with
its reason and test, in ``docs/deviations.md``.
"""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

from . import _state, errors, safety
from .registry import get_registered_name
from .shared_objects import SHARED_OBJECT_KEY, serialize_keras_class_and_config

__all__ = [
    "CustomMaskWarning",
    "class_and_config_for_serialized_keras_object",
    "deserialize_keras_object",
    "serialize_keras_class_and_config",
    "serialize_keras_object",
]

_MISSING = object()

# Config values of these exact types are never resolved (neither strings nor
# dicts); checking them first keeps the per-value loop cheap.
_INERT = frozenset((int, float, bool, type(None), list, tuple))

_UNKNOWN = (
    "Unknown {}: {}. Please ensure this object is passed to the "
    "`custom_objects` argument. See "
    "https://www.tensorflow.org/guide/keras/save_and_serialize"
    "#registering_the_custom_object for details."
)

# Flag set while saving to SavedModel, where a config is not required.
_SKIP_FAILED_SERIALIZATION = False
_LAYER_UNDEFINED_CONFIG_KEY = "layer was saved without config"


# References into the bound state that the hot path reads, as plain globals of
# this module: every _state.bind() refreshes them through _refresh().  ``_lookup``
# stays None until the first binding.
# ``_fast_get`` answers lookups while ``_layers`` (the store's active scope
# layers) is empty and ``_generation`` (bumped by every scope entry, before it
# writes the registry) does not move around the call (see scopes.py).
_lookup: Any = None
_fast_get: Any = None
_layers: Any = None
_loading: Any = None
_takes_cache: Any = None
_isfunction: Any = None
_generation = 0


def _bump() -> None:
    global _generation
    _generation += 1


def _refresh(state: Any) -> None:
    global _lookup, _fast_get, _layers, _loading, _takes_cache, _isfunction
    store = state.store
    if _bump not in store.on_bump:
        store.on_bump.append(_bump)
    _lookup, _fast_get, _layers = state.lookup, store.fast_get, store.layers
    _loading, _takes_cache, _isfunction = state.loading, state.takes_cache, state.isfunction


_state.subscribe(_refresh)

# Safe mode's guards while it is on in any thread (None otherwise: the hot
# path then pays one global read).
_guard: Any = None
_guard_name: Any = None


def _on_safety(active: bool) -> None:
    global _guard, _guard_name
    _guard, _guard_name = (safety.guard_config, safety.guard_name) if active else (None, None)


safety.on_change(_on_safety)


class CustomMaskWarning(Warning):
    """A masking layer is serialized without its own ``get_config``."""


def _improper_format(config: Any) -> NoReturn:
    raise ValueError(
        f"Improper config format for {config}. "
        "Expecting python dict contains `class_name` and `config` as keys"
    )


def _raise_unknown(printable_module_name: str, name: Any, module_objects: Any, custom_objects: Any) -> NoReturn:
    error = ValueError(_UNKNOWN.format(printable_module_name, name))
    candidates: list[Any] = []
    for source in (_state.store.visible(), custom_objects, module_objects):
        if isinstance(source, dict):
            candidates.extend(source)
    errors.note_suggestions(error, name, candidates)
    errors.mark_unknown(error, printable_module_name, name)
    raise error


class _ResolveOnly(str):
    """A printable name marking a call from class_and_config_for_serialized_keras_object.

    It is the caller's printable name itself (a ``str``, so messages are
    unchanged); the dict path returns ``(cls, cls_config)`` when it sees one,
    before building anything, so both functions share one implementation.
    """


def class_and_config_for_serialized_keras_object(
    config: Any,
    module_objects: dict[str, Any] | None = None,
    custom_objects: dict[str, Any] | None = None,
    printable_module_name: str = "object",
) -> tuple[Any, Any]:
    """Return ``(cls, cls_config)`` for a serialized Keras object.

    ``config`` must be a dict with ``class_name`` and ``config`` keys, else
    ``ValueError('Improper config format ...')``; an unresolvable
    ``class_name`` raises ``ValueError('Unknown <printable_module_name>: ...')``.
    ``cls_config`` is ``config['config']`` itself, prepared in place (see
    :func:`deserialize_keras_object`).  (Keras 2.9.0.)
    """
    if not isinstance(config, dict):
        try:
            _improper_format(config)
        except RecursionError:
            raise errors.too_deep() from None
    resolved: tuple[Any, Any] = deserialize_keras_object(
        config, module_objects, custom_objects, _ResolveOnly(printable_module_name)
    )
    return resolved


def deserialize_keras_object(
    identifier: Any,
    module_objects: dict[str, Any] | None = None,
    custom_objects: dict[str, Any] | None = None,
    printable_module_name: str = "object",
) -> Any:
    """Turn the serialized form of a Keras object back into the object.

    Behaves as Keras 2.9.0's ``tf.keras.utils.deserialize_keras_object``:

    * ``None`` gives ``None``.
    * A dict ``{'class_name': ..., 'config': ...}``: the class is looked up in
      the registry (active scopes included), then ``custom_objects``, then
      ``module_objects``.  Inside ``config['config']`` (changed in place)
      ``__passive_serialization__`` dicts are deserialized and strings naming
      a function in the registry or ``custom_objects`` become the function;
      ``name`` is left alone.  Inside a :class:`SharedObjectLoadingScope` a
      ``shared_object_id`` seen before returns the object built then.  The
      class's ``from_config`` gets ``custom_objects=`` (the registry merged
      with the caller's) when that is one of its positional parameters, and
      otherwise runs inside ``CustomObjectScope(custom_objects)``; a class
      without ``from_config`` is called with ``**config`` in that scope.
    * A string: looked up in ``custom_objects``, then the registry, then
      ``module_objects`` (which must then be given); a class found so is
      instantiated with no arguments, anything else returned.
    * A function is returned as it is.

    Anything else raises ``ValueError('Could not interpret serialized
    <printable_module_name>: ...')``; unknown names raise
    ``ValueError('Unknown <printable_module_name>: ...')``.
    """
    if identifier is None:
        return None

    if isinstance(identifier, dict):
        try:
            if _guard is not None:
                _guard(identifier, module_objects, custom_objects)
            if "class_name" not in identifier or "config" not in identifier:
                _improper_format(identifier)

            if _lookup is None:
                _state.binding  # noqa: B018 (binds once, under _state's lock)
            generation = _generation
            lookup = _lookup if _layers else _fast_get
            class_name = identifier["class_name"]
            cls = lookup(class_name, _MISSING)
            if _generation != generation:  # a scope was entered meanwhile
                lookup = _lookup
                cls = lookup(class_name, _MISSING)
            if cls is _MISSING:
                if custom_objects and class_name in custom_objects:
                    cls = custom_objects[class_name]
                elif module_objects and class_name in module_objects:
                    cls = module_objects[class_name]
                else:
                    cls = None
            if cls is None:
                _raise_unknown(printable_module_name, class_name, module_objects, custom_objects)

            cls_config = identifier["config"]
            # A list config (Keras 2.0.6 Sequential) is passed on as it is.
            pending = None
            for key, item in () if isinstance(cls_config, list) else cls_config.items():
                if key == "name" or type(item) in _INERT:
                    continue
                if isinstance(item, str):
                    function = lookup(item, _MISSING)
                    if _generation != generation:
                        lookup = _lookup
                        function = lookup(item, _MISSING)
                    from_custom = False
                    if function is _MISSING:
                        from_custom = bool(custom_objects) and item in custom_objects  # type: ignore[operator]
                        function = custom_objects[item] if from_custom else None  # type: ignore[index]
                    if function is not None and _isfunction(function):
                        if from_custom:
                            # Keras 2.9 looks the name up a second time to fetch it.
                            function = custom_objects[item] if custom_objects and item in custom_objects else None
                        if pending is None:
                            pending = {}
                        pending[key] = function
                elif isinstance(item, dict) and "__passive_serialization__" in item:
                    if pending is None:
                        pending = {}
                    pending[key] = deserialize_keras_object(
                        item,
                        module_objects=module_objects,
                        custom_objects=custom_objects,
                        printable_module_name="config_item",
                    )
            if pending is not None:
                for key, item in pending.items():
                    cls_config[key] = item
            if printable_module_name.__class__ is _ResolveOnly:
                return cls, cls_config

            # Keras 2.9 reads the id and asks the active loading scope, if any.
            loading = _loading.__dict__
            shared_object_id = _MISSING
            if loading:
                shared_object_id = identifier.get(SHARED_OBJECT_KEY)
                scope = loading.get("scope", _MISSING)
                if scope is not _MISSING:
                    shared_object = scope.get(shared_object_id)
                    if shared_object is not None:
                        return shared_object

            try:
                from_config = cls.from_config
            except AttributeError:
                from_config = _MISSING
                takes_custom_objects = False
            else:
                try:
                    takes_custom_objects = _takes_cache[from_config.__func__]
                except (KeyError, TypeError, AttributeError):
                    takes_custom_objects = _state.takes_custom_objects(from_config)
            if takes_custom_objects:
                merged = _state.store.merged_items()
                if custom_objects:
                    merged += list(custom_objects.items())
                deserialized_obj = from_config(cls_config, custom_objects=dict(merged))
            elif custom_objects:
                store = _state.store
                backup = store.enter((custom_objects,))
                try:
                    if from_config is _MISSING:
                        deserialized_obj = cls(**cls_config)
                    else:
                        deserialized_obj = from_config(cls_config)
                finally:
                    store.exit(backup)
            elif from_config is _MISSING:
                deserialized_obj = cls(**cls_config)
            else:
                deserialized_obj = from_config(cls_config)

            if loading:
                scope = loading.get("scope", _MISSING)
                if scope is not _MISSING:
                    if shared_object_id is _MISSING:
                        shared_object_id = identifier.get(SHARED_OBJECT_KEY)
                    scope.set(shared_object_id, deserialized_obj)
            return deserialized_obj
        except RecursionError:
            raise errors.too_deep() from None
        except Exception as error:
            errors.annotate(error, identifier)
            raise

    if isinstance(identifier, str):
        if custom_objects and identifier in custom_objects:
            obj = custom_objects.get(identifier)
        else:
            obj = _state.lookup(identifier, _MISSING)
            if obj is _MISSING:
                obj = module_objects.get(identifier)  # type: ignore[union-attr]  # None: Keras 2.9's AttributeError
                if obj is None:
                    try:
                        _raise_unknown(printable_module_name, identifier, module_objects, custom_objects)
                    except ValueError as error:
                        errors.annotate(error, identifier)
                        raise
        if _guard_name is not None:
            try:
                _guard_name(identifier, obj, module_objects, custom_objects)
            except ValueError as error:
                errors.annotate(error, identifier)
                raise
        if _state.isclass(obj):
            return obj()  # type: ignore[misc]
        return obj

    if _state.isfunction(identifier):
        return identifier
    try:
        failure = ValueError(f"Could not interpret serialized {printable_module_name}: {identifier}")
    except RecursionError:
        raise errors.too_deep() from None
    errors.annotate(failure, identifier)
    raise failure


def _upstream(attribute: str, default: Any) -> Any:
    """The bound Keras's own ``attribute`` of its serialization module.

    Keeps ``skip_failed_serialization()`` and ``CustomMaskWarning`` one with
    upstream's; ``default`` when standalone or upstream has none.
    """
    legacy = _state.binding.legacy_module
    if legacy is None:
        return default
    return getattr(legacy, attribute, default)


def _is_default(method: Any) -> bool:
    return bool(getattr(method, "_is_default", False))


def serialize_keras_object(instance: Any) -> Any:
    """Serialize a Keras object into its JSON-compatible form.

    Objects with ``get_config`` become ``{'class_name', 'config'}`` dicts
    (non-string config values serialized in turn and tagged
    ``__passive_serialization__``), inside a ``SharedObjectSavingScope``
    tagged with shared ids; anything else with a ``__name__`` becomes its
    registered name.  (Keras 2.9.0.)
    """
    unwrap = _state.unwrap
    if unwrap is not None:
        _, instance = unwrap(instance)
    if instance is None:
        return None

    supports_masking = getattr(instance, "supports_masking", False) or (
        hasattr(instance, "compute_mask") and not _is_default(instance.compute_mask)
    )
    if supports_masking and _is_default(instance.get_config):
        warnings.warn(
            "Custom mask layers require a config and must override "
            "get_config. When loading, the custom mask layer must be "
            "passed to the custom_objects argument.",
            category=_upstream("CustomMaskWarning", CustomMaskWarning),
            stacklevel=2,
        )

    if hasattr(instance, "get_config"):
        name = get_registered_name(instance.__class__)
        try:
            config = instance.get_config()
        except NotImplementedError:
            if _upstream("_SKIP_FAILED_SERIALIZATION", _SKIP_FAILED_SERIALIZATION):
                return serialize_keras_class_and_config(name, {_LAYER_UNDEFINED_CONFIG_KEY: True})
            raise
        serialization_config: dict[str, Any] = {}
        for key, item in config.items():
            if isinstance(item, str):
                serialization_config[key] = item
                continue
            try:
                serialized_item = serialize_keras_object(item)
                if isinstance(serialized_item, dict) and not isinstance(item, dict):
                    serialized_item["__passive_serialization__"] = True
                serialization_config[key] = serialized_item
            except ValueError:
                serialization_config[key] = item
        # Asked again, as Keras 2.9 does: get_config may have registered it.
        name = get_registered_name(instance.__class__)
        return serialize_keras_class_and_config(name, serialization_config, instance)
    if hasattr(instance, "__name__"):
        return get_registered_name(instance)
    raise ValueError(
        f"Cannot serialize {instance} since it doesn't implement "
        "`get_config()`, and also doesn\t have `__name__`"
    )
