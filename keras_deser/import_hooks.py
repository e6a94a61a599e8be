"""One post-import hook primitive: run a callback when a module has loaded.

:class:`PostImportHook` is a ``sys.meta_path`` entry that finds nothing
itself: it asks the finders after it, and wraps the loader of what they find
so that ``before(name)`` runs before the module's code and
``after(module, loaded)`` right after it (``loaded`` is False when the
module's code raised; the exception then goes on as usual).  The installer uses it to patch modules imported
after ``install()``; the activation switch to install once TensorFlow or
Keras has finished importing.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

__all__ = ["PostImportHook"]


class PostImportHook:
    """``sys.meta_path`` entry calling ``after(module, loaded)`` after a module ran.

    ``wants(fullname)`` chooses the modules to watch (all by default);
    ``before(fullname)`` runs just before the module's code.
    """

    def __init__(
        self,
        after: Callable[[Any, bool], None],
        wants: Callable[[str], bool] | None = None,
        before: Callable[[str], None] | None = None,
    ) -> None:
        self.after = after
        self.wants = wants
        self.before = before

    def install(self) -> PostImportHook:
        """Put the hook first in ``sys.meta_path`` (once)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)
        return self

    def remove(self) -> None:
        """Take the hook out of ``sys.meta_path`` (if it is there)."""
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if self.wants is not None and not self.wants(fullname):
            return None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader, self)  # type: ignore[assignment]
                return spec
        return None


class _Loader:
    """Wraps a loader: ``before``, the module's own code, then ``after``."""

    def __init__(self, loader: Any, hook: PostImportHook) -> None:
        self._loader = loader
        self._hook = hook

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        hook = self._hook
        if hook.before is not None:
            hook.before(module.__name__)
        loaded = False
        try:
            self._loader.exec_module(module)
            loaded = True
        finally:
            hook.after(module, loaded)
