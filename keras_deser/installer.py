"""Install keras_deser into a running TensorFlow/Keras, and take it out again.

``install()`` replaces upstream's 4-argument ``deserialize_keras_object`` and
its helper ``class_and_config_for_serialized_keras_object`` wherever a module
binds them **under their own names**: the defining module, every module that
imported them by value (``from ... import deserialize_keras_object``, in
upstream's packages and in third-party code alike), public aliases such as
``tf.keras.utils`` and ``tf.compat.v1.keras.utils``, the API module objects
that TensorFlow's module wrappers hold outside ``sys.modules`` (the flavour
row's ``hidden_api_modules``: TensorFlow 1.15 to 2.12), and modules imported
afterwards (an import hook patches them as they load).  A variable that holds
upstream's function under another name (``_orig = generic_utils.
deserialize_keras_object``) is left alone: it is how code keeps upstream's
function on purpose.  No upstream module of the compat matrix binds the
functions under another name (tested), so the rule patches every upstream
binding; see ``docs/install.md``.

The search reads a few names of every module in ``sys.modules`` (no garbage
collector walk), so ``install()`` costs milliseconds however many objects the
process holds.  Afterwards every public alias of the flavour row
(``public_aliases``) that the process has loaded is checked to reach
keras_deser (read from namespaces only: checking imports nothing); one that
does not makes ``install()`` undo itself and raise.

The newer ``(config, custom_objects=None, safe_mode=True, **kwargs)``
function that ``tf.keras.utils.deserialize_keras_object`` names from
TensorFlow 2.13 on (and in tf_keras and Keras 3), which the binding reports
as ``new_signature_functions``, keeps its behaviour: its callers pass
arguments the 4-argument function does not take, and it already routes
old-format configs to the 4-argument function, which is replaced.  It is
served by a pass-through that hands every call to it unchanged, and only
while keras_deser's safe mode is on audits the config first (so a ``module``
key cannot make it import new code).

The other helpers (registry, scopes, ``get_registered_object``) are not
patched: keras_deser already reads and writes upstream's own registry and
scope storage, so upstream's helpers and keras_deser's agree.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import types
import warnings
from typing import Any, Callable, Collection, Iterator

from . import _state
from .binding import Binding, UnknownUpstreamError, tested_version
from .flavours import Flavour
from .import_hooks import PostImportHook
from .patching import PatchSet, Site
from .safety import guard_config, is_safe_mode, set_safe_mode
from .serialization import class_and_config_for_serialized_keras_object, deserialize_keras_object
from .translation import loader_translation, run_translated, set_loader_translation

__all__ = [
    "install",
    "uninstall",
    "patched",
    "is_installed",
    "installed_sites",
    "call_count",
    "original_of",
    "NotInstallableError",
]

Function = Callable[..., Any]


class NotInstallableError(RuntimeError):
    """keras_deser cannot (or will not) install into what is loaded."""


class _Installation:
    """The one installation of this process: what it replaced and counted."""

    def __init__(self) -> None:
        #: ``{upstream function: keras_deser's replacement}``.
        self.originals: dict[Function, Function] = {}
        self.patches = PatchSet()
        self.hook: PostImportHook | None = None
        #: Calls upstream routed through the installed 4-argument function.
        self.calls = 0
        #: Names of the kind deserializers patched for translation (besides ``_NAMES``).
        self.names: set[str] = set()
        self.lock = threading.RLock()


_INSTALLED = _Installation()


def _entry(
    identifier: Any,
    module_objects: dict[str, Any] | None = None,
    custom_objects: dict[str, Any] | None = None,
    printable_module_name: str = "object",
) -> Any:
    _INSTALLED.calls += 1
    if loader_translation():  # install(translate=True): keras_deser.translation
        return run_translated(
            lambda config: deserialize_keras_object(config, module_objects, custom_objects, printable_module_name),
            identifier,
            custom_objects,
        )
    return deserialize_keras_object(identifier, module_objects, custom_objects, printable_module_name)


_entry.__name__ = _entry.__qualname__ = "deserialize_keras_object"
_entry.__doc__ = deserialize_keras_object.__doc__
_entry.__wrapped__ = deserialize_keras_object  # type: ignore[attr-defined]
_entry.__keras_deser__ = True  # type: ignore[attr-defined]

#: Upstream's 4-argument functions replaced, by name, with their replacement.
_REPLACEMENTS: dict[str, Function] = {
    "deserialize_keras_object": _entry,
    "class_and_config_for_serialized_keras_object": class_and_config_for_serialized_keras_object,
}

#: The attribute names ``install()`` patches (the functions' own names).
_NAMES: tuple[str, ...] = tuple(_REPLACEMENTS)


def _kind_entry(original: Function, kind: str) -> Function:
    """A kind's public deserializer that, while loaders translate, says its kind.

    Every call goes to ``original`` with the same arguments; while
    ``install(translate=True)`` is in force a dict config is first translated
    for the bound release as an object of ``kind``
    (:func:`keras_deser.translation.run_translated`).
    """

    def deserialize(*args: Any, **kwargs: Any) -> Any:
        config = args[0] if args else kwargs.get("config")
        if loader_translation() and isinstance(config, dict):
            rest = args[1:]
            named = {key: value for key, value in kwargs.items() if key != "config" or args}
            custom_objects = rest[0] if rest else named.get("custom_objects")
            return run_translated(lambda new: original(new, *rest, **named), config, custom_objects, kind=kind)
        return original(*args, **kwargs)

    deserialize.__name__ = getattr(original, "__name__", "deserialize")
    deserialize.__qualname__ = getattr(original, "__qualname__", deserialize.__name__)
    deserialize.__doc__ = original.__doc__
    deserialize.__module__ = getattr(original, "__module__", __name__)
    deserialize.__wrapped__ = original  # type: ignore[attr-defined]
    deserialize.__keras_deser__ = True  # type: ignore[attr-defined]
    return deserialize


def _from_config_entry(original: classmethod, inner_of: str) -> classmethod:  # type: ignore[type-arg]
    """A model class's ``from_config`` that translates the inner config it is given.

    ``original`` is the classmethod object of the class's ``__dict__``; the
    replacement calls its function with the class it is called on (so
    subclasses that inherit it build themselves, as before).  While
    ``install(translate=True)`` is in force, a dict config is translated as
    the config of a ``{'class_name': inner_of}`` object first.
    """
    function = original.__func__

    def from_config(cls: Any, *args: Any, **kwargs: Any) -> Any:
        config = args[0] if args else kwargs.get("config")
        if loader_translation() and isinstance(config, dict):
            rest = args[1:]
            named = {key: value for key, value in kwargs.items() if key != "config" or args}
            custom_objects = rest[0] if rest else named.get("custom_objects")
            return run_translated(
                lambda new: function(cls, new, *rest, **named), config, custom_objects, inner_of=inner_of
            )
        return function(cls, *args, **kwargs)

    from_config.__name__ = function.__name__
    from_config.__qualname__ = function.__qualname__
    from_config.__doc__ = function.__doc__
    from_config.__module__ = function.__module__
    from_config.__wrapped__ = function  # type: ignore[attr-defined]
    from_config.__keras_deser__ = True  # type: ignore[attr-defined]
    return classmethod(from_config)


def _translation_originals(binding: Binding) -> dict[Function, Function]:
    """The row's kind deserializers that are loaded, each with its replacement."""
    originals: dict[Function, Function] = {}
    for module_name, name, kind in binding.flavour.kind_deserializers:
        module = sys.modules.get(module_name)
        original = vars(module).get(name) if module is not None else None
        if callable(original) and not getattr(original, "__keras_deser__", False):
            originals[original] = _kind_entry(original, kind)
            _INSTALLED.names.add(name)
    return originals


