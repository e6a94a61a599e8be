"""``keras-deser convert FILE --to RELEASE -o OUT``: a model for another release.

Reads FILE (a JSON config, an HDF5 file with ``model_config``, or a
``.keras`` archive's ``config.json``), translates the config for RELEASE
(:func:`keras_deser.translate`) and writes OUT: an HDF5 copy of FILE with
only ``model_config`` replaced (weights untouched) when OUT ends in
``.h5``/``.hdf5`` (from a ``.keras`` archive: a Keras 2 HDF5 file with its
weights, :func:`keras_deser.archives.archive_to_hdf5`), the translated
JSON otherwise.  The target release's own
loader reads OUT without keras_deser.  No TensorFlow/Keras is imported.
"""

from __future__ import annotations

import argparse
import os

from ..format_changes import RELEASES, TranslationError, UnknownReleaseError, parse_release, release_name
from ..translation import convert_file
from .result import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CLIError, Result

__all__ = ["run", "render"]

BUILDS = False
HELP = "translate a saved model's config for another Keras release and write it (JSON or HDF5)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="JSON config, HDF5 file with model_config, or .keras archive")
    parser.add_argument(
        "--to", required=True, metavar="RELEASE",
        help="target release: " + ", ".join(name for name, _ in RELEASES) + " (or X.Y)",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT",
        help="output file: .h5/.hdf5 (HDF5 or .keras source, weights included) or JSON"
    )


def run(args: argparse.Namespace) -> Result:
    if not os.path.exists(args.file):
        raise CLIError(f"{args.file}: no such file", code=EXIT_USAGE, file=args.file)
    try:
        target = release_name(parse_release(args.to))
    except UnknownReleaseError as error:
        raise CLIError(str(error), code=EXIT_USAGE) from None
    try:
        result = convert_file(args.file, args.output, target)
    except TranslationError as error:
        raise CLIError(str(error), code=EXIT_FAILURE, file=args.file, path=error.path or None) from None
    except (ValueError, OSError) as error:
        raise CLIError(f"{args.file}: {error}", code=EXIT_FAILURE, file=args.file) from None
    document = {
        "source": args.file,
        "target": target,
        "output": args.output,
        "changes": [change._asdict() for change in result.changes],
    }
    return Result(document, EXIT_OK, render)


def render(result: Result) -> str:
    document = result.document
    lines = [f"{document['source']} -> {document['output']} for {document['target']}: "
             f"{len(document['changes'])} change(s)"]
    lines.extend(f"  {change['path']}: {change['description']} [{change['rule']}]" for change in document["changes"])
    return "\n".join(lines) + "\n"
