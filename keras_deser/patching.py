"""One patch primitive: replace a module attribute, remember, put it back.

Modelled on ``wrapt``'s and OpenTelemetry's instrumentors: every patched site
is recorded with its original; reverting restores the original by identity,
and only where the attribute still holds our replacement.  A site that
someone else re-patched after us is left alone and reported.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any, Iterator, NamedTuple

__all__ = ["Site", "PatchSet", "RepatchedWarning"]


class RepatchedWarning(UserWarning):
    """A patched site no longer holds keras_deser's object; left as it is."""


class Site(NamedTuple):
    """One attribute of one module object, with what it held before."""

    module: Any
    attribute: str
    original: Any
    replacement: Any

    @property
    def label(self) -> str:
        """``module.name:attribute`` (``module.Class:attribute`` for a class), for reports."""
        name = getattr(self.module, "__name__", None) or repr(self.module)
        if isinstance(self.module, type):
            name = f"{self.module.__module__}.{self.module.__qualname__}"
        return f"{name}:{self.attribute}"


class PatchSet:
    """The sites one installation owns.  Thread-safe; idempotent per site."""

    def __init__(self) -> None:
        self._sites: list[Site] = []
        self._lock = threading.RLock()

    def __iter__(self) -> Iterator[Site]:
        with self._lock:
            return iter(list(self._sites))

    def __len__(self) -> int:
        return len(self._sites)

    def owns(self, module: Any, attribute: str) -> bool:
        """True if this set already patched ``module.attribute``."""
        with self._lock:
            return any(site.module is module and site.attribute == attribute for site in self._sites)

    def apply(self, module: Any, attribute: str, original: Any, replacement: Any) -> Site | None:
        """Replace ``module.attribute`` (which must be ``original``).

        Returns the new :class:`Site`, or ``None`` when the attribute no
        longer holds ``original`` or this set owns it already.
        """
        with self._lock:
            if self.owns(module, attribute):
                return None
            if module.__dict__.get(attribute) is not original:
                return None
            setattr(module, attribute, replacement)
            site = Site(module, attribute, original, replacement)
            self._sites.append(site)
            return site

    def revert(self) -> tuple[list[Site], list[Site]]:
        """Put every original back; return ``(restored, left_alone)`` sites.

        A site whose attribute no longer holds our replacement was changed by
        someone else after us: it is left as it is, with a
        :class:`RepatchedWarning`.
        """
        restored: list[Site] = []
        left: list[Site] = []
        with self._lock:
            for site in reversed(self._sites):
                current = site.module.__dict__.get(site.attribute)
                if current is site.replacement:
                    setattr(site.module, site.attribute, site.original)
                    restored.append(site)
                elif current is site.original:
                    # Restored already through another view of the same
                    # namespace (TensorFlow's TFModuleWrapper forwards writes).
                    restored.append(site)
                else:
                    left.append(site)
            self._sites = []
        for site in left:
            warnings.warn(
                f"keras_deser: {site.label} was changed after keras_deser patched it; "
                "leaving it as it is",
                RepatchedWarning,
                stacklevel=3,
            )
        return restored, left
