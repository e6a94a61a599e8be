"""What ``load``, ``verify`` and ``audit`` share before they start.

The upstream, the ``--custom-objects``, the config and the progress display.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any, NamedTuple

from .build import Progress
from .configio import read_config, top_level_layer_count
from .result import EXIT_USAGE, CLIError
from .upstream import Upstream, load_upstream

__all__ = ["Prepared", "prepare", "parse_custom_objects", "progress_enabled"]


def parse_custom_objects(specs: list[str] | None) -> dict[str, Any]:
    """``module:attribute`` specs to one ``{name: object}`` dict.

    The attribute is a dict of name to object, or a single class or
    function (registered under its ``__name__``).  The current directory is
    importable, as with ``python -m``.
    """
    objects: dict[str, Any] = {}
    if not specs:
        return objects
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    for spec in specs:
        module_name, sep, attribute = spec.partition(":")
        if not sep or not module_name or not attribute:
            raise CLIError(f"--custom-objects {spec!r}: expected module:attribute", code=EXIT_USAGE)
        try:
            value: Any = importlib.import_module(module_name)
        except Exception as exc:
            raise CLIError(
                f"--custom-objects {spec!r}: cannot import {module_name!r}: {type(exc).__name__}: {exc}",
                code=EXIT_USAGE,
            ) from None
        try:
            for part in attribute.split("."):
                value = getattr(value, part)
        except AttributeError:
            raise CLIError(
                f"--custom-objects {spec!r}: {module_name!r} has no attribute {attribute!r}", code=EXIT_USAGE
            ) from None
        if isinstance(value, dict):
            objects.update(value)
        elif callable(value) and hasattr(value, "__name__"):
            objects[value.__name__] = value
        else:
            raise CLIError(
                f"--custom-objects {spec!r}: expected a dict of name to class/function, "
                f"or a class or function, got {type(value).__name__}",
                code=EXIT_USAGE,
            )
    return objects


def progress_enabled(args: argparse.Namespace) -> bool:
    """``--progress``/``--no-progress``, else whether stderr is a terminal."""
    if getattr(args, "progress", None) is not None:
        return bool(args.progress)
    try:
        return sys.stderr.isatty()
    except Exception:
        return False


class Prepared(NamedTuple):
    """The shared inputs of ``load``, ``verify`` and ``audit``."""

    up: Upstream
    custom_objects: dict[str, Any]
    config: dict[str, Any]
    label: str
    progress: Progress


def prepare(args: argparse.Namespace) -> Prepared:
    """Upstream, custom objects, config (in that order: errors come in that order)."""
    progress = Progress(progress_enabled(args))
    up = load_upstream(use_keras=not args.no_keras)
    custom_objects = parse_custom_objects(args.custom_objects)
    config, label = read_config(args.file, progress.note)
    progress.layer_base = up.layer_base
    progress.total = top_level_layer_count(config)
    return Prepared(up, custom_objects, config, label, progress)
