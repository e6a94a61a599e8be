"""``keras-deser verify``: keras_deser against the unpatched upstream, on one file.

The comparison is :func:`keras_deser.testing.compare`'s: upstream's own
4-argument function with keras_deser taken out of the loaded Keras (built
first), then keras_deser (throughout unless ``--no-patch``); the outcomes
(class and ``get_config()``, or exception type and message) are compared.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any, Callable, Iterator

from ..info import upstream_info
from ..installer import is_installed
from ..safety import is_safe_mode
from ..testing import compare, upstream_function
from .build import Routing, describe_routing, failure, printable_name, refuse_if_unsafe, safe_context
from .options import prepare
from .result import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CLIError, Result
from .upstream import Upstream

__all__ = ["run", "render"]

HELP = "compare keras_deser with the unpatched upstream on FILE"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="JSON config or HDF5 file with model_config, or -")


def _upstream_function(up: Upstream) -> tuple[Callable[..., Any], str]:
    """Upstream's own 4-argument function (never keras_deser's) and its label."""
    info = upstream_info()
    if not up.available:
        raise CLIError(
            "verify needs an installed TensorFlow/Keras to compare against "
            f"(keras_deser is bound to {info['flavour']!r})"
        )
    try:
        function = upstream_function()
    except (RuntimeError, KeyError) as exc:
        raise CLIError(f"verify cannot find upstream's deserialize_keras_object: {exc}") from None
    return function, f"{info['legacy_module']}.deserialize_keras_object"


def run(args: argparse.Namespace) -> Result:
    up, custom_objects, config, label, _ = prepare(args)
    if args.safe or is_safe_mode():
        # Upstream does not check safe mode: refuse before either side runs anything.
        refuse_if_unsafe(config, label, up.layer_objects, custom_objects)
    upstream, upstream_name = _upstream_function(up)
    was_installed = is_installed()
    routing = Routing(up, not args.no_patch)

    @contextlib.contextmanager
    def ours_context() -> Iterator[None]:
        with safe_context(args.safe), routing:
            yield

    comparison = compare(
        config, up.layer_objects, custom_objects or None, printable_name(up), upstream=upstream,
        ours_context=ours_context(),
    )
    ours, theirs = comparison.ours_trial, comparison.upstream_trial
    assert ours is not None and theirs is not None
    errors: dict[str, CLIError | None] = {}
    for side, trial in (("upstream", theirs), ("keras_deser", ours)):
        error = failure(trial.value, config, label, up) if trial.outcome.kind == "error" else None
        if error is not None and error.code == EXIT_USAGE:
            raise error
        errors[side] = error
    result: dict[str, Any] = {
        "file": label,
        "upstream": upstream_name,
        "identical": False,
        "diff": None,
        "routing": routing.mode,
        "was_installed": was_installed,
    }
    if ours.outcome.kind == "result" and theirs.outcome.kind == "result":
        result["seconds"] = {"upstream": round(theirs.seconds, 6), "keras_deser": round(ours.seconds, 6)}
        if comparison.same:
            result["status"] = "identical"
            result["identical"] = True
        else:
            result["status"] = "different"
            result["diff"] = comparison.diff(f"upstream ({upstream_name})", "keras_deser") + "\n"
    else:
        result["errors"] = {side: (error.render("verify") if error else None) for side, error in errors.items()}
        if ours.outcome.kind == theirs.outcome.kind:
            result["status"] = "both-failed-alike" if comparison.same else "both-failed"
        else:
            result["status"] = "one-failed"
    code = EXIT_OK if result["identical"] else EXIT_FAILURE
    return Result(result, code, render, {"routing": routing.as_dict()})


def render(result: Result) -> str:
    document = result.document
    label, upstream_name = document["file"], document["upstream"]
    if document["identical"]:
        text = f"identical: keras_deser and {upstream_name} build the same object from {label}\n"
        text += f"  keras_deser side: {describe_routing(result.facts['routing'])}\n"
        if document["was_installed"]:
            text += "  upstream side: built with keras_deser uninstalled for the build (installed again after)\n"
        text += (
            f"  upstream {document['seconds']['upstream'] * 1000:.1f} ms (built first: includes one-time warm-up), "
            f"keras_deser {document['seconds']['keras_deser'] * 1000:.1f} ms\n"
        )
        return text
    if document["status"] == "different":
        return f"different: get_config() of the two objects built from {label} differ\n" + document["diff"]
    if document["status"] == "both-failed-alike":
        text = f"not built: both fail alike on {label}\n"
    elif document["status"] == "both-failed":
        text = f"not built: both fail, with different messages, on {label}\n"
    else:
        text = f"different: only one side fails on {label}\n"
    for side, error in document["errors"].items():
        text += f"  {side}: {error if error else 'built'}\n"
    return text
