"""Install keras_deser into a running TensorFlow/Keras, and take it out again.

``install()`` replaces upstream's 4-argument ``deserialize_keras_object`` and
its helper ``class_and_config_for_serialized_keras_object`` at every place
that holds them: the defining module, every module that bound them by value
(``from ... import deserialize_keras_object``), public aliases such as
``tf.keras.utils`` and ``tf.compat.v1.keras.utils``, API module objects that
are not in ``sys.modules`` (TensorFlow 1.15, 2.3, 2.4: found through the
garbage collector's referrers), and modules imported afterwards (an import
hook patches them as they load).

The newer ``(config, custom_objects=None, safe_mode=True, **kwargs)``
function that ``tf.keras.utils.deserialize_keras_object`` names from
TensorFlow 2.13 on (and in tf_keras and Keras 3) keeps its behaviour: its
callers pass arguments the 4-argument function does not take, and it
already routes old-format configs to the 4-argument function, which is
replaced.  It is served by a pass-through that hands every call to it
unchanged, and only while keras_deser's safe mode is on audits the config
first (so a ``module`` key cannot make it import new code).

The other helpers (registry, scopes, ``get_registered_object``) are not
patched: keras_deser already reads and writes upstream's own registry and
scope storage, so upstream's helpers and keras_deser's agree.
"""

import contextlib
import gc
import sys
import threading
import types

from . import _state
from .binding import UnknownUpstreamError, tested_version
from .import_hooks import PostImportHook
from .patching import PatchSet
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

#: Upstream attributes replaced, with keras_deser's replacement factory.
_REPLACED_NAMES = ("deserialize_keras_object", "class_and_config_for_serialized_keras_object")

_LOCK = threading.RLock()
_PATCHES = PatchSet()
_CALLS = [0]


class NotInstallableError(RuntimeError):
    """keras_deser cannot (or will not) install into what is loaded."""


def _entry(identifier, module_objects=None, custom_objects=None, printable_module_name="object"):
    _CALLS[0] += 1
    if loader_translation():  # install(translate=True): keras_deser.translation
        return run_translated(
            lambda config: deserialize_keras_object(config, module_objects, custom_objects, printable_module_name),
            identifier,
            custom_objects,
        )
    return deserialize_keras_object(identifier, module_objects, custom_objects, printable_module_name)


_entry.__name__ = _entry.__qualname__ = "deserialize_keras_object"
_entry.__doc__ = deserialize_keras_object.__doc__
_entry.__wrapped__ = deserialize_keras_object
_entry.__keras_deser__ = True

_REPLACEMENTS = {
    "deserialize_keras_object": _entry,
    "class_and_config_for_serialized_keras_object": class_and_config_for_serialized_keras_object,
}


class _Installation:
    """What the current installation replaced: ``{original: replacement}``."""

    def __init__(self):
        self.originals = {}
        self.flavour = None
        self.hook = None


_INSTALLED = _Installation()


def original_of(obj):
    """The upstream object ``obj`` replaced, or ``obj`` if it replaced none."""
    for original, replacement in list(_INSTALLED.originals.items()):
        if replacement is obj:
            return original
    return obj


def call_count():
    """How many calls upstream routed through the installed function so far."""
    return _CALLS[0]


def is_installed():
    """True while keras_deser is installed."""
    return bool(_INSTALLED.originals)


def installed_sites():
    """``module:attribute`` labels of every site currently patched."""
    return [site.label for site in _PATCHES]


def _bind_for_install(force):
    try:
        binding = _state.bind(force if isinstance(force, str) else None)
    except UnknownUpstreamError as error:
        raise NotInstallableError(
            f"{error} — keras_deser will not install into a Keras layout it does not know; "
            "pass install(force='<flavour name>') to use a known layout anyway"
        ) from error
    if binding.legacy_module is None:
        raise NotInstallableError(
            "no TensorFlow or Keras is loaded: import tensorflow (or keras) before keras_deser.install()"
        )
    version, tested = tested_version(binding.flavour)
    if not tested and not force:
        lowest, too_new = binding.flavour.tested[1]
        raise NotInstallableError(
            f"keras_deser was not tested with {binding.flavour.tested[0].split(':')[0]} {version} "
            f"(flavour {binding.flavour.name!r} is tested from {lowest} up to, not including, {too_new}); "
            "pass install(force=True) to install anyway"
        )
    return binding


def _originals(binding):
    namespace = vars(binding.legacy_module)
    originals = {}
    for name in _REPLACED_NAMES:
        original = namespace.get(name)
        if original is None or getattr(original, "__keras_deser__", False):
            continue
        if original is _REPLACEMENTS[name]:
            continue
        originals[original] = _REPLACEMENTS[name]
    for original in _new_signature_functions(binding):
        originals[original] = _guarded_new(original)
    return originals


def _new_signature_functions(binding):
    """Upstream's ``(config, custom_objects=None, safe_mode=True, **kwargs)`` functions.

    Found as the ``deserialize_keras_object`` attributes, within the bound
    Keras's own package, of functions taking ``safe_mode``.
    """
    package = binding.flavour.registry_module.split(".")[0]
    found = {}
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] != package:
            continue
        function = getattr(module, "__dict__", {}).get("deserialize_keras_object")
        if function is None or id(function) in found or getattr(function, "__keras_deser__", False):
            continue
        code = getattr(function, "__code__", None)
        if code is not None and "safe_mode" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
            found[id(function)] = function
    return list(found.values())


