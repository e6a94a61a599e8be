"""Shared-object scopes: one object for every config carrying the same id.

Mirrors Keras 2.9.0 (``generic_utils.SharedObjectLoadingScope`` and
relatives).  The active scopes live in the bound Keras's own thread-locals
(``SHARED_OBJECT_LOADING``, ``SHARED_OBJECT_SAVING``,
``SHARED_OBJECT_DISABLED``) where it has them, so a scope entered through
upstream's class is honoured here and the other way round; on releases
without them (TensorFlow 1.15 to 2.4) keras_deser supplies its own.

As in Keras 2.9, scopes do not nest: leaving any loading scope leaves no
loading scope active, and entering one again forgets what it had loaded.
"""

from __future__ import annotations

import weakref
from typing import Any

from . import _state

__all__ = [
    "SHARED_OBJECT_KEY",
    "DisableSharedObjectScope",
    "NoopLoadingScope",
    "SharedObjectLoadingScope",
    "SharedObjectConfig",
    "SharedObjectSavingScope",
    "serialize_keras_class_and_config",
]

#: Config key holding the id of an object referenced more than once.
SHARED_OBJECT_KEY = "shared_object_id"


def _disabled() -> bool:
    return getattr(_state.disabled, "disabled", False)


def _loading_scope() -> Any:
    return getattr(_state.loading, "scope", _NOOP)


def _saving_scope() -> Any:
    return getattr(_state.saving, "scope", None)


class DisableSharedObjectScope:
    """Switch shared-object handling off, for saving and loading, in a block.

    On exit the loading and saving scopes active on entry are put back.
    """

    def __enter__(self) -> None:
        _state.disabled.disabled = True
        self._orig_loading_scope = _loading_scope()
        self._orig_saving_scope = _saving_scope()

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        _state.disabled.disabled = False
        _state.loading.scope = self._orig_loading_scope
        _state.saving.scope = self._orig_saving_scope


class NoopLoadingScope:
    """The loading scope in force when none is: remembers nothing."""

    def get(self, unused_object_id: Any) -> Any:
        return None

    def set(self, object_id: Any, obj: Any) -> None:
        pass


_NOOP = NoopLoadingScope()


class SharedObjectLoadingScope:
    """Within the block, configs with one ``shared_object_id`` load once.

    The first object built for an id is returned for every later config
    carrying that id.  Entering returns a :class:`NoopLoadingScope` instead
    while shared objects are disabled.
    """

    def __enter__(self) -> Any:
        if _disabled():
            return NoopLoadingScope()
        _state.loading.scope = self
        self._obj_ids_to_obj: dict[Any, Any] = {}
        return self

    def get(self, object_id: Any) -> Any:
        """The object loaded earlier for ``object_id``, or ``None``."""
        if object_id is None:
            return None
        return self._obj_ids_to_obj.get(object_id)

    def set(self, object_id: Any, obj: Any) -> None:
        """Remember ``obj`` as the object for ``object_id``."""
        if object_id is None:
            return
        self._obj_ids_to_obj[object_id] = obj

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        _state.loading.scope = NoopLoadingScope()


class SharedObjectConfig(dict):  # type: ignore[type-arg]
    """A config that tags itself with its id once it is referenced twice."""

    def __init__(self, base_config: Any, object_id: int, **kwargs: Any) -> None:
        self.ref_count = 1
        self.object_id = object_id
        super().__init__(base_config, **kwargs)

    def increment_ref_count(self) -> None:
        """Count one more reference; the second one adds the id key."""
        if self.ref_count == 1:
            self[SHARED_OBJECT_KEY] = self.object_id
        self.ref_count += 1


class SharedObjectSavingScope:
    """While saving, give objects serialized more than once a shared id.

    Nested saving scopes pass through to the outermost one.
    """

    def __enter__(self) -> Any:
        if _disabled():
            return None
        outer = _saving_scope()
        if outer is not None:
            self._passthrough = True
            return outer
        self._passthrough = False
        _state.saving.scope = self
        self._shared_objects_config: weakref.WeakKeyDictionary[Any, SharedObjectConfig] = weakref.WeakKeyDictionary()
        self._next_id = 0
        return self

    def get_config(self, obj: Any) -> SharedObjectConfig | None:
        """The :class:`SharedObjectConfig` already made for ``obj``, or None."""
        try:
            shared_object_config = self._shared_objects_config[obj]
        except (TypeError, KeyError):
            return None
        shared_object_config.increment_ref_count()
        return shared_object_config

    def create_config(self, base_config: Any, obj: Any) -> SharedObjectConfig:
        """Make and remember a new :class:`SharedObjectConfig` for ``obj``."""
        shared_object_config = SharedObjectConfig(base_config, self._next_id)
        self._next_id += 1
        try:
            self._shared_objects_config[obj] = shared_object_config
        except TypeError:
            pass
        return shared_object_config

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        if not getattr(self, "_passthrough", False):
            _state.saving.scope = None


def serialize_keras_class_and_config(
    cls_name: str, cls_config: Any, obj: Any = None, shared_object_id: Any = None
) -> dict[str, Any]:
    """``{'class_name': cls_name, 'config': cls_config}``, shared-object aware.

    A given ``shared_object_id`` is kept; inside a
    :class:`SharedObjectSavingScope` the config of an ``obj`` seen before is
    returned again (tagged with its id).  (Keras 2.9.0.)
    """
    base_config: dict[str, Any] = {"class_name": cls_name, "config": cls_config}
    if shared_object_id is not None:
        base_config[SHARED_OBJECT_KEY] = shared_object_id
    scope = _saving_scope()
    if scope is not None and obj is not None:
        shared_object_config = scope.get_config(obj)
        if shared_object_config is None:
            shared_object_config = scope.create_config(base_config, obj)
        return shared_object_config  # type: ignore[no-any-return]
    return base_config
