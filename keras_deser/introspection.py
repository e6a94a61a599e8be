"""Class, function and signature checks, as Keras's ``tf_inspect`` makes them.

Keras 2.9 asks ``keras.utils.tf_inspect``: ``isclass`` and ``isfunction``
look through TensorFlow decorators (``tf_decorator.unwrap``) before asking
:mod:`inspect`, and ``getfullargspec`` prefers a decorator's declared
argspec.  keras_deser builds the same checks around whichever ``unwrap`` the
bound flavour provides, or plain :mod:`inspect` when no TensorFlow is loaded.

Whether ``from_config`` takes ``custom_objects`` is decided once per
``from_config`` function and cached (Keras 2.9 runs ``getfullargspec`` for
every object).
"""

import inspect
from typing import Any, Callable

__all__ = ["Introspector"]

_CACHE_LIMIT = 4096


class Introspector:
    """``isclass``, ``isfunction`` and ``takes_custom_objects`` for one world.

    ``unwrap`` is TensorFlow's ``tf_decorator.unwrap`` (returning
    ``(decorators, target)``) or ``None``.
    """

    def __init__(self, unwrap=None):
        self.unwrap = unwrap
        self.isclass: Callable[[Any], bool]
        self.isfunction: Callable[[Any], bool]
        if unwrap is None:
            self.isclass = inspect.isclass
            self.isfunction = inspect.isfunction
        else:
            isclass, isfunction = inspect.isclass, inspect.isfunction

            def tf_isclass(obj: Any) -> bool:
                return isclass(unwrap(obj)[1])

            def tf_isfunction(obj: Any) -> bool:
                return isfunction(unwrap(obj)[1])

            self.isclass = tf_isclass
            self.isfunction = tf_isfunction
        self.takes_cache = {}

    def positional_args(self, fn):
        """The ``args`` of ``fn``'s full argspec, decorators honoured."""
        target = fn
        if self.unwrap is not None:
            decorators, target = self.unwrap(fn)
            for decorator in decorators:
                argspec = decorator.decorator_argspec
                if argspec is not None:
                    return argspec.args
        return inspect.getfullargspec(target).args

    def takes_custom_objects(self, from_config):
        """True when ``custom_objects`` is a positional parameter of it.

        Cached by the underlying function (``__func__`` of a bound method),
        so classes sharing an inherited ``from_config`` share one entry.
        Errors from signature inspection are raised every time, uncached.
        """
        key = getattr(from_config, "__func__", from_config)
        try:
            return self.takes_cache[key]
        except KeyError:
            pass
        except TypeError:  # unhashable callable: decide every time
            return "custom_objects" in self.positional_args(from_config)
        takes = "custom_objects" in self.positional_args(from_config)
        if len(self.takes_cache) >= _CACHE_LIMIT:
            self.takes_cache.clear()
        self.takes_cache[key] = takes
        return takes
