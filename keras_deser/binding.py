"""Detect the live upstream Keras and gather the state keras_deser shares.

Generic code that reads :data:`keras_deser.flavours.FLAVOURS`.  It only
looks at modules that are already imported (``sys.modules``); the one
exception is a flavour's own submodules (for example Keras 3's legacy
serialization module), which are imported by their canonical names once the
flavour is known to be live.  A TensorFlow 1.15 module is never imported by
name, because that builds a second copy of it.
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Any, Callable, NamedTuple

from . import flavours as _flavours
from .introspection import Introspector
from .scopes import STORES

__all__ = ["Binding", "detect", "resolve", "OWN"]


class _OwnState:
    """State keras_deser supplies where upstream has none.

    Kept for the life of the process, so that registrations made while no
    Keras was loaded are still there when a Keras is bound later.
    """

    def __init__(self) -> None:
        self.registry: dict[str, Any] = {}
        self.names: dict[Any, str] = {}
        self.loading = threading.local()
        self.saving = threading.local()
        self.disabled = threading.local()


OWN = _OwnState()


class Binding(NamedTuple):
    """Everything keras_deser reads and writes, resolved for one flavour."""

    flavour: _flavours.Flavour
    registry: dict
    names: dict
    store: Any
    loading: Any
    saving: Any
    disabled: Any
    introspector: Introspector
    shared_native: bool
    names_native: bool
    registry_globals: dict | None
    legacy_module: Any
    tensorflow_version: str | None
    keras_version: str | None
    #: Capability: upstream's newer ``(config, custom_objects=None,
    #: safe_mode=True, **kwargs)`` functions that are loaded (from the row's
    #: ``new_signature_modules``); empty where the release has none.
    new_signature_functions: tuple[Callable[..., Any], ...] = ()
    #: Capability: attribute of TensorFlow's module wrappers holding API
    #: modules that are not in ``sys.modules`` (the row's
    #: ``hidden_api_modules``); ``None`` when there are none.
    hidden_api_modules: str | None = None

    # Shortcuts the rest of the package reads through keras_deser._state.

    @property
    def lookup(self) -> Callable[..., Any]:
        """The store's ``lookup(name, default)`` (scopes, then registry)."""
        return self.store.lookup

    @property
    def isclass(self) -> Callable[[Any], bool]:
        """``tf_inspect.isclass`` of the bound release (or :mod:`inspect`'s)."""
        return self.introspector.isclass

    @property
    def isfunction(self) -> Callable[[Any], bool]:
        """``tf_inspect.isfunction`` of the bound release (or :mod:`inspect`'s)."""
        return self.introspector.isfunction

    @property
    def takes_custom_objects(self) -> Callable[[Any], bool]:
        """Whether a ``from_config`` takes ``custom_objects`` (cached)."""
        return self.introspector.takes_custom_objects

    @property
    def takes_cache(self) -> dict[Any, bool]:
        """The cache behind :attr:`takes_custom_objects`."""
        return self.introspector.takes_cache

    @property
    def unwrap(self) -> Callable[[Any], Any] | None:
        """TensorFlow's ``tf_decorator.unwrap``, or ``None``."""
        return self.introspector.unwrap

    def json_decoder(self) -> Callable[[str], Any] | None:
        """The bound release's own JSON decoder (``Flavour.json_decoder``), or None.

        Only once its module is imported (nothing is imported here); None
        when standalone.
        """
        module_name, _, attribute = (self.flavour.json_decoder or "").partition(":")
        decode = getattr(sys.modules.get(module_name), attribute, None) if module_name else None
        return decode if callable(decode) else None


def _walk(root: Any, dotted: str) -> Any:
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _live_get_custom_objects() -> Any:
    """The ``get_custom_objects`` function the live Keras exposes, or None."""
    for package, path in _flavours.ENTRY_ROUTES:
        root = sys.modules.get(package)
        if root is None:
            continue
        try:
            fn = _walk(root, path)
        except Exception:  # a half-imported or unusual package: try the next
            continue
        if getattr(fn, "__globals__", None) is not None:
            return fn
    return None


