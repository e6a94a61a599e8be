"""``keras-deser audit``: what a config would resolve, from where, and what
safe mode would refuse; nothing is built.

The figures are the :class:`keras_deser.AuditReport`'s own (``findings``,
``unresolved``, ``unsafe``, ``ok``, ``to_dict()``); this module only lays
them out.
"""

from __future__ import annotations

import argparse
import copy
from typing import Any

from .. import AuditReport
from .. import audit as audit_config
from ..safety import trusted_objects
from .build import safe_context
from .options import prepare
from .result import EXIT_FAILURE, EXIT_OK, CLIError, Result
from .table import render_table

__all__ = ["run", "render", "format_audit_table", "audit_entries", "audit_counts", "audit_findings"]

HELP = "list every name FILE would resolve, from where, and what safe mode would refuse (builds nothing)"

#: Columns of the audit table: (title, Finding field).
_COLUMNS = (
    ("PATH", "path"),
    ("NAME", "name"),
    ("KIND", "kind"),
    ("RESOLVES FROM", "resolves_from"),
    ("UNSAFE", "unsafe"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="JSON config or HDF5 file with model_config, or -")


def audit_entries(report: AuditReport) -> list[dict[str, Any]]:
    """The findings of ``report`` as plain dicts, in the report's order."""
    entries: list[dict[str, Any]] = report.to_dict()["entries"]
    return entries


def audit_counts(report: AuditReport) -> dict[str, int]:
    """``{"findings", "unresolved", "unsafe"}`` counts of a report."""
    return {"findings": len(report.findings), "unresolved": len(report.unresolved), "unsafe": len(report.unsafe)}


def audit_findings(report: AuditReport) -> bool:
    """True when anything in the report is unsafe or unresolved (exit 1)."""
    return not report.ok


def format_audit_table(report: AuditReport) -> str:
    """The audit report as a fixed-width text table (ends with a summary).

    Paths are printed as the audit gives them; empty cells are ``-``.
    """
    rows = [[getattr(finding, key) for _, key in _COLUMNS] for finding in report.findings]
    counts = audit_counts(report)
    return render_table(rows, header=[title for title, _ in _COLUMNS]) + (
        f"{counts['findings']} findings, {counts['unresolved']} unresolved, {counts['unsafe']} unsafe\n"
    )


def run(args: argparse.Namespace) -> Result:
    """Audit the config (for a model file: the model config) without building it.

    ``module_objects=None``: the loaded Keras's public layer, initializer,
    ... objects stand in for the tables its own loaders pass (resolves from
    ``keras``).  With ``--safe`` the audit runs inside safe mode and the
    verdict says whether safe mode would refuse the config.
    """
    up, custom_objects, config, label, _ = prepare(args)
    try:
        with safe_context(args.safe):
            report = audit_config(
                copy.deepcopy(config), module_objects=None, custom_objects=custom_objects or None,
                trusted=trusted_objects(),
            )
    except Exception as exc:
        raise CLIError(f"audit failed: {type(exc).__name__}: {exc}", file=label) from None
    document: dict[str, Any] = {
        "file": label,
        "counts": audit_counts(report),
        "safe_mode_would_refuse": bool(report.unsafe),
        "keras": up.available,
    }
    document.update(report.to_dict())
    return Result(document, EXIT_OK if report.ok else EXIT_FAILURE, render, {"report": report, "skipped": up.skipped})


def render(result: Result) -> str:
    report: AuditReport = result.facts["report"]
    document = result.document
    text = f"audit of {document['file']}\n" + format_audit_table(report)
    if report.unsafe:
        text += f"safe mode would refuse this config ({len(report.unsafe)} unsafe)\n"
    else:
        text += "safe mode would accept this config\n"
    if report.unresolved and not document["keras"]:
        why = "--no-keras was given" if result.facts["skipped"] else "no TensorFlow/Keras could be imported"
        text += (
            f"note: {why}, so Keras's own classes and functions are unresolved; "
            "classes of your own can be given with --custom-objects module:attribute\n"
        )
    return text
