"""Where ``CustomObjectScope`` entries live, one class per upstream layout.

Keras 2.9 writes scope entries straight into the process-wide registry and
restores it on exit; Keras 2.10+ keeps them in a per-thread dict; Keras 3
keeps one per-thread dict that each scope replaces.  Each store below writes
into the layout it is bound to, so upstream's own loaders see keras_deser's
scopes and keras_deser sees upstream's, and each gives keras_deser's callers
the Keras 2.9 contract:

* the scope's objects shadow registered ones while it is active;
* nested scopes add to the outer ones (the outer ones stay visible);
* on exit exactly the scope's keys get back the values they had on entry,
  also when the body raised.

Unlike Keras 2.9 (which copies the whole registry on entry and restores the
copy on exit) entering and leaving costs time proportional to the scope, not
to the registry; see ``docs/deviations.md``.

The contract every store keeps is stated on :class:`ScopeStore`, the
abstract class the three stores derive from as siblings.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

__all__ = ["ScopeStore", "GlobalDictStore", "ThreadLocalStore", "GlobalStateStore", "STORES"]

_MISSING = object()


_THREADS = threading.local()


def _thread_marker():
    """An object unique to the calling thread (idents are reused; this is not)."""
    try:
        return _THREADS.marker
    except AttributeError:
        marker = _THREADS.marker = object()
        return marker


def _union(dicts):
    """One dict with every entry of ``dicts``; later dicts win.

    Accepts what ``dict.update`` accepts and raises what it raises, before
    anything is changed (Keras 2.9 would have applied the earlier dicts).
    """
    merged = {}
    for objects in dicts:
        merged.update(objects)
    return merged


class ScopeStore:
    """Where one layout keeps ``CustomObjectScope`` entries (abstract).

    Subclasses set :attr:`kind` and implement the methods below that raise
    :class:`NotImplementedError`; each calls ``super().__init__``.

    ``lookup(name, default)``
        The object the calling thread sees under ``name``: its active scopes
        first, then the registry.  Set as an instance attribute (a closure)
        by each subclass, since the hot path calls it once per object.
    ``fast_get``
        For the hot path: answers as ``lookup`` does while :attr:`layers` is
        empty (the global store: the registry's own ``get``).  Defaults to
        ``lookup``.
    ``layers``
        Non-empty only while the store needs ``lookup`` rather than
        ``fast_get`` (the global store's active scope layers).
    ``on_bump``
        Callables run by a scope entry before it writes a shared registry,
        so that a hot path that read ``fast_get`` meanwhile looks again
        (only the global store writes a shared dict).
    ``enter(dicts) -> token`` / ``exit(token)``
        Activate the union of ``dicts`` (later dicts win) for the calling
        thread; undo exactly that entry, also out of order.
    ``merged_items()``
        Items of the registry with the calling thread's active scopes on
        top: the mapping Keras 2.9 hands to ``from_config(...,
        custom_objects=...)``.
    ``active()``
        The entries the calling thread's scopes have made visible.
    ``scoped()``
        The calling thread's live scope dict, or ``None`` (stores keeping
        scopes apart from the registry; the global store has none).
    ``visible()``
        The mapping ``get_custom_objects()`` returns: by default one
        :class:`_ScopedRegistryView` per store, refreshed on each call.
    """

    kind = "abstract"

    def __init__(self, registry: dict[str, Any], location: str | None = None) -> None:
        self.registry = registry
        self.location = location
        self.layers: dict[str, Any] = {}
        self.on_bump: list[Callable[[], None]] = []
        self._view: _ScopedRegistryView | None = None

    def lookup(self, name: str, default: Any = None) -> Any:  # replaced per instance
        raise NotImplementedError

    @property
    def fast_get(self) -> Callable[..., Any]:
        return self.lookup

    def enter(self, dicts: Iterable[Any]) -> Any:
        raise NotImplementedError

    def exit(self, token: Any) -> None:
        raise NotImplementedError

    def merged_items(self) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def active(self) -> dict[str, Any]:
        raise NotImplementedError

    def scoped(self) -> dict[str, Any] | None:
        return None

    def visible(self) -> dict[str, Any]:
        view = self._view
        if view is None:
            view = self._view = _ScopedRegistryView(self)
        else:
            view._refresh()
        return view


class GlobalDictStore(ScopeStore):
    """Scopes written into the registry dict itself (Keras <= 2.9).

    As in Keras 2.9 the scope's entries are written into the process-wide
    registry, so ``get_custom_objects()`` and upstream's own loaders (which
    read that dict directly) see them.  Unlike Keras 2.9, keras_deser's own
    lookups see only the calling thread's scope entries: each scoped key
    keeps a stack of ``(thread, token, value)`` layers and the value it had
    before the first of them, and on exit the registry gets back the newest
    remaining layer's value or, with none left, the value from before.
    """

    kind = "global"

    def __init__(self, registry: dict[str, Any], location: str | None = None) -> None:
        super().__init__(registry, location)
        #: key -> ((thread marker, token, value), ...), oldest first; empty
        #: while no scope is active (the hot path then uses ``fast_get``).
        self.layers: dict[str, tuple[tuple[Any, Any, Any], ...]] = {}
        self._base: dict[str, Any] = {}
        self._lock = threading.Lock()
        layers, base, registry_get, marker = self.layers, self._base, registry.get, _thread_marker

        def lookup(name, default=None):
            # Layers are tuples, replaced whole, so reading one is atomic.
            while layers:
                entries = layers.get(name)
                if not entries:
                    break
                current = registry_get(name, _MISSING)
                if layers.get(name) is not entries:
                    # A scope on this name was entered (layers, then registry)
                    # between the two reads: ``current`` may be a value the
                    # snapshot does not know.  Read both again.
                    continue
                me = marker()
                own = _MISSING
                foreign = False
                for owner, _token, value in reversed(entries):
                    if owner is me:
                        if own is _MISSING:
                            own = value
                    elif value is current:
                        foreign = True
                if not foreign or current is own:
                    # The registry holds this thread's scope value, or a value
                    # written into it directly while the scope is active.
                    return default if current is _MISSING else current
                if own is not _MISSING:
                    return own
                value = base.get(name, _MISSING)
                if value is not _MISSING:
                    return value
                if layers.get(name) is entries:
                    return default  # no value before the scopes: nothing here
                # another thread's scope ended meanwhile: look again
            return registry_get(name, default)

        self.lookup = lookup  # type: ignore[method-assign]

    @property
    def fast_get(self) -> Callable[..., Any]:
        return self.registry.get

    def enter(self, dicts: Iterable[Any]) -> Any:
        updates = _union(dicts)
        token, me = object(), _thread_marker()
        with self._lock:
            # Order matters for lock-free readers: base, then layers, then
            # on_bump (hot paths look again), and only then the registry.
            for key, value in updates.items():
                entries = self.layers.get(key)
                if entries is None:
                    self._base[key] = self.registry.get(key, _MISSING)
                    entries = ()
                self.layers[key] = entries + ((me, token, value),)
            for callback in self.on_bump:
                callback()
            self.registry.update(updates)
        return token, list(updates)

    def exit(self, token: Any) -> None:
        token, keys = token
        with self._lock:
            for key in keys:
                entries = self.layers.get(key)
                if not entries:
                    continue
                remaining = tuple(entry for entry in entries if entry[1] is not token)
                if remaining:
                    self.registry[key] = remaining[-1][2]
                    self.layers[key] = remaining
                    continue
                # Registry first, then the layers, then the base value.
                old = self._base.get(key, _MISSING)
                if old is _MISSING:
                    self.registry.pop(key, None)
                else:
                    self.registry[key] = old
                del self.layers[key]
                self._base.pop(key, None)

    def merged_items(self) -> list[tuple[str, Any]]:
        merged = dict(self.registry)
        for key in list(self.layers):
            value = self.lookup(key, _MISSING)
            if value is _MISSING:
                merged.pop(key, None)
            else:
                merged[key] = value
        return list(merged.items())

    def visible(self) -> dict[str, Any]:
        return self.registry

    def active(self) -> dict[str, Any]:
        me = _thread_marker()
        found = {}
        for key, entries in list(self.layers.items()):
            for owner, _token, value in entries:
                if owner is me:
                    found[key] = value
        return found


class ThreadLocalStore(ScopeStore):
    """Scopes in the ``__dict__`` of a ``threading.local`` (Keras 2.10+).

    The registry is left alone; scope entries are per thread, as upstream
    keeps them, so upstream's own loaders find them where they look.
    """

    kind = "thread_local"

    def __init__(self, registry: dict[str, Any], local: Any, location: str | None = None) -> None:
        super().__init__(registry, location)
        self.local = local
        registry_get = registry.get

        def lookup(name: str, default: Any = None) -> Any:
            scoped = local.__dict__
            if name in scoped:
                return scoped[name]
            return registry_get(name, default)

        self.lookup = lookup  # type: ignore[method-assign]

    def enter(self, dicts: Iterable[Any]) -> Any:
        scoped = self.local.__dict__
        updates = _union(dicts)
        backup = [(key, scoped.get(key, _MISSING)) for key in updates]
        scoped.update(updates)
        return backup

    def exit(self, token: Any) -> None:
        scoped = self.local.__dict__
        for key, old in reversed(token):
            if old is _MISSING:
                scoped.pop(key, None)
            else:
                scoped[key] = old

    def merged_items(self) -> list[tuple[str, Any]]:
        merged = dict(self.registry)
        merged.update(self.local.__dict__)
        return list(merged.items())

    def active(self) -> dict[str, Any]:
        return dict(self.local.__dict__)

    def scoped(self) -> dict[str, Any] | None:
        return self.local.__dict__


class GlobalStateStore(ScopeStore):
    """Scopes in Keras 3's per-thread ``global_state`` attribute.

    Keras 3 replaces that dict on every scope entry (an inner scope hides the
    outer one); keras_deser installs a new dict holding the outer entries
    plus the new ones, and on exit a new dict in which exactly the scope's
    names have their values from before.
    """

    kind = "global_state"

    def __init__(
        self, registry: dict[str, Any], global_state: Any, attribute: str, location: str | None = None
    ) -> None:
        super().__init__(registry, location)
        get_attr = global_state.get_global_attribute
        set_attr = global_state.set_global_attribute
        registry_get = registry.get

        def current() -> dict[str, Any]:
            return get_attr(attribute) or {}

        def lookup(name: str, default: Any = None) -> Any:
            scoped = get_attr(attribute)
            if scoped and name in scoped:
                return scoped[name]
            return registry_get(name, default)

        self._current = current
        self._set: Callable[[dict[str, Any]], None] = lambda value: set_attr(attribute, value)
        self._get_raw: Callable[[], dict[str, Any] | None] = lambda: get_attr(attribute)
        self.lookup = lookup  # type: ignore[method-assign]

    def enter(self, dicts: Iterable[Any]) -> Any:
        updates = _union(dicts)
        previous = self._get_raw() or {}
        backup = [(key, previous.get(key, _MISSING)) for key in updates]
        combined = dict(previous)
        combined.update(updates)
        self._set(combined)
        return backup

    def exit(self, token: Any) -> None:
        backup = token
        # A new dict with exactly this scope's names given back the values
        # they had on entry: right for nested scopes and, as in keras_deser's
        # other stores, for scopes left out of order.
        restored = dict(self._current())
        for key, old in reversed(backup):
            if old is _MISSING:
                restored.pop(key, None)
            else:
                restored[key] = old
        self._set(restored)

    def merged_items(self) -> list[tuple[str, Any]]:
        merged = dict(self.registry)
        merged.update(self._current())
        return list(merged.items())

    def active(self) -> dict[str, Any]:
        return dict(self._current())

    def scoped(self) -> dict[str, Any] | None:
        return self._get_raw()


class _ScopedRegistryView(dict):
    """``get_custom_objects()`` on layouts whose scopes live apart.

    A real ``dict`` (so ``isinstance(..., dict)`` holds), one per store (so
    ``get_custom_objects() is get_custom_objects()`` as in Keras 2.9), whose
    reads show the calling thread's active scope entries over the registry,
    keeping Keras 2.9's promise that scoped objects are visible through
    ``get_custom_objects()``.  Writes act as on Keras 2.9's single dict: a
    name the calling thread's scopes hold is changed (or removed) in the
    scope storage, so the change ends with the scope as it did in 2.9; any
    other name is written to the registry.  Copies and pickles are plain
    dicts of what is visible at that moment.  Each ``get_custom_objects()``
    call refreshes the dict's own storage with a snapshot (cost proportional
    to registry plus scope), for C code that looks at a dict's storage
    without calling its methods (such as the ``json`` encoder's empty-dict
    shortcut).  Iteration order is the registry's, then the scope entries
    that are not registered (Keras 2.9 keeps one insertion order).
    """

    __slots__ = ("_store",)

    def __init__(self, store):
        super().__init__()
        self._store = store
        self._refresh()

    def _refresh(self):
        dict.clear(self)
        dict.update(self, self._store.merged_items())

    def _scope_holding(self, key):
        scoped = self._store.scoped()
        if scoped is not None and key in scoped:
            return scoped
        return None

    # Reading: scope entries first, then the registry.
    def _combined(self):
        merged = dict(self._store.registry)
        merged.update(self._store.active())
        return merged

    def __getitem__(self, key):
        value = self._store.lookup(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def get(self, key, default=None):
        return self._store.lookup(key, default)

    def __contains__(self, key):
        return self._store.lookup(key, _MISSING) is not _MISSING

    def __iter__(self):
        return iter(self._combined())

    def __len__(self):
        return len(self._combined())

    def keys(self):
        return self._combined().keys()

    def values(self):
        return self._combined().values()

    def items(self):
        return self._combined().items()

    def copy(self):
        return self._combined()

    def __repr__(self):
        return repr(self._combined())

    def __eq__(self, other):
        return self._combined() == other

    def __ne__(self, other):
        return self._combined() != other

    __hash__ = None

    def __reversed__(self):
        return reversed(list(self._combined()))

    def __or__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        merged = self._combined()
        merged.update(other)
        return merged

    def __ror__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        merged = dict(other)
        merged.update(self._combined())
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    # Copies and pickles are plain dicts of what is visible now.
    def __copy__(self):
        return self._combined()

    def __deepcopy__(self, memo):
        import copy

        return copy.deepcopy(self._combined(), memo)

    def __reduce_ex__(self, protocol):
        return (dict, (self._combined(),))

    # Writing: the registry.
    def __setitem__(self, key, value):
        scoped = self._scope_holding(key)
        (self._store.registry if scoped is None else scoped)[key] = value
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        scoped = self._scope_holding(key)
        del (self._store.registry if scoped is None else scoped)[key]
        dict.pop(self, key, None)

    def pop(self, key, *default):
        scoped = self._scope_holding(key)
        value = (self._store.registry if scoped is None else scoped).pop(key, *default)
        dict.pop(self, key, None)
        return value

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        value = self._store.lookup(key, _MISSING)
        if value is not _MISSING:
            return value
        self._store.registry[key] = default
        return default

    def clear(self):
        scoped = self._store.scoped()
        if scoped:
            scoped.clear()
        self._store.registry.clear()
        dict.clear(self)

    def popitem(self):
        return self._store.registry.popitem()


#: Store classes by the ``scope_store`` value of a flavour row.
STORES: dict[str, Any] = {
    "global": GlobalDictStore,
    "thread_local": ThreadLocalStore,
    "global_state": GlobalStateStore,
}
