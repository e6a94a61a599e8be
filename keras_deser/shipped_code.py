"""The loaded release's own ``Lambda`` code: the one bytecode safe mode lets through.

Keras 2's ``keras.applications.InceptionResNetV2`` (TF 1.15's
``keras_applications``, TF 2.4, Keras 2.6-2.9) scales its residuals with
``Lambda(lambda inputs, scale: inputs[0] + inputs[1] * scale)``, written by
``Lambda.get_config`` as base64 of ``marshal.dumps`` of that lambda's code.
A ``Lambda`` config is known harmless when the bytes its function field
decodes to (as the release's ``func_load`` decodes them: base64 of the ASCII
text, else the text's ``raw_unicode_escape`` bytes) are *identical* to
``marshal.dumps`` of a code object the installed release itself ships in
one of the places its row of :data:`keras_deser.safe_policy.RELEASES` lists
(``shipped_lambdas``: every ``<lambda>`` code constant, at any depth, of a
listed function), and the rest of the config is plain data
(:func:`lambda_verdict`).  Identical bytes unmarshal to the code already
installed on this machine; the config's bytes are never unmarshalled here.

The places are collected lazily (the first time a ``Lambda`` with bytecode
is met), once per flavour, and cached.  A listed module not imported yet is
imported only when its top-level package already is (keras_deser never
brings in TensorFlow or Keras itself).  Bytes that do not match (a model
saved with another install path, hence another ``co_filename``, or another
Python version, or altered) are refused: fail closed.
"""

from __future__ import annotations

import binascii
import importlib
import marshal
import sys
import types
from typing import Any, NamedTuple

from . import safe_policy as policy

__all__ = ["Shipped", "shipped", "function_bytes", "lambda_verdict", "HARMLESS", "NOT_SHIPPED", "OTHER"]

#: :func:`lambda_verdict`'s answers.
HARMLESS = "harmless"
NOT_SHIPPED = "not shipped"
OTHER = "other"


class Shipped(NamedTuple):
    """The listed code of one flavour."""

    #: ``(code object, name of the module holding it)`` for every listed lambda.
    codes: tuple[tuple[Any, str], ...]
    #: ``marshal.dumps(code)`` -> module name, as computed when collected.
    dumps: dict[bytes, str]
    #: The module names of the listed places.
    modules: frozenset[str]
    #: The listed places that could be read (``module.function``), for messages.
    places: tuple[str, ...]


#: flavour -> (its listed code, the places whose top-level package was not imported yet).
_CACHE: dict[str, tuple[Shipped, tuple[str, ...]]] = {}


def _lambda_constants(code: Any) -> list[Any]:
    """Every ``<lambda>`` code constant of ``code``, at any depth, without free variables."""
    found: list[Any] = []
    stack = [code]
    while stack:
        current = stack.pop()
        for const in current.co_consts:
            if isinstance(const, types.CodeType):
                if const.co_name == "<lambda>" and not const.co_freevars:
                    found.append(const)
                stack.append(const)
    return found


def _module(name: str) -> Any:
    module = sys.modules.get(name)
    if module is None:
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a place this install lacks: nothing collected there
            module = None
    return module


def _top(place: str) -> str:
    return place.split(".")[0].split(":")[0]


def shipped(flavour: str) -> Shipped:
    """The listed code of ``flavour``, collected once (again only when a pending package got imported)."""
    cached = _CACHE.get(flavour)
    if cached is not None and not any(_top(place) in sys.modules for place in cached[1]):
        return cached[0]
    places = policy.release_policy(flavour).shipped_lambdas
    codes: list[tuple[Any, str]] = []
    read: list[str] = []
    pending: list[str] = []
    for place in places:
        module_name, _, function_name = place.partition(":")
        if _top(place) not in sys.modules:
            pending.append(place)  # never import TensorFlow or Keras here
            continue
        module = _module(module_name)
        code = getattr(getattr(module, function_name, None), "__code__", None)
        if isinstance(code, types.CodeType):
            read.append(f"{module_name}.{function_name}")
            name = getattr(module, "__name__", module_name)
            codes.extend((const, name) for const in _lambda_constants(code))
    result = Shipped(tuple(codes), {marshal.dumps(code): name for code, name in codes},
                     frozenset(place.partition(":")[0] for place in places), tuple(read))
    _CACHE[flavour] = (result, tuple(pending))
    return result