def detect() -> tuple[_flavours.Flavour, dict[str, Any] | None]:
    """Return ``(flavour, registry_globals)`` for what is loaded now.

    ``registry_globals`` is the globals dict of the module owning the live
    registry (``None`` when standalone).
    """
    fn = _live_get_custom_objects()
    if fn is None:
        return _flavours.STANDALONE, None
    module_name, module_globals = fn.__module__, fn.__globals__
    for row in _flavours.FLAVOURS:
        if (
            row.registry_module == module_name
            and row.registry in module_globals
            and all(attr in module_globals for attr in row.requires)
        ):
            return row, module_globals
    raise UnknownUpstreamError(module_name)


class UnknownUpstreamError(RuntimeError):
    """The loaded Keras keeps its registry somewhere no flavour row knows."""

    def __init__(self, module_name: str) -> None:
        known = ", ".join(row.name for row in _flavours.FLAVOURS)
        super().__init__(
            f"keras_deser does not know the Keras layout whose "
            f"get_custom_objects lives in {module_name!r} (known flavours: "
            f"{known}); bind explicitly with keras_deser.bind('standalone') "
            f"to work without sharing upstream state"
        )
        self.module_name = module_name


def _module(name: str | None, known_globals: dict[str, Any] | None = None, known_name: str | None = None) -> Any:
    """The module ``name``: from ``known_globals``, sys.modules, or import."""
    if name is None:
        return None
    if name == known_name and known_globals is not None:
        return _GlobalsModule(known_globals)
    module = sys.modules.get(name)
    if module is None:
        module = importlib.import_module(name)
    return module


class _GlobalsModule:
    """Attribute access over a module's globals dict (module not by name)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__ = namespace


def _version_of(spec: str | None) -> str | None:
    """The version string at ``package:attribute.path``, or None.

    Read only from a package already imported; nothing is imported here.
    """
    if not spec:
        return None
    package, _, path = spec.partition(":")
    module = sys.modules.get(package)
    if module is None:
        return None
    try:
        version = _walk(module, path or "__version__")
    except Exception:
        return None
    return version if isinstance(version, str) else None


def _unwrap(flavour: _flavours.Flavour) -> Callable[[Any], Any] | None:
    """TensorFlow's ``tf_decorator.unwrap`` for ``flavour``, or None."""
    for name in flavour.decorator_modules:
        module = sys.modules.get(name)
        if module is not None:
            return module.unwrap
    return None


_SHARED_LOCALS = ("SHARED_OBJECT_LOADING", "SHARED_OBJECT_SAVING", "SHARED_OBJECT_DISABLED")


def _shared_locals(flavour: _flavours.Flavour, legacy: Any) -> tuple[Any, Any, Any] | None:
    """Upstream's shared-object thread-locals, per the row's ``shared_objects``.

    ``None`` when keras_deser supplies its own.
    """
    if flavour.shared_objects == "supplied":
        return None
    namespace = vars(legacy)
    if flavour.shared_objects == "native-if-present" and not all(name in namespace for name in _SHARED_LOCALS):
        return None
    loading, saving, disabled = (namespace[name] for name in _SHARED_LOCALS)
    return loading, saving, disabled


def _new_signature_functions(flavour: _flavours.Flavour) -> tuple[Callable[..., Any], ...]:
    """The row's new-signature functions among the modules already loaded."""
    found = []
    for name in flavour.new_signature_modules:
        module = sys.modules.get(name)
        function = None if module is None else vars(module).get("deserialize_keras_object")
        if function is not None and not getattr(function, "__keras_deser__", False):
            found.append(function)
    return tuple(found)