def _patch_from_configs(binding: Binding, only: str | None = None) -> None:
    """Patch the row's model classes' own ``from_config`` (of module ``only``, or all loaded)."""
    for module_name, class_name, inner_of in binding.flavour.model_from_configs:
        if only is not None and module_name != only:
            continue
        module = sys.modules.get(module_name)
        cls = vars(module).get(class_name) if module is not None else None
        original = vars(cls).get("from_config") if isinstance(cls, type) else None
        if isinstance(original, classmethod) and not getattr(original.__func__, "__keras_deser__", False):
            _INSTALLED.patches.apply(cls, "from_config", original, _from_config_entry(original, inner_of))

def original_of(obj: Any) -> Any:
    """The upstream object ``obj`` replaced, or ``obj`` if it replaced none."""
    for original, replacement in list(_INSTALLED.originals.items()):
        if replacement is obj:
            return original
    return obj


def call_count() -> int:
    """How many calls upstream routed through the installed function so far."""
    return _INSTALLED.calls


def is_installed() -> bool:
    """True while keras_deser is installed."""
    return bool(_INSTALLED.originals)


def installed_sites() -> list[str]:
    """``module:attribute`` labels of every site currently patched."""
    return [site.label for site in _INSTALLED.patches]


def _bind_for_install(force: bool, flavour: str | None) -> Binding:
    try:
        binding = _state.bind(flavour)
    except UnknownUpstreamError as error:
        raise NotInstallableError(
            f"{error} — keras_deser will not install into a Keras layout it does not know; "
            "pass install(flavour='<flavour name>') to use a known layout anyway"
        ) from error
    if binding.legacy_module is None:
        raise NotInstallableError(
            "no TensorFlow or Keras is loaded: import tensorflow (or keras) before keras_deser.install()"
        )
    version, tested = tested_version(binding.flavour)
    if not tested and not force:
        row: Flavour = binding.flavour
        lowest, too_new = row.tested[1]
        raise NotInstallableError(
            f"keras_deser was not tested with {row.tested[0].split(':')[0]} {version} "
            f"(flavour {row.name!r} is tested from {lowest} up to, not including, {too_new}); "
            "pass install(force=True) to install anyway"
        )
    return binding


