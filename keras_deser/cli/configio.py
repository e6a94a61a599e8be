"""Reading the config a command works on: JSON, HDF5 (``model_config``) or stdin.

JSON is decoded with the bound Keras's own decoder when it is loaded (its
``model_from_json`` understands ``__tuple__``, ``TensorShape`` ...; where it
lives is the flavour table's ``json_decoder`` column), else plainly with
Keras's tuple and Ellipsis encodings understood.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import zipfile
from typing import Any

from .. import _state
from ..keypath import path_text
from .result import EXIT_USAGE, CLIError

__all__ = ["EXAMPLE", "read_config", "decode_json", "key_paths", "top_level_layer_count"]

#: The example model config shipped with the package (``load`` with no FILE).
EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "example_model.json")

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_HDF5_SUFFIXES = (".h5", ".hdf5", ".he5")


def decode_json(text: str) -> Any:
    """Parse Keras JSON with the bound Keras's decoder when loaded, else plainly."""
    decode = _state.binding.json_decoder()
    if decode is not None:
        return decode(text)
    return json.loads(text, object_hook=_plain_hook)


def _plain_hook(obj: dict[str, Any]) -> Any:
    # Keras's own encodings of tuples and Ellipsis, understood with no Keras.
    if obj.get("class_name") == "__tuple__" and "items" in obj:
        return tuple(obj["items"])
    if obj.get("class_name") == "__ellipsis__":
        return Ellipsis
    return obj


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 1000000:
        return f"{size / 1e3:.1f} kB"
    return f"{size / 1e6:.1f} MB"


def _is_hdf5(path: str) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(8)
    return head == _HDF5_MAGIC or path.lower().endswith(_HDF5_SUFFIXES)


def read_config(path: str | None, note: Any = None) -> tuple[dict[str, Any], str]:
    """Read the serialized object in ``path``; return ``(config, label)``.

    ``path`` None means the bundled example, ``-`` standard input.
    ``note(text)`` (optional) is told what is being read.
    """
    if path is None:
        path = EXAMPLE
        label = "example_model.json (bundled example)"
    else:
        label = path
    if path == "-":
        text = sys.stdin.read()
        label = "<stdin>"
        return _parse_text(text, label), label
    if not os.path.exists(path):
        raise CLIError("no such file", code=EXIT_USAGE, file=label)
    if os.path.isdir(path):
        raise CLIError(
            "is a directory (SavedModel directories are not supported; give a JSON or HDF5 file)",
            code=EXIT_USAGE,
            file=label,
        )
    try:
        size = os.path.getsize(path)
        if note is not None:
            note(f"reading {label} ({_size(size)})")
        if _is_hdf5(path):
            text = _read_hdf5_model_config(path, label)
            label_inner = f"{label}:/model_config"
            return _parse_text(text, label_inner), label_inner
        if zipfile.is_zipfile(path):  # a .keras archive (Keras 2.12+, Keras 3): its config.json
            text = _read_archive_config(path, label)
            label_inner = f"{label}:/config.json"
            return _parse_text(text, label_inner), label_inner
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise CLIError(f"cannot read: {exc.strerror or exc}", code=EXIT_USAGE, file=label) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CLIError("not a UTF-8 JSON file nor an HDF5 file", file=label) from None
    return _parse_text(text, label), label


def _read_archive_config(path: str, label: str) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise CLIError("zip file without a config.json (not a .keras archive)", file=label)
            return archive.read("config.json").decode("utf-8-sig")
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read as a .keras archive: {exc}", file=label) from None


def _read_hdf5_model_config(path: str, label: str) -> str:
    try:
        h5py = importlib.import_module("h5py")
    except ImportError:
        raise CLIError(
            "is an HDF5 file, and reading it needs h5py, which is not installed",
            file=label,
            hint="pip install h5py",
        ) from None
    try:
        with h5py.File(path, "r") as handle:
            value = handle.attrs.get("model_config")
    except OSError as exc:
        raise CLIError(f"cannot open as HDF5: {exc}", file=label) from None
    if value is None:
        raise CLIError(
            "HDF5 file has no 'model_config' attribute (a weights-only file?)",
            file=label,
            path="/ attrs['model_config']",
        )
    if hasattr(value, "decode"):
        value = value.decode("utf-8")
    return str(value)


def _parse_text(text: str, label: str) -> dict[str, Any]:
    if not text.strip():
        raise CLIError("empty file, expected a JSON config", file=label)
    try:
        config = decode_json(text)
    except ValueError as exc:
        line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        where = f" (line {line}, column {col})" if line is not None else ""
        message = getattr(exc, "msg", None) or str(exc)
        raise CLIError(f"invalid JSON{where}: {message}", file=label) from None
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        found = type(config).__name__
        if isinstance(config, dict):
            found = "a dict with keys " + ", ".join(sorted(map(str, config))[:8])
        raise CLIError(
            f"not a serialized object: expected a JSON object with 'class_name' and 'config', found {found}",
            file=label,
            path="config",
        )
    return config


def key_paths(config: Any, name: Any, root: str = "config") -> list[str]:
    """Key paths in ``config`` where ``name`` is used as a name, in document order.

    A ``class_name`` equal to ``name`` or a string value equal to ``name``;
    paths in :mod:`keras_deser.keypath`'s syntax.
    """
    found: list[str] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(config, ())]
    seen = set()
    while stack:
        node, parts = stack.pop()
        if isinstance(node, (dict, list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, dict):
            if node.get("class_name") == name:
                found.append(path_text(root, parts + ("class_name",)))
            children = [(key, value) for key, value in node.items() if key != "class_name"]
        elif isinstance(node, (list, tuple)):
            children = list(enumerate(node))
        else:
            if isinstance(node, str) and node == name:
                found.append(path_text(root, parts))
            continue
        for key, value in reversed(children):
            stack.append((value, parts + (key,)))
    return found


def top_level_layer_count(config: dict[str, Any]) -> int | None:
    """How many layers the config lists at its top level, or None."""
    inner = config.get("config")
    if isinstance(inner, dict) and isinstance(inner.get("layers"), list):
        return len(inner["layers"])
    if isinstance(inner, list):  # Keras 2.0.6 Sequential
        return len(inner)
    return None
