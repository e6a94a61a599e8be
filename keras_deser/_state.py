"""The bound state every keras_deser function reads, resolved lazily.

Attributes such as ``registry`` or ``lookup`` do not exist until first read:
the module-level ``__getattr__`` (PEP 562) then detects the live Keras, binds
to it and stores the results as plain module attributes, so every later read
is an ordinary attribute lookup with no check on the hot path.
"""

import threading

from . import binding as _binding

_FIELDS = frozenset(
    (
        "binding",
        "flavour",
        "registry",
        "names",
        "store",
        "lookup",
        "loading",
        "saving",
        "disabled",
        "isclass",
        "isfunction",
        "takes_custom_objects",
        "takes_cache",
        "unwrap",
    )
)
_LOCK = threading.RLock()
_SUBSCRIBERS = []


def subscribe(callback):
    """Call ``callback(this_module)`` after every binding (and now, if bound).

    For hot paths that keep references to bound state in their own globals.
    """
    _SUBSCRIBERS.append(callback)
    if is_bound():
        callback(_this())


def _this():
    import sys

    return sys.modules[__name__]


def bind(flavour=None):
    """Bind to ``flavour`` (a row or its name), or to what is loaded now."""
    with _LOCK:
        new = _binding.resolve(flavour)
        introspector = new.introspector
        globals().update(
            binding=new,
            flavour=new.flavour,
            registry=new.registry,
            names=new.names,
            store=new.store,
            lookup=new.store.lookup,
            loading=new.loading,
            saving=new.saving,
            disabled=new.disabled,
            isclass=introspector.isclass,
            isfunction=introspector.isfunction,
            takes_custom_objects=introspector.takes_custom_objects,
            takes_cache=introspector.takes_cache,
            unwrap=introspector.unwrap,
        )
        module = _this()
        for callback in _SUBSCRIBERS:
            callback(module)
        return new


def is_bound():
    """True once the state has been resolved."""
    return "binding" in globals()


def __getattr__(name):
    if name in _FIELDS:
        with _LOCK:
            if name not in globals():
                bind()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