def _originals(binding: Binding) -> dict[Function, Function]:
    """Upstream's functions to replace, each with its replacement."""
    namespace = vars(binding.legacy_module)
    originals: dict[Function, Function] = {}
    for name, replacement in _REPLACEMENTS.items():
        original = namespace.get(name)
        if original is None or original is replacement or getattr(original, "__keras_deser__", False):
            continue
        originals[original] = replacement
    for original in binding.new_signature_functions:
        originals[original] = _guarded_new(original)
    return originals


def _guarded_new(original: Function) -> Function:
    """A pass-through for upstream's new-signature function.

    Every call goes to ``original`` unchanged; while keras_deser's safe mode
    is on, the config is audited first (Lambda bytecode, factories,
    dangerous functions, ``module`` keys that would import new code) and
    refused with :class:`keras_deser.UnsafeConfigError`.
    """

    def deserialize_keras_object(*args: Any, **kwargs: Any) -> Any:
        if is_safe_mode():
            config = args[0] if args else kwargs.get("config")
            custom_objects = args[1] if len(args) > 1 else kwargs.get("custom_objects")
            if isinstance(config, (dict, str)):
                guard_config(config, None, custom_objects if isinstance(custom_objects, dict) else None)
        return original(*args, **kwargs)

    def translating(*args: Any, **kwargs: Any) -> Any:
        # install(translate=True): the config translated (keras_deser.translation), then as above.
        if loader_translation() and (args or "config" in kwargs):
            config = args[0] if args else kwargs.pop("config")
            custom_objects = args[1] if len(args) > 1 else kwargs.get("custom_objects")
            return run_translated(
                lambda new: deserialize_keras_object(new, *args[1:], **kwargs), config, custom_objects
            )
        return deserialize_keras_object(*args, **kwargs)

    translating.__name__ = translating.__qualname__ = "deserialize_keras_object"
    translating.__doc__ = original.__doc__
    translating.__wrapped__ = original  # type: ignore[attr-defined]
    translating.__keras_deser__ = True  # type: ignore[attr-defined]
    return translating


def _candidates(hidden_attribute: str | None) -> list[types.ModuleType]:
    """Every module in ``sys.modules`` and the hidden API modules they wrap."""
    modules: list[types.ModuleType] = []
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        modules.append(module)
        if hidden_attribute is not None:
            wrapped = namespace.get(hidden_attribute)
            if isinstance(wrapped, types.ModuleType):
                modules.append(wrapped)
    return modules


