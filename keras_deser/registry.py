"""The custom-object registry and scopes, as Keras 2.9 defines them.

Mirrors ``keras/utils/generic_utils.py`` of Keras 2.9.0: ``get_custom_objects``,
``CustomObjectScope`` (alias ``custom_object_scope``),
``register_keras_serializable``, ``get_registered_name`` and
``get_registered_object``.  The dicts they use are those of the bound
upstream Keras (see :mod:`keras_deser.flavours`), or keras_deser's own when
no Keras is loaded, so registrations made here and upstream are one registry.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from . import _state

_T = TypeVar("_T")

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "register_keras_serializable",
    "get_registered_name",
    "get_registered_object",
]

_MISSING = object()


class CustomObjectScope:
    """Expose custom classes and functions to deserialization for a while.

    ``with CustomObjectScope({'MyLayer': MyLayer}, {...}):`` makes the given
    objects resolvable by name inside the block, ahead of registered ones, and
    visible through :func:`get_custom_objects`.  Several dicts may be given;
    later ones win.  On exit every name the scope set gets back the value it
    had on entry, also when the block raised.  Nested scopes add to the outer
    ones.  (Keras 2.9.0 ``generic_utils.CustomObjectScope``.)
    """

    def __init__(self, *args: Any) -> None:
        self.custom_objects = args
        self.backup: Any = None
        self._entered: list[tuple[Any, Any]] = []

    def __enter__(self) -> CustomObjectScope:
        store = _state.store
        self.backup = store.enter(self.custom_objects)
        self._entered.append((store, self.backup))
        return self

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        # Each exit undoes the latest entry of this instance (re-entrant).
        store, backup = self._entered.pop()
        store.exit(backup)


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict[str, Any]:
    """Return the live dictionary of registered custom objects.

    Writes to it register objects; while a :class:`CustomObjectScope` is
    active its entries are visible in it.  (Keras 2.9.0: the global
    ``_GLOBAL_CUSTOM_OBJECTS``; on layouts keeping scopes apart, a ``dict``
    view that shows the calling thread's scopes over the registry.)
    """
    visible: dict[str, Any] = _state.store.visible()
    return visible


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable[[_T], _T]:
    """Decorator registering a class or function as ``'package>name'``.

    ``name`` defaults to the object's ``__name__``.  Raises ``ValueError`` for
    a class without ``get_config``, for a name already registered and for an
    object registered before, with Keras 2.9.0's messages.
    """

    def decorator(arg: _T) -> _T:
        class_name = name if name is not None else arg.__name__  # type: ignore[attr-defined]
        registered_name = package + ">" + class_name
        registry, names = _state.registry, _state.names

        if _state.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        # Scope entries count as registered (in Keras 2.9 they are in the
        # registry dict; on layouts keeping them apart, ask the lookup).
        taken = _state.lookup(registered_name, _MISSING)
        if taken is not _MISSING:
            raise ValueError(f"{registered_name} has already been registered to {taken}")
        if arg in names:
            raise ValueError(f"{arg} has already been registered to {names[arg]}")
        registry[registered_name] = arg
        names[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name ``obj`` was registered under, else its ``__name__``."""
    names = _state.names
    name: str = names[obj] if obj in names else obj.__name__
    return name


def get_registered_object(
    name: str, custom_objects: dict[str, Any] | None = None, module_objects: dict[str, Any] | None = None
) -> Any:
    """The object known as ``name``, or ``None``.

    Looks in the registry (with active scopes), then ``custom_objects``, then
    ``module_objects``, as Keras 2.9.0 does.
    """
    obj = _state.lookup(name, _MISSING)
    if obj is not _MISSING:
        return obj
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None
