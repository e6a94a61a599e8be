#!/usr/bin/env bash
# Build the documentation site strictly, in a throwaway virtual environment.
#
#   bash .ci/docs.sh            # build into a temporary directory, then delete it
#   bash .ci/docs.sh site/      # keep the built site in site/
#
# Installs keras_deser's `docs` extra (mkdocs-material, mkdocstrings[python])
# from PyPI with uv (or python -m venv + pip when uv is missing) and runs
# `mkdocs build --strict`: a broken link, a missing nav page or a docstring
# mkdocstrings cannot render fails the build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/keras_deser_docs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
SITE="${1:-$WORK/site}"

# An interpreter that runs and is 3.9+ (mkdocstrings' minimum); pyenv shims
# that exist but are not activated fail the check and are skipped.
usable() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 9))' >/dev/null 2>&1; }
PYTHON="${DOCS_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.12 python3.11 python3.13 python3.10 python3 \
      $(ls -d "$HOME"/.pyenv/versions/3.1[0-3].*/bin/python 2>/dev/null | sort -rV); do
    if command -v "$candidate" >/dev/null 2>&1 && usable "$candidate"; then
      PYTHON="$(command -v "$candidate")"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "docs: no Python 3.9+ found (set DOCS_PYTHON)" >&2
  exit 2
fi

echo "docs: building with $PYTHON in $WORK/venv"
if command -v uv >/dev/null 2>&1; then
  UV_PYTHON_DOWNLOADS=never uv venv -q -p "$PYTHON" "$WORK/venv"
  VIRTUAL_ENV="$WORK/venv" uv pip install -q -e "$ROOT[docs]"
else
  "$PYTHON" -m venv "$WORK/venv"
  "$WORK/venv/bin/python" -m pip install -q -e "$ROOT[docs]"
fi

cd "$ROOT"
"$WORK/venv/bin/mkdocs" build --strict --site-dir "$SITE"
echo "docs: built $SITE"
