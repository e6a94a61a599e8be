"""Test-session setup shared by every environment of the compat matrix.

``compat/run.py`` sets ``KERAS_DESER_UPSTREAM`` (the package to import
before anything binds, e.g. ``tensorflow``) and ``KERAS_DESER_EXPECT`` (the
flavour keras_deser must then detect).  A mismatch fails the whole run: an
environment that silently lost its upstream must not pass by skipping.

This is the one place those variables are read: test files import
``UPSTREAM`` / ``EXPECT`` from here.  Tests marked ``upstream``
(``@needs_upstream``) are skipped in the core environments (no upstream);
the fixtures ``K`` (the loaded Keras's public API) and ``clean_install``
serve the upstream-integration tests.  Plain helper functions shared by
those tests are in ``tests/_helpers.py``.

Where each concern is tested: ``test_binding`` (detection and what is
bound), ``test_upstream_interplay`` (one registry, one scope and one
shared-object scope with upstream), ``test_real_keras`` (real Keras objects
loaded by keras_deser), ``test_install`` (``install()``/``uninstall()``
themselves: sites, the rule, restore, refusals), ``test_install_routes``
(upstream's own loaders once installed), ``test_threads`` (concurrency),
``test_import`` (import cost and the public surface).
"""

import importlib
import os

import pytest

UPSTREAM = os.environ.get("KERAS_DESER_UPSTREAM", "")
EXPECT = os.environ.get("KERAS_DESER_EXPECT", "")

if UPSTREAM:
    importlib.import_module(UPSTREAM)


#: Marks a test that needs the environment's upstream Keras.
needs_upstream = pytest.mark.upstream


def pytest_collection_modifyitems(config, items):
    if UPSTREAM:
        return
    skip = pytest.mark.skip(reason="core environment: no TensorFlow/Keras here")
    for item in items:
        if item.get_closest_marker("upstream") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def K():
    """The loaded Keras's public API: ``tf.keras``, else ``keras``."""
    if not UPSTREAM:
        pytest.skip("core environment: no TensorFlow/Keras here")
    module = importlib.import_module(UPSTREAM)
    return module.keras if UPSTREAM == "tensorflow" else module


@pytest.fixture
def clean_install():
    """Starts with keras_deser not installed; uninstalls whatever the test installed."""
    import keras_deser

    assert not keras_deser.is_installed()
    try:
        yield
    finally:
        keras_deser.uninstall()


@pytest.fixture
def safe_installed():
    """keras_deser installed in safe mode for the test; uninstalled and safe mode off after it."""
    import keras_deser

    keras_deser.install(safe_mode=True)
    try:
        yield
    finally:
        keras_deser.uninstall()
        keras_deser.set_safe_mode(False)


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
