"""``keras-deser doctor``: what keras_deser is bound to, and what is installed."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .. import __version__
from .._activation import ENV_VAR
from ..info import upstream_info
from ..installer import installed_sites, is_installed
from ..safety import is_safe_mode
from .result import EXIT_OK, Result
from .table import render_table
from .upstream import Upstream, load_upstream

__all__ = ["run", "render"]

HELP = "show the detected TensorFlow/Keras and what keras_deser is bound to"

_LOCATION = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """doctor takes only the common options."""


def run(args: argparse.Namespace) -> Result:
    up = load_upstream(use_keras=not args.no_keras)
    report = {
        "keras_deser": {"version": __version__, "location": _LOCATION},
        "python": sys.version.split()[0],
        "installed": up.installed,
        "imported": up.imported,
        "import_errors": up.errors,
        "upstream": dict(upstream_info()),
        "layer_objects": {
            "source": up.layer_objects_source,
            "count": len(up.layer_objects) if up.layer_objects is not None else None,
        },
        "install": _install_status(),
        "safe_mode": _safe_mode_status(),
    }
    return Result(report, EXIT_OK, render, {"up": up})


def render(result: Result) -> str:
    report: dict[str, Any] = result.document
    up: Upstream = result.facts["up"]
    info = report["upstream"]
    install = report["install"]
    if install.get("error"):
        installed = f"unknown ({install['error']})"
    elif install["installed"]:
        installed = f"yes, at {len(install['sites'])} sites: " + (", ".join(install["sites"]) or "(none)")
    else:
        installed = "no"
    safe = report["safe_mode"]
    if safe["on"]:
        safe_text = "on for this process" + (f" (KERAS_DESER_INSTALL={safe['env']})" if safe["env"] else "")
    else:
        safe_text = "off (Keras 2.9 behaviour; --safe, keras_deser.safe_mode() or KERAS_DESER_INSTALL=safe turn it on)"
    objects = report["layer_objects"]
    rows = [
        ("keras_deser", f"{report['keras_deser']['version']} ({report['keras_deser']['location']})"),
        ("python", report["python"]),
        ("tensorflow", _version_cell("tensorflow", info["tensorflow_version"], up)),
        ("keras", _version_cell("keras", info["keras_version"], up)),
        ("flavour", f"{info['flavour']}: {info['releases']}"),
        ("registry", info["registry"]),
        ("scopes", f"{info['scopes']['kind']} at {info['scopes']['location']}"),
        ("shared objects", info["shared_objects"]),
        ("registered names", info["registered_names"]),
        ("legacy module", info["legacy_module"]),
        ("layer objects", f"{objects['count']} from {objects['source']}" if objects["count"] else None),
        ("installed into TF", installed),
        ("safe mode", safe_text),
    ]
    text = render_table(rows)
    for name, error in up.errors.items():
        text += f"warning: importing {name} failed: {error}\n"
    return text


def _version_cell(name: str, version: Any, up: Upstream) -> str:
    if version:
        return str(version)
    if name in up.errors:
        return "import failed"
    if up.installed.get(name):
        return "installed, not loaded"
    return "not installed"


def _install_status() -> dict[str, Any]:
    try:
        return {"installed": bool(is_installed()), "sites": [str(site) for site in installed_sites()]}
    except Exception as exc:
        return {"installed": None, "sites": [], "error": f"{type(exc).__name__}: {exc}"}


def _safe_mode_status() -> dict[str, Any]:
    """Safe mode as this thread sees it, and the switch that may have set it."""
    env = os.environ.get(ENV_VAR, "").strip() or None
    return {"on": bool(is_safe_mode()), "env": env}