def _patch_module(module: types.ModuleType, originals: dict[Function, Function]) -> list[Site]:
    """Patch the same-named attributes of ``module`` that hold an original."""
    sites: list[Site] = []
    namespace = module.__dict__
    for name in _NAMES + tuple(sorted(_INSTALLED.names)):
        value = namespace.get(name)
        if value is None:
            continue
        try:
            replacement = originals.get(value)
        except TypeError:  # an unhashable object under that name
            continue
        if replacement is not None:
            site = _INSTALLED.patches.apply(module, name, value, replacement)
            if site is not None:
                sites.append(site)
    return sites


def _loaded_attribute(obj: Any, name: str, hidden: str | None) -> Any:
    """``obj.name`` if already loaded, else ``None``; never runs a lazy loader.

    Reads the namespace (and that of a module wrapper's hidden module), then
    ``sys.modules`` for a submodule; TensorFlow's lazy loaders would import
    whole API trees on attribute access, and an import under the installer's
    lock could deadlock with another thread's import.
    """
    namespace = getattr(obj, "__dict__", None)
    if isinstance(namespace, dict):
        if name in namespace:
            return namespace[name]
        wrapped = namespace.get(hidden) if hidden is not None else None
        if isinstance(wrapped, types.ModuleType) and name in vars(wrapped):
            return vars(wrapped)[name]
    if isinstance(obj, types.ModuleType) and isinstance(namespace, dict):
        return sys.modules.get(f"{namespace.get('__name__')}.{name}")
    return None


def _resolve_alias(alias: str, hidden: str | None) -> Any:
    """The object at ``package:dotted.path``, or ``None`` when the release
    lacks it or has not loaded it yet (the import hook patches it then)."""
    package, _, dotted = alias.partition(":")
    obj: Any = sys.modules.get(package)
    for part in dotted.split("."):
        if obj is None:
            return None
        obj = _loaded_attribute(obj, part, hidden)
    return obj


def _unreached_aliases(binding: Binding, originals: Collection[Function]) -> list[str]:
    """The row's public aliases that are loaded and still name an original."""
    unreached = []
    for alias in binding.flavour.public_aliases:
        target = _resolve_alias(alias, binding.hidden_api_modules)
        if any(target is original for original in originals):
            unreached.append(alias)
    return unreached


def _resolve_force(force: bool | str, flavour: str | None) -> tuple[bool, str | None]:
    """``(force, flavour)`` from the arguments, accepting the old string form."""
    if isinstance(force, str):
        warnings.warn(
            f"install(force={force!r}) is deprecated: pass install(flavour={force!r}) "
            "(and force=True to also allow an untested version)",
            DeprecationWarning,
            stacklevel=3,
        )
        if flavour is not None and flavour != force:
            raise ValueError(f"install(force={force!r}, flavour={flavour!r}): two different flavours")
        return True, force
    if not isinstance(force, bool):
        raise TypeError(f"install(force=...) takes True or False, not {force!r}")
    if flavour is not None and not isinstance(flavour, str):
        raise TypeError(f"install(flavour=...) takes a flavour name, not {flavour!r}")
    return force, flavour