def _module_of(raw: bytes, table: Shipped) -> str | None:
    """The module whose listed code dumps to exactly ``raw``, or ``None``."""
    module = table.dumps.get(raw)
    if module is None and table.codes:
        # marshal's reference flags follow reference counts: dump again now.
        for code, name in table.codes:
            if marshal.dumps(code) == raw:
                return name
    return module


def function_bytes(value: Any) -> bytes | None:
    """The bytes the release's ``func_load`` would unmarshal from ``value``, or ``None``.

    Only the forms ``Lambda.get_config`` writes: the base64 text alone, or
    ``[text, None, None]`` (no defaults, no closure).
    """
    if isinstance(value, (list, tuple)):
        if len(value) != 3 or value[1] is not None or value[2] is not None:
            return None
        value = value[0]
    if type(value) is not str or len(value) > policy.MAX_STRING:
        return None
    try:
        return binascii.a2b_base64(value.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error):
        return value.encode("raw_unicode_escape")


def _shape(value: Any, depth: int = 0) -> bool:
    """True for a raw ``output_shape``: ``None``, or a list of ints / ``None`` (or of such lists)."""
    if value is None:
        return True
    if not isinstance(value, (list, tuple)) or len(value) > 1024:
        return False
    return all(item is None or type(item) is int or (depth == 0 and _shape(item, 1)) for item in value)


def _plain(value: Any) -> bool:
    return value is None or type(value) in (bool, int, float) or (
        type(value) is str and len(value) <= policy.MAX_SHIPPED_LAMBDA_STRING)


def _field(inner: dict[Any, Any], key: str, module_key: str, type_key: str, table: Shipped) -> str:
    """The verdict on one function field (``function`` or ``output_shape``)."""
    kind = inner.get(type_key)
    if kind == "raw" and key == "output_shape":
        return HARMLESS if _shape(inner.get(key)) and inner.get(module_key) is None else OTHER
    if kind != policy.LAMBDA_TYPE_VALUE:
        return OTHER
    raw = function_bytes(inner.get(key))
    module = inner.get(module_key)
    if raw is None or module not in table.modules:
        return OTHER
    return HARMLESS if _module_of(raw, table) == module else NOT_SHIPPED


def lambda_verdict(inner: Any, flavour: str) -> str:
    """:data:`HARMLESS`, :data:`NOT_SHIPPED` or :data:`OTHER` for a built-in ``Lambda``'s config.

    :data:`HARMLESS`: ``function`` (and ``output_shape`` where it is code)
    is the release's listed code, with its own ``module``; every other key
    is one ``Lambda.get_config`` writes (Keras 2.9, TF 1.15, 2.4, 2.6), the
    ``output_shape`` a raw shape, ``arguments`` a dict of plain numbers and
    strings.  :data:`NOT_SHIPPED`: a field names a listed module but its
    bytes are not the listed code.  :data:`OTHER`: anything else.
    """
    if not isinstance(inner, dict) or not policy.release_policy(flavour).shipped_lambdas:
        return OTHER
    if inner.get("function_type") != policy.LAMBDA_TYPE_VALUE:
        return OTHER
    table = shipped(flavour)
    verdicts = [_field(inner, "function", "module", "function_type", table),
                _field(inner, "output_shape", "output_shape_module", "output_shape_type", table)]
    if NOT_SHIPPED in verdicts:
        return NOT_SHIPPED
    if OTHER in verdicts or not set(inner) <= policy.SHIPPED_LAMBDA_KEYS:
        return OTHER
    arguments = inner.get("arguments", {})
    if not isinstance(arguments, dict) or len(arguments) > 1024 or not all(type(key) is str and _plain(value)
                                                  for key, value in arguments.items()):
        return OTHER
    name, trainable, dtype = inner.get("name"), inner.get("trainable", True), inner.get("dtype")
    if not (type(name) is str and type(trainable) is bool and (dtype is None or type(dtype) is str)):
        return OTHER
    if len(name) > policy.MAX_SHIPPED_LAMBDA_STRING or (dtype is not None and len(dtype) > 64):
        return OTHER
    return HARMLESS
