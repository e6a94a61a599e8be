"""The ``keras-deser`` command (also ``python -m keras_deser``).

Subcommands::

    keras-deser doctor                 what keras_deser is bound to
    keras-deser load [FILE]            build an object from a config, summarise it
    keras-deser verify FILE            keras_deser against the unpatched upstream
    keras-deser audit FILE             what a config would resolve, from where, and
                                       what safe mode would refuse (nothing is built)
    keras-deser convert FILE --to RELEASE -o OUT
                                       translate a saved model for another release

``FILE`` is a Keras JSON config (``model.to_json()``), a JSON file holding a
serialized object (``{"class_name": ..., "config": ...}``), an HDF5 file
with a ``model_config`` attribute (read with h5py), or ``-`` for standard
input.  Every subcommand takes ``--json`` (one JSON document on standard
output, errors included).

``--safe`` (load, verify, audit) runs keras_deser's safe mode: a config
holding Lambda bytecode, a factory function or a dangerous function is
refused before any of it runs (exit 1, every unsafe key path on stderr).

Exit codes: 0 success; 1 the operation failed (an unresolvable name, a file
that is not a usable config, a config safe mode refuses, a ``verify``
difference, an ``audit`` finding: anything unsafe or unresolved); 2 usage
errors (bad options, a file that does not exist, a ``--custom-objects`` that
cannot be imported).

Layout: one module per command (:mod:`.doctor`, :mod:`.load`,
:mod:`.verify`, :mod:`.audit`), each with ``run(args) -> Result`` and a text
renderer; :mod:`.result` (``Result``, ``CLIError``, exit codes),
:mod:`.upstream` (finding and binding TensorFlow/Keras), :mod:`.configio`
(JSON/HDF5/stdin), :mod:`.options` (what load/verify/audit share),
:mod:`.build` (routing, safe mode, progress, failures), :mod:`.table` (the
one table renderer); this module holds the parser and :func:`main`.

The package imports only the standard library and keras_deser at import
time.  TensorFlow/Keras are imported by the subcommands that need them, and
only when installed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import __version__
from . import audit, convert, doctor, load, verify
from .audit import audit_counts, audit_entries, audit_findings, format_audit_table
from .configio import EXAMPLE, key_paths, read_config
from .result import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CLIError, Result, dump_json
from .upstream import Upstream, load_upstream

__all__ = [
    "main",
    "build_parser",
    "CLIError",
    "Result",
    "EXAMPLE",
    "EXIT_OK",
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "Upstream",
    "load_upstream",
    "read_config",
    "key_paths",
    "format_audit_table",
    "audit_entries",
    "audit_counts",
    "audit_findings",
]

#: The subcommands, in the order ``--help`` lists them.  Each module has
#: ``HELP``, ``BUILDS`` (takes the building options), ``add_arguments(parser)``
#: and ``run(args) -> Result``.
COMMANDS: dict[str, Any] = {"doctor": doctor, "load": load, "verify": verify, "audit": audit, "convert": convert}


def build_parser(prog: str = "keras-deser") -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout (errors included)")
    common.add_argument(
        "--no-keras",
        action="store_true",
        help="do not import TensorFlow/Keras even when installed (pure-Python configs)",
    )

    building = argparse.ArgumentParser(add_help=False)
    building.add_argument(
        "--custom-objects",
        action="append",
        default=[],
        metavar="MODULE:ATTRIBUTE",
        help="a dict of name to class/function, or one class or function (repeatable)",
    )
    building.add_argument(
        "--safe",
        action="store_true",
        help="keras_deser's safe mode: refuse (exit 1) a config holding Lambda bytecode, a factory or a "
        "dangerous function before any of it runs",
    )
    building.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="show progress on stderr (default: only when stderr is a terminal)",
    )
    building.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
    building.add_argument(
        "--no-patch",
        action="store_true",
        help="do not install keras_deser into the loaded Keras while building: only the top-level "
        "object goes through keras_deser, nested layers through upstream",
    )

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Inspect, build, verify and audit serialized Keras objects with keras_deser.",
        epilog="Exit codes: 0 ok, 1 the operation failed, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name, module in COMMANDS.items():
        parents = [common, building] if module.BUILDS else [common]
        module.add_arguments(commands.add_parser(name, parents=parents, help=module.HELP))
    return parser


def main(argv: list[str] | None = None, prog: str = "keras-deser") -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out = sys.stdout
    try:
        result: Result = COMMANDS[args.command].run(args)
    except CLIError as error:
        sys.stderr.write(error.render(args.command) + "\n")
        if args.json:
            out.write(dump_json({"ok": False, "error": error.as_dict()}, sort_keys=False))
        return error.code
    except KeyboardInterrupt:
        sys.stderr.write(f"keras-deser {args.command}: interrupted\n")
        return 130
    out.write(result.render_json() if args.json else result.render_text())
    out.flush()
    return result.code


if __name__ == "__main__":
    sys.exit(main())
