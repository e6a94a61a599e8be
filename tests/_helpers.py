"""Helpers shared by the upstream-integration tests (one home for each).

The environment facts themselves (``UPSTREAM``, ``EXPECT``) and the
fixtures live in ``conftest.py``; this module holds plain functions that
the test files import: running code in a fresh interpreter, reaching the
loaded Keras's public API, resolving ``package:dotted.path`` aliases,
upstream's 4-argument function as the binding sees it, and running code
with keras_deser taken out.
"""

import gc
import os
import subprocess
import sys
import textwrap
import types

from keras_deser import _state


def run_python(code, extra_path=None, check=False):
    """Run ``code`` (dedented) in a fresh interpreter of this environment.

    ``KERAS_DESER_INSTALL`` is removed so the switch does not act;
    ``extra_path`` goes first on ``PYTHONPATH``.  With ``check`` the exit
    status must be 0 and stdout's lines are returned; otherwise the
    ``CompletedProcess``.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("KERAS_DESER_INSTALL", None)
    if extra_path:
        env["PYTHONPATH"] = extra_path + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env)
    if not check:
        return proc
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()


def keras_api():
    """The public Keras API of the loaded upstream (``tf.keras`` when
    TensorFlow is loaded, else ``keras`` / ``tf_keras``), or None."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"].keras
    for name in ("keras", "tf_keras"):
        if name in sys.modules:
            return sys.modules[name]
    return None


def resolve(alias):
    """The object at ``package:dotted.path`` (attribute access), or None."""
    package, dotted = alias.split(":")
    obj = sys.modules.get(package)
    if obj is None:
        return None
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def legacy_function():
    """What the bound legacy module holds as ``deserialize_keras_object`` now."""
    return vars(_state.binding.legacy_module)["deserialize_keras_object"]


def gc_module_holders(obj):
    """Module objects (in sys.modules or not) whose namespace holds ``obj``,
    found through the garbage collector (slow; for checking the installer)."""
    return [
        owner
        for referrer in gc.get_referrers(obj)
        if isinstance(referrer, dict)
        for owner in gc.get_referrers(referrer)
        if isinstance(owner, types.ModuleType) and owner.__dict__ is referrer
    ]


def without_install(function):
    """``function()`` with keras_deser uninstalled, installed again after if it was."""
    import keras_deser

    was = keras_deser.is_installed()
    if was:
        keras_deser.uninstall()
    try:
        return function()
    finally:
        if was:
            keras_deser.install()
