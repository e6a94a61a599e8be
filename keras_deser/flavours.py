"""The table of upstream Keras layouts keras_deser knows how to bind to.

Every fact about *where* an upstream release keeps its serialization state
lives in :data:`FLAVOURS`, one row per layout, in the spirit of ``six``'s
table of moves.  The code that reads the table (:mod:`keras_deser.binding`)
is generic: it never asks for a version number.

A row is matched against what is already imported: the live
``get_custom_objects`` function (reached through ``tf.keras.utils``,
``keras.utils`` or ``tf_keras.utils``) is looked up, and the first row whose
``registry_module`` is that function's ``__module__`` and whose ``requires``
attributes all exist in that module's globals wins.  Rows that share a module
name are told apart by ``requires`` and must be ordered most specific first.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "Flavour", "FLAVOURS", "STANDALONE", "ENTRY_ROUTES", "KERAS_NAMESPACES", "UPSTREAM_PACKAGES", "ARCHIVE_LOADERS",
    "by_name",
]

#: TensorFlow's decorator module under the names it has been imported as.
_TF_DECORATOR = ("tensorflow.python.util.tf_decorator", "tensorflow_core.python.util.tf_decorator")


class Flavour(NamedTuple):
    """Where one upstream layout keeps its serialization machinery.

    Module names are import paths as they appear in ``sys.modules`` (or, for
    ``registry_module``, as the ``__module__`` of ``get_custom_objects``).
    """

    #: Short stable identifier, used in reports and in ``install(flavour=...)``.
    name: str
    #: The releases this row describes, for people.
    releases: str
    #: Module that defines ``get_custom_objects`` and owns the registry dict.
    registry_module: str | None
    #: Globals that must exist in ``registry_module`` for this row to match.
    requires: tuple[str, ...] = ()
    #: Global name of the registry dict (``{name: object}``).
    registry: str = "_GLOBAL_CUSTOM_OBJECTS"
    #: Global name of the reverse dict (``{object: name}``); absent -> supplied.
    names: str = "_GLOBAL_CUSTOM_NAMES"
    #: How ``CustomObjectScope`` stores its entries: ``"global"`` (written
    #: into the registry dict, Keras <= 2.9), ``"thread_local"`` (the
    #: ``__dict__`` of a ``threading.local``, Keras 2.10+), or
    #: ``"global_state"`` (Keras 3's per-thread ``global_state`` attribute).
    scope_store: str = "global"
    #: ``module:attribute`` of the scope storage, for the non-global stores.
    scope_location: str | None = None
    #: Module defining the 4-argument ``deserialize_keras_object`` and, where
    #: upstream has them, ``SharedObjectLoadingScope`` and its thread-locals.
    legacy_module: str | None = None
    #: Modules whose ``unwrap`` understands TensorFlow decorators
    #: (``tf_inspect``-style class/function checks), tried in order among the
    #: modules already imported (never imported by name: TF 1.15 keeps its
    #: real modules under ``tensorflow.python`` and would build a second copy
    #: under ``tensorflow_core.python``); empty: plain :mod:`inspect`.
    decorator_modules: tuple[str, ...] = _TF_DECORATOR
    #: ``package:attribute.path`` of the Keras version string, read from the
    #: already-imported ``package`` (TensorFlow-bundled Keras has no package
    #: of its own: ``tensorflow:keras.__version__``).
    keras_version: str | None = None
    #: Public aliases of the 4-argument function, as ``module:attribute``
    #: paths reached from the top-level package; ``install()`` checks that each
    #: one the process has loaded reaches keras_deser.
    public_aliases: tuple[str, ...] = ()
    #: The releases this row was checked against: ``package:attribute`` of
    #: a version string and ``(lowest, first too new)``.  ``install()``
    #: refuses other versions unless forced.
    tested: tuple[str, tuple[str, str]] = ("", ("", ""))
    #: Attribute through which TensorFlow's module wrappers (which stand in
    #: ``sys.modules`` for an API module) hold the wrapped API module object,
    #: which is in ``sys.modules`` under no name but binds the functions as
    #: well (TensorFlow 1.15 to 2.12, observed); ``None``: every module binding
    #: them is in ``sys.modules``.  ``install()`` patches those modules too,
    #: found without searching the garbage collector.
    hidden_api_modules: str | None = None
    #: Modules defining upstream's newer ``(config, custom_objects=None,
    #: safe_mode=True, **kwargs)`` ``deserialize_keras_object`` (Keras 2.12+,
    #: tf_keras, Keras 3), read from ``sys.modules`` only: ``install()`` wraps
    #: it in a pass-through (see :mod:`keras_deser.installer`).
    new_signature_modules: tuple[str, ...] = ()
    #: Shared-object thread-locals (``SHARED_OBJECT_LOADING`` and relatives):
    #: ``"native"`` (``legacy_module`` has them: used), ``"supplied"``
    #: (keras_deser's own), or ``"native-if-present"`` (a row spanning
    #: releases with and without them: TF 2.5 has them, 1.15 to 2.4 do not).
    shared_objects: str = "native"
    #: ``module:function`` of the JSON decoder the release's ``model_from_json``
    #: uses (it understands ``__tuple__``, ``TensorShape`` ...); read only
    #: once that module is imported.  None: plain :mod:`json`.
    json_decoder: str | None = None
    #: Public deserializers that build one kind of object and do not tell
    #: upstream's deserializer which (Keras 3's ``layers.deserialize`` passes
    #: no ``module_objects``): ``(module, function, kind)``.  With
    #: ``install(translate=True)`` the function, wherever a module binds it
    #: under its own name, translates for that kind (rows with ``top_kinds``
    #: in :mod:`keras_deser.format_changes`).  Read from ``sys.modules`` only.
    kind_deserializers: tuple[tuple[str, str, str], ...] = ()
    #: Model classes whose own ``from_config`` classmethod takes a model's
    #: inner config (no ``class_name``): ``(module, class, class_name the
    #: inner config belongs to)``.  With ``install(translate=True)`` the
    #: classmethod translates that config as a whole (subclasses that inherit
    #: it included); a class or module the release lacks is skipped.
    model_from_configs: tuple[tuple[str, str, str], ...] = ()


def _models(engine: str) -> tuple[tuple[str, str, str], ...]:
    """``model_from_configs`` of a Keras 2 engine package (``keras.engine``)."""
    return (
        (f"{engine}.network", "Network", "Functional"),  # TF 1.15 to 2.3
        (f"{engine}.functional", "Functional", "Functional"),
        (f"{engine}.training", "Model", "Functional"),
        (f"{engine}.sequential", "Sequential", "Sequential"),
    )


#: Pure Python: no TensorFlow or Keras loaded.  keras_deser owns all state.
STANDALONE = Flavour(
    name="standalone",
    releases="no TensorFlow or Keras loaded",
    registry_module=None,
    decorator_modules=(),
)

FLAVOURS: tuple[Flavour, ...] = (
    Flavour(
        name="tf.python.keras",
        releases="TensorFlow 1.15 to 2.5 (tf.keras inside TensorFlow)",
        registry_module="tensorflow.python.keras.utils.generic_utils",
        legacy_module="tensorflow.python.keras.utils.generic_utils",
        keras_version="tensorflow:keras.__version__",
        tested=("tensorflow:__version__", ("1.15", "2.6")),
        public_aliases=(
            "tensorflow:keras.utils.deserialize_keras_object",
            "tensorflow:compat.v1.keras.utils.deserialize_keras_object",
            "tensorflow:compat.v2.keras.utils.deserialize_keras_object",
        ),
        json_decoder="tensorflow.python.keras.saving.saved_model.json_utils:decode",
        hidden_api_modules="_tfmw_wrapped_module",
        shared_objects="native-if-present",
        model_from_configs=_models("tensorflow.python.keras.engine"),
    ),
    Flavour(
        name="keras-2.10",
        releases="keras 2.10 (generic_utils with per-thread scopes)",
        registry_module="keras.utils.generic_utils",
        requires=("_THREAD_LOCAL_CUSTOM_OBJECTS",),
        scope_store="thread_local",
        scope_location="keras.utils.generic_utils:_THREAD_LOCAL_CUSTOM_OBJECTS",
        legacy_module="keras.utils.generic_utils",
        keras_version="keras:__version__",
        tested=("keras:__version__", ("2.10", "2.11")),
        public_aliases=(
            "tensorflow:keras.utils.deserialize_keras_object",
            "tensorflow:compat.v1.keras.utils.deserialize_keras_object",
            "keras:utils.deserialize_keras_object",
        ),
        json_decoder="keras.saving.saved_model.json_utils:decode",
        hidden_api_modules="_tfmw_wrapped_module",
        model_from_configs=_models("keras.engine"),
    ),
    Flavour(
        name="keras-2.6",
        releases="keras 2.6 to 2.9 (keras.utils.generic_utils)",
        registry_module="keras.utils.generic_utils",
        legacy_module="keras.utils.generic_utils",
        keras_version="keras:__version__",
        tested=("keras:__version__", ("2.6", "2.10")),
        public_aliases=(
            "tensorflow:keras.utils.deserialize_keras_object",
            "tensorflow:compat.v1.keras.utils.deserialize_keras_object",
            "keras:utils.deserialize_keras_object",
        ),
        json_decoder="keras.saving.saved_model.json_utils:decode",
        hidden_api_modules="_tfmw_wrapped_module",
        model_from_configs=_models("keras.engine"),
    ),
    Flavour(
        name="keras-2.11",
        releases="keras 2.11 and 2.12 (keras.saving.legacy)",
        registry_module="keras.saving.object_registration",
        scope_store="thread_local",
        scope_location="keras.saving.object_registration:_THREAD_LOCAL_CUSTOM_OBJECTS",
        legacy_module="keras.saving.legacy.serialization",
        keras_version="keras:__version__",
        tested=("keras:__version__", ("2.11", "2.13")),
        public_aliases=(
            "tensorflow:keras.utils.deserialize_keras_object",
            "tensorflow:compat.v1.keras.utils.deserialize_keras_object",
            "tensorflow:keras.utils.legacy.deserialize_keras_object",
            "keras:utils.deserialize_keras_object",
        ),
        json_decoder="keras.saving.legacy.saved_model.json_utils:decode",
        hidden_api_modules="_tfmw_wrapped_module",
        new_signature_modules=("keras.saving.serialization_lib",),
        model_from_configs=_models("keras.engine"),
    ),
    Flavour(
        name="keras-2.13",
        releases="keras 2.13 to 2.15 (keras.src)",
        registry_module="keras.src.saving.object_registration",
        requires=("_GLOBAL_CUSTOM_OBJECTS",),
        scope_store="thread_local",
        scope_location="keras.src.saving.object_registration:_THREAD_LOCAL_CUSTOM_OBJECTS",
        legacy_module="keras.src.saving.legacy.serialization",
        keras_version="keras:__version__",
        tested=("keras:__version__", ("2.13", "2.16")),
        public_aliases=(
            "tensorflow:keras.utils.legacy.deserialize_keras_object",
            "keras:utils.legacy.deserialize_keras_object",
        ),
        json_decoder="keras.src.saving.legacy.saved_model.json_utils:decode",
        new_signature_modules=("keras.src.saving.serialization_lib",),
        model_from_configs=_models("keras.src.engine"),
    ),
    Flavour(
        name="tf_keras",
        releases="tf_keras 2.15+ (TF_USE_LEGACY_KERAS=1 with TensorFlow 2.16+)",
        registry_module="tf_keras.src.saving.object_registration",
        scope_store="thread_local",
        scope_location="tf_keras.src.saving.object_registration:_THREAD_LOCAL_CUSTOM_OBJECTS",
        legacy_module="tf_keras.src.saving.legacy.serialization",
        keras_version="tf_keras:__version__",
        tested=("tf_keras:__version__", ("2.15", "2.22")),
        public_aliases=(
            "tensorflow:keras.utils.legacy.deserialize_keras_object",
            "tf_keras:utils.legacy.deserialize_keras_object",
        ),
        json_decoder="tf_keras.src.saving.legacy.saved_model.json_utils:decode",
        new_signature_modules=("tf_keras.src.saving.serialization_lib",),
        model_from_configs=_models("tf_keras.src.engine"),
    ),
    Flavour(
        name="keras-3",
        releases="Keras 3 (keras.src.legacy.saving), with or without TensorFlow",
        registry_module="keras.src.saving.object_registration",
        requires=("GLOBAL_CUSTOM_OBJECTS",),
        registry="GLOBAL_CUSTOM_OBJECTS",
        names="GLOBAL_CUSTOM_NAMES",
        scope_store="global_state",
        scope_location="keras.src.backend.common.global_state:custom_objects_scope_dict",
        legacy_module="keras.src.legacy.saving.serialization",
        decorator_modules=(),
        keras_version="keras:__version__",
        tested=("keras:__version__", ("3.0", "3.16")),
        public_aliases=(
            "keras:utils.legacy.deserialize_keras_object",
            "keras:legacy.saving.deserialize_keras_object",
        ),
        json_decoder="keras.src.legacy.saving.json_utils:decode",
        new_signature_modules=("keras.src.saving.serialization_lib",),
        kind_deserializers=(("keras.src.layers", "deserialize", "layers"),),
        model_from_configs=(
            ("keras.src.models.model", "Model", "Functional"),
            ("keras.src.models.functional", "Functional", "Functional"),
            ("keras.src.models.sequential", "Sequential", "Sequential"),
        ),
    ),
)

#: The packages that can carry a Keras, in order of preference, with the
#: attribute path of the Keras API below each ("" for the package itself).
#: A package is only looked at once it has been imported.
KERAS_NAMESPACES: tuple[tuple[str, str], ...] = (
    ("tensorflow", "keras"),
    ("keras", ""),
    ("tf_keras", ""),
)

#: The top-level packages that carry a Keras.
UPSTREAM_PACKAGES: tuple[str, ...] = tuple(package for package, _ in KERAS_NAMESPACES)

#: Where to look for the live ``get_custom_objects``, in order.
ENTRY_ROUTES: tuple[tuple[str, str], ...] = tuple(
    (package, (namespace + "." if namespace else "") + "utils.get_custom_objects")
    for package, namespace in KERAS_NAMESPACES
)


def by_name(name: str) -> Flavour:
    """Return the row called ``name`` (``"standalone"`` included)."""
    for row in FLAVOURS + (STANDALONE,):
        if row.name == name:
            return row
    known = ", ".join(row.name for row in FLAVOURS + (STANDALONE,))
    raise KeyError(f"unknown flavour {name!r}; known: {known}")

#: Where each release defines its ``load_model`` (``module``, ``attribute``):
#: ``install(translate=True)`` routes ``.keras`` archives of other releases
#: through :func:`keras_deser.archives.load_archive` there, and at every
#: module attribute holding the same function (``tf.keras.models``,
#: ``keras.saving`` ...).  TF 1.15-2.5, Keras 2.6-2.10, 2.11/2.12,
#: 2.13-2.15 and Keras 3, tf_keras.
ARCHIVE_LOADERS: tuple[tuple[str, str], ...] = (
    ("tensorflow.python.keras.saving.save", "load_model"),
    ("keras.saving.save", "load_model"),
    ("keras.saving.saving_api", "load_model"),
    ("keras.src.saving.saving_api", "load_model"),
    ("tf_keras.src.saving.saving_api", "load_model"),
)
