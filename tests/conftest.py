"""Test-session setup shared by every environment of the compat matrix.

``compat/run.py`` sets ``KERAS_DESER_UPSTREAM`` (the package to import
before anything binds, e.g. ``tensorflow``) and ``KERAS_DESER_EXPECT`` (the
flavour keras_deser must then detect).  A mismatch fails the whole run: an
environment that silently lost its upstream must not pass by skipping.
"""

import importlib
import os

import pytest

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "")
EXPECT = os.environ.get("KERAS_DESER_EXPECT", "")

if UPSTREAM:
    importlib.import_module(UPSTREAM)


def pytest_sessionstart(session):
    if not EXPECT:
        return
    import keras_deser

    detected = keras_deser.bind()["flavour"]
    if detected != EXPECT:
        raise pytest.UsageError(
            f"compat environment {os.environ.get('KERAS_DESER_ENV')!r} expects flavour {EXPECT!r}, detected {detected!r}"
        )


def pytest_report_header(config):
    import keras_deser

    info = keras_deser.upstream_info()
    return f"keras_deser bound to {info['flavour']} (tensorflow {info['tensorflow_version']}, keras {info['keras_version']})"


def upstream_flavour():
    """The flavour this run is bound to."""
    import keras_deser

    return keras_deser.upstream_info()["flavour"]
