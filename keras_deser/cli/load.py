"""``keras-deser load``: build an object from a config and summarise it."""

from __future__ import annotations

import argparse
from typing import Any

from ..info import upstream_info
from ..serialization import deserialize_keras_object
from .build import Routing, build, describe_routing, printable_name, summarize
from .options import prepare
from .result import EXIT_OK, CLIError, Result
from .table import render_table

__all__ = ["run", "render"]

#: Whether the subcommand takes the building options (--custom-objects, --safe, ...).
BUILDS = True
HELP = "build an object from a config and summarise it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", metavar="FILE",
        help="JSON config, HDF5 file with model_config, .keras archive, or - (default: bundled example)",
    )
    parser.add_argument(
        "--translate", action="store_true",
        help="translate a config saved by another Keras release for the loaded one first (keras_deser.translate); "
        "a .keras archive's weights are loaded too (keras_deser.archives)",
    )


def run(args: argparse.Namespace) -> Result:
    up, custom_objects, config, label, progress = prepare(args)
    changes = None
    source = config
    if args.translate:
        config, changes = _translate(config, custom_objects)
    routing = Routing(up, not args.no_patch)
    obj, seconds = build(
        deserialize_keras_object, config, label, up, custom_objects, printable_name(up), progress, args.safe, routing
    )
    summary = summarize(obj, seconds, config, label)
    summary["flavour"] = upstream_info()["flavour"]
    summary["routing"] = routing.as_dict()
    if changes is not None:
        summary["translation"] = [change._asdict() for change in changes]
        if args.file and label.endswith(":/config.json"):
            summary["weights"] = _archive_weights(obj, args.file, source)
    return Result(summary, EXIT_OK, render, {"seconds": seconds})


def _translate(config: Any, custom_objects: Any) -> Any:
    from ..format_changes import TranslationError, UnknownReleaseError
    from ..translation import translate

    try:
        return translate(config, custom_objects=custom_objects)
    except (TranslationError, UnknownReleaseError) as error:
        raise CLIError(f"--translate: {error}", path=getattr(error, "path", None) or None) from None


def _archive_weights(model: Any, path: str, source: Any) -> int:
    """Set a model built from a ``.keras`` archive's config from its ``model.weights.h5``; the count set."""
    from ..archives import ArchiveWeightsError, assign_archive_weights

    try:
        assign_archive_weights(model, path, source)
    except ArchiveWeightsError as error:
        raise CLIError(f"--translate: weights: {error}", file=path, path=error.path or None) from None
    return len(model.weights)


def render(result: Result) -> str:
    summary = result.document
    rows = []
    if summary["name"]:
        rows.append(("name", summary["name"]))
    if summary["layers"] is not None:
        rows.append(("layers", summary["layers"]))
    if summary["parameters"] is not None:
        rows.append(("parameters", f"{summary['parameters']:,}"))
    rows.append(("time", f"{result.facts['seconds'] * 1000:.1f} ms"))
    rows.append(("flavour", summary["flavour"]))
    rows.append(("through", describe_routing(summary["routing"])))
    if "translation" in summary:
        rows.append(("translated", f"{len(summary['translation'])} change(s)"))
    if "weights" in summary:
        rows.append(("weights", f"{summary['weights']} variable(s) from model.weights.h5"))
    return f"built {summary['class']} from {summary['file']}\n" + render_table(rows, indent="  ", min_widths=(10,))
