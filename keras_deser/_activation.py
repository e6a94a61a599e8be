"""The no-code-change switch: install keras_deser when Keras is imported.

Set ``KERAS_DESER_INSTALL=1`` in the environment of any Python process that
has keras_deser installed.  The ``keras_deser_activate.pth`` file shipped
with the package calls :func:`activate` at interpreter start-up when the
variable is set; it then waits for ``tensorflow``, ``keras`` or ``tf_keras``
to finish importing and calls :func:`keras_deser.install` right after, so
code that cannot be edited loads its models through keras_deser.

``KERAS_DESER_INSTALL=safe`` also turns safe mode on, process-wide, where the
installed keras_deser supports it; ``translate`` makes the loaders translate
configs of other releases (:mod:`keras_deser.translation`), and
``safe,translate`` does both.  A failure to install is reported as a
warning; it never breaks the import that triggered it.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings

from .flavours import UPSTREAM_PACKAGES
from .import_hooks import PostImportHook

__all__ = ["activate", "ENV_VAR", "WATCHED"]

ENV_VAR = "KERAS_DESER_INSTALL"
#: Top-level packages whose import triggers the installation.
WATCHED = UPSTREAM_PACKAGES

_LOCK = threading.RLock()


class _Activation:
    """The switch's state: its import hook, the nesting depth, done or not."""

    def __init__(self) -> None:
        self.hook: PostImportHook | None = None
        #: Watched imports under way (TensorFlow imports Keras inside its own).
        self.depth = 0
        self.done = False


_STATE = _Activation()


def activate(mode: str | None = None) -> None:
    """Install keras_deser as soon as a watched package has been imported.

    Idempotent.  ``mode`` defaults to the environment variable's value.
    """
    mode = (mode if mode is not None else os.environ.get(ENV_VAR, "1")).strip().lower()
    with _LOCK:
        if _STATE.hook is not None or _STATE.done:
            return
        if any(name in sys.modules for name in WATCHED):
            _install(mode)
            return
        _STATE.hook = _watch(mode).install()


def _install(mode: str) -> None:
    _STATE.done = True
    hook = _STATE.hook
    if hook is not None:
        hook.remove()
        _STATE.hook = None
    try:
        import keras_deser

        modes = {part.strip() for part in mode.split(",")}  # "safe", "translate", "safe,translate"
        keras_deser.install(
            safe_mode=True if "safe" in modes else None, translate=True if "translate" in modes else None
        )
    except Exception as error:  # never break the user's import
        warnings.warn(f"{ENV_VAR}: keras_deser could not install: {error}", RuntimeWarning, stacklevel=2)


def _watch(mode: str) -> PostImportHook:
    """The hook: count nested watched imports, install after the outermost.

    TensorFlow imports Keras from inside its own ``__init__``; installing
    then would see a half-built ``tf``.
    """

    def wants(fullname: str) -> bool:
        return fullname in WATCHED and not _STATE.done

    def before(_name: str) -> None:
        _STATE.depth += 1

    def after(_module: object, loaded: bool) -> None:
        _STATE.depth -= 1
        if loaded and _STATE.depth == 0 and not _STATE.done:
            with _LOCK:
                if not _STATE.done:
                    _install(mode)

    return PostImportHook(after, wants=wants, before=before)