def resolve(flavour: _flavours.Flavour | str | None = None) -> Binding:
    """Build the :class:`Binding` for ``flavour`` (a row, a name, or detect)."""
    registry_globals = None
    if flavour is None:
        flavour, registry_globals = detect()
    elif isinstance(flavour, str):
        flavour = _flavours.by_name(flavour)
    if flavour.registry_module is not None and registry_globals is None:
        registry_globals = _live_globals(flavour)

    if flavour.registry_module is None:
        return Binding(
            flavour=flavour,
            registry=OWN.registry,
            names=OWN.names,
            store=_reuse(
                ("global", id(OWN.registry)), lambda: STORES["global"](OWN.registry, location="keras_deser (own)")
            ),
            loading=OWN.loading,
            saving=OWN.saving,
            disabled=OWN.disabled,
            introspector=Introspector(None),
            shared_native=False,
            names_native=False,
            registry_globals=None,
            legacy_module=None,
            tensorflow_version=_version_of("tensorflow:__version__"),
            keras_version=None,
        )

    assert registry_globals is not None
    registry = registry_globals[flavour.registry]
    found = registry_globals.get(flavour.names)
    names_native = isinstance(found, dict)
    names: dict[Any, str] = found if isinstance(found, dict) else OWN.names
    _adopt(registry, names)

    legacy = _module(flavour.legacy_module, registry_globals, flavour.registry_module)
    shared = _shared_locals(flavour, legacy)
    shared_native = shared is not None
    loading, saving, disabled = shared if shared is not None else (OWN.loading, OWN.saving, OWN.disabled)

    store = _store(flavour, registry, registry_globals)
    unwrap = _unwrap(flavour)
    return Binding(
        flavour=flavour,
        registry=registry,
        names=names,
        store=store,
        loading=loading,
        saving=saving,
        disabled=disabled,
        introspector=Introspector(unwrap),
        shared_native=shared_native,
        names_native=names_native,
        registry_globals=registry_globals,
        legacy_module=legacy,
        tensorflow_version=_version_of("tensorflow:__version__"),
        keras_version=_version_of(flavour.keras_version),
        new_signature_functions=_new_signature_functions(flavour),
        hidden_api_modules=flavour.hidden_api_modules,
    )


def _live_globals(flavour: _flavours.Flavour) -> dict[str, Any]:
    """Globals of ``flavour``'s registry module, for a flavour forced by name.

    The module the live ``get_custom_objects`` belongs to is taken from the
    function itself when it is that flavour's (so TF 1.15's real module is
    used, not a second copy imported by name); otherwise the module is taken
    from sys.modules or imported.
    """
    fn = _live_get_custom_objects()
    if fn is not None and fn.__module__ == flavour.registry_module:
        return fn.__globals__
    return vars(_module(flavour.registry_module))


_STORES: dict[Any, Any] = {}


def _reuse(key: Any, make: Callable[[], Any]) -> Any:
    """One scope store per registry and layout, kept across rebinds.

    A store tracks the scopes active on it; binding again (for example after
    importing a Keras) must not lose scopes entered before.
    """
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = make()
    return store


def _store(flavour: _flavours.Flavour, registry: dict[str, Any], registry_globals: dict[str, Any]) -> Any:
    return _reuse((flavour.name, id(registry)), lambda: _make_store(flavour, registry, registry_globals))


def _make_store(flavour: _flavours.Flavour, registry: dict[str, Any], registry_globals: dict[str, Any]) -> Any:
    cls = STORES[flavour.scope_store]
    if flavour.scope_store == "global":
        return cls(registry, location=f"{flavour.registry_module}:{flavour.registry}")
    module_name, attribute = str(flavour.scope_location).split(":")
    module = _module(module_name, registry_globals, flavour.registry_module)
    if flavour.scope_store == "thread_local":
        return cls(registry, getattr(module, attribute), location=flavour.scope_location)
    return cls(registry, module, attribute, location=flavour.scope_location)


def _adopt(registry: dict[str, Any], names: dict[Any, str]) -> None:
    """Carry registrations made while standalone into the upstream registry.

    Names upstream already knows keep upstream's object.
    """
    for key, value in list(OWN.registry.items()):
        registry.setdefault(key, value)
    if names is not OWN.names:
        for obj, name in list(OWN.names.items()):
            names.setdefault(obj, name)


def _version_tuple(text: Any) -> tuple[int, ...]:
    """Leading numbers of a version string: ``'2.15.0rc1'`` -> ``(2, 15, 0)``."""
    numbers = []
    for part in str(text).split("."):
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        numbers.append(int(digits))
        if len(digits) != len(part):
            break
    return tuple(numbers)


def tested_version(flavour: _flavours.Flavour) -> tuple[str | None, bool | None]:
    """``(version, tested)`` of the loaded release for ``flavour``.

    ``tested`` is True when the version lies in the row's ``tested`` range
    (True for the standalone row, None when no version can be read).
    """
    source, (lowest, too_new) = flavour.tested
    if not source:
        return None, True
    version = _version_of(source)
    if version is None:
        return None, None
    number = _version_tuple(version)
    return version, _version_tuple(lowest) <= number < _version_tuple(too_new)
