"""keras_deser: Keras 2.9's ``deserialize_keras_object``, on every Keras.

``from keras_deser import deserialize_keras_object`` gives the function and
its toolkit exactly as Keras 2.9.0 behaves, for plain Python classes with no
Keras at all and for the real objects of whichever Keras is loaded, sharing
that Keras's registry, custom-object scopes and shared-object scopes.

Importing this package imports neither TensorFlow, Keras nor numpy; the live
Keras is detected the first time state is needed.
"""

from __future__ import annotations

from ._version import __version__
from .auditing import AuditReport, Finding, audit
from .binding import UnknownUpstreamError
from .errors import ConfigTooDeepError
from .info import bind, upstream_info
from .installer import NotInstallableError, install, installed_sites, is_installed, patched, uninstall
from .patching import RepatchedWarning
from .registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .safety import UnsafeConfigError, is_safe_mode, safe_mode, set_safe_mode
from .serialization import (
    CustomMaskWarning,
    class_and_config_for_serialized_keras_object,
    deserialize_keras_object,
    serialize_keras_class_and_config,
    serialize_keras_object,
)
from .shared_objects import (
    SHARED_OBJECT_KEY,
    DisableSharedObjectScope,
    NoopLoadingScope,
    SharedObjectConfig,
    SharedObjectLoadingScope,
    SharedObjectSavingScope,
)
from .translation import Translation, TranslationError, translate

__all__ = [
    "__version__",
    "SHARED_OBJECT_KEY",
    "Translation",
    "TranslationError",
    "translate",
    "AuditReport",
    "ConfigTooDeepError",
    "CustomMaskWarning",
    "NotInstallableError",
    "RepatchedWarning",
    "UnknownUpstreamError",
    "Finding",
    "UnsafeConfigError",
    "audit",
    "is_safe_mode",
    "safe_mode",
    "set_safe_mode",
    "CustomObjectScope",
    "DisableSharedObjectScope",
    "NoopLoadingScope",
    "SharedObjectConfig",
    "SharedObjectLoadingScope",
    "SharedObjectSavingScope",
    "bind",
    "class_and_config_for_serialized_keras_object",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "install",
    "installed_sites",
    "is_installed",
    "patched",
    "register_keras_serializable",
    "serialize_keras_class_and_config",
    "serialize_keras_object",
    "uninstall",
    "upstream_info",
]