def _guarded_new(original):
    """A pass-through for upstream's new-signature function.

    Every call goes to ``original`` unchanged; while keras_deser's safe mode
    is on, the config is audited first (Lambda bytecode, factories,
    dangerous functions, ``module`` keys that would import new code) and
    refused with :class:`keras_deser.UnsafeConfigError`.
    """

    def deserialize_keras_object(*args, **kwargs):
        if is_safe_mode():
            config = args[0] if args else kwargs.get("config")
            custom_objects = args[1] if len(args) > 1 else kwargs.get("custom_objects")
            if isinstance(config, (dict, str)):
                guard_config(config, None, custom_objects if isinstance(custom_objects, dict) else None)
        return original(*args, **kwargs)

    def translating(*args, **kwargs):
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
    translating.__wrapped__ = original
    translating.__keras_deser__ = True
    return translating


def _module_holders(obj):
    """Module objects whose namespace holds ``obj`` (in sys.modules or not)."""
    modules = {id(m): m for m in list(sys.modules.values()) if isinstance(m, types.ModuleType)}
    holders = []
    for referrer in gc.get_referrers(obj):
        if not isinstance(referrer, dict) or "__name__" not in referrer:
            continue
        for owner in gc.get_referrers(referrer):
            if isinstance(owner, types.ModuleType) and owner.__dict__ is referrer:
                holders.append(owner)
    for module in modules.values():
        namespace = getattr(module, "__dict__", None)
        if isinstance(namespace, dict) and module not in holders:
            if any(value is obj for value in list(namespace.values())):
                holders.append(module)
    return holders


def _patch_module(module, originals):
    """Patch every attribute of ``module`` holding an original; return sites."""
    sites = []
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict):
        return sites
    for attribute, value in list(namespace.items()):
        try:
            replacement = originals.get(value)
        except TypeError:  # unhashable attribute value
            continue
        if replacement is not None:
            site = _PATCHES.apply(module, attribute, value, replacement)
            if site is not None:
                sites.append(site)
    return sites


def install(force=False, safe_mode=None, trusted=(), translate=None):
    """Route every call of upstream's 4-argument function through keras_deser.

    Binds to the loaded TensorFlow/Keras (see :func:`keras_deser.bind`) and
    patches every site holding upstream's ``deserialize_keras_object`` or
    ``class_and_config_for_serialized_keras_object``, now and in modules
    imported later.  Idempotent: a second call patches only what appeared
    since.  Returns the ``module:attribute`` labels of all sites patched.

    Raises :class:`NotInstallableError` when no Keras is loaded, its layout
    is unknown, or its version lies outside the range the flavour row was
    tested with; ``force=True`` installs an untested version anyway, and
    ``force='<flavour name>'`` installs using that layout.
    ``safe_mode=True`` also turns safe mode on for the whole process (with
    ``trusted`` names or objects), ``False`` turns it off; ``None`` leaves it.
    ``translate=True`` makes the loaders translate configs of other releases
    for the loaded one (:mod:`keras_deser.translation`); ``False`` stops
    that; ``None`` leaves it (off unless turned on).
    """
    if safe_mode is not None:
        set_safe_mode(safe_mode, trusted=trusted)
    if translate is not None:
        set_loader_translation(translate)
    with _LOCK:
        binding = _bind_for_install(force)
        originals = dict(_INSTALLED.originals)
        originals.update(_originals(binding))
        _INSTALLED.originals = originals
        _INSTALLED.flavour = binding.flavour.name
        for original in list(originals):
            for module in _module_holders(original):
                _patch_module(module, originals)
        if _INSTALLED.hook is None:
            _INSTALLED.hook = PostImportHook(_patch_late_import).install()
        return installed_sites()


def uninstall():
    """Put every original back, by identity; return the sites restored.

    Only sites that still hold keras_deser's object are restored; one that
    something else re-patched after us is left alone with a
    :class:`keras_deser.patching.RepatchedWarning`.
    """
    with _LOCK:
        if _INSTALLED.hook is not None:
            _INSTALLED.hook.remove()
            _INSTALLED.hook = None
        restored, _left = _PATCHES.revert()
        set_loader_translation(False)
        _INSTALLED.originals = {}
        _INSTALLED.flavour = None
        return [site.label for site in restored]


@contextlib.contextmanager
def patched(force=False, safe_mode=None, trusted=(), translate=None):
    """Context manager: installed inside the block, as before after it.

    If keras_deser was already installed on entry it stays installed (and
    loader translation returns to what it was).
    """
    was_installed = is_installed()
    was_translating = loader_translation()
    sites = install(force=force, safe_mode=safe_mode, trusted=trusted, translate=translate)
    try:
        yield sites
    finally:
        if not was_installed:
            uninstall()
        set_loader_translation(was_translating)


def _patch_late_import(module, loaded):
    """Patch what a module imported after ``install()`` bound."""
    if loaded:
        with _LOCK:
            if _INSTALLED.originals:
                _patch_module(module, _INSTALLED.originals)