def install(
    force: bool | str = False,
    safe_mode: bool | None = None,
    trusted: Collection[Any] = (),
    flavour: str | None = None,
    translate: bool | None = None,
) -> list[str]:
    """Route every call of upstream's 4-argument function through keras_deser.

    Binds to the loaded TensorFlow/Keras (see :func:`keras_deser.bind`) and
    patches every module attribute named ``deserialize_keras_object`` or
    ``class_and_config_for_serialized_keras_object`` that holds upstream's
    function, now and in modules imported later (other names are left
    alone; see ``docs/install.md``).  Idempotent: a second call patches only
    what appeared since.  Returns the ``module:attribute`` labels of all
    sites patched.

    Raises :class:`NotInstallableError` when no Keras is loaded, its layout
    is unknown, its version lies outside the range the flavour row was tested
    with, or a public alias of the row still reaches upstream's function
    after patching.  ``force=True`` installs an untested version anyway;
    ``flavour='<flavour name>'`` binds that layout instead of detecting one
    (the old ``force='<flavour name>'`` still works, with a
    ``DeprecationWarning``, and means ``flavour=..., force=True``).
    ``safe_mode=True`` also turns safe mode on for the whole process (with
    ``trusted`` names or objects), ``False`` turns it off; ``None`` leaves it.
    ``translate=True`` makes the loaders translate configs of other releases
    for the loaded one (:mod:`keras_deser.translation`); ``False`` stops
    that; ``None`` leaves it (off unless turned on).
    """
    force, flavour = _resolve_force(force, flavour)
    if safe_mode is not None:
        set_safe_mode(safe_mode, trusted=trusted)
    if translate is not None:
        set_loader_translation(translate)
    with _INSTALLED.lock:
        binding = _bind_for_install(force, flavour)
        originals = _INSTALLED.originals
        for original, replacement in _originals(binding).items():
            originals.setdefault(original, replacement)
        if loader_translation():  # install(translate=True): the loaders that need more than the hook
            for original, replacement in _translation_originals(binding).items():
                originals.setdefault(original, replacement)
            _patch_from_configs(binding)
        for module in _candidates(binding.hidden_api_modules):
            _patch_module(module, originals)
        if loader_translation():  # .keras archives of other releases (keras_deser.archives)
            from .archives import patch_loaders

            patch_loaders(_INSTALLED.patches, _candidates(binding.hidden_api_modules))
        if _INSTALLED.hook is None:
            _INSTALLED.hook = PostImportHook(_patch_late_import).install()
        unreached = _unreached_aliases(binding, originals)
        if unreached:
            uninstall()
            raise NotInstallableError(
                f"keras_deser could not reach {', '.join(unreached)} (flavour {binding.flavour.name!r}): "
                "uninstalled again; please report this layout"
            )
        return installed_sites()


def uninstall() -> list[str]:
    """Put every original back, by identity; return the sites restored.

    Only sites that still hold keras_deser's object are restored; one that
    something else re-patched after us is left alone with a
    :class:`keras_deser.RepatchedWarning`.
    """
    with _INSTALLED.lock:
        if _INSTALLED.hook is not None:
            _INSTALLED.hook.remove()
            _INSTALLED.hook = None
        restored, _left = _INSTALLED.patches.revert()
        set_loader_translation(False)
        _INSTALLED.originals = {}
        _INSTALLED.names = set()
        return [site.label for site in restored]


@contextlib.contextmanager
def patched(
    force: bool | str = False,
    safe_mode: bool | None = None,
    trusted: Collection[Any] = (),
    flavour: str | None = None,
    translate: bool | None = None,
) -> Iterator[list[str]]:
    """Context manager: installed inside the block, as before after it.

    Takes :func:`install`'s arguments.  If keras_deser was already installed
    on entry it stays installed (and loader translation returns to what it
    was).
    """
    was_installed = is_installed()
    was_translating = loader_translation()
    sites = install(force=force, safe_mode=safe_mode, trusted=trusted, flavour=flavour, translate=translate)
    try:
        yield sites
    finally:
        if not was_installed:
            uninstall()
        set_loader_translation(was_translating)


def _patch_late_translation(binding: Binding, module: types.ModuleType) -> None:
    """What a module imported after ``install(translate=True)`` adds of the translating sites."""
    if not loader_translation():
        return
    name = module.__name__
    if any(name == site[0] for site in binding.flavour.kind_deserializers):
        for original, replacement in _translation_originals(binding).items():
            _INSTALLED.originals.setdefault(original, replacement)
        for candidate in _candidates(binding.hidden_api_modules):
            _patch_module(candidate, _INSTALLED.originals)
    elif any(name == site[0] for site in binding.flavour.model_from_configs):
        _patch_from_configs(binding, only=name)


def _patch_late_import(module: types.ModuleType, loaded: bool) -> None:
    """Patch what a module imported after ``install()`` bound."""
    if not loaded:
        return
    with _INSTALLED.lock:
        originals = _INSTALLED.originals
        if not originals:
            return
        _patch_module(module, originals)
        binding = _state.binding
        _patch_late_translation(binding, module)
        hidden = binding.hidden_api_modules
        wrapped = module.__dict__.get(hidden) if hidden is not None else None
        if isinstance(wrapped, types.ModuleType):
            _patch_module(wrapped, originals)
