#!/usr/bin/env bash
# Create the project environment (.venv): requirements-dev.txt, and this repository
# installed in editable mode (import name `ealgan`).
# Idempotent: returns at once when .venv already holds exactly these requirements.
# usage: bash scripts/setup_env.sh        (PYTHON=/path/to/python3.11 to choose the interpreter)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.requirements.sha256"
wanted="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" "$ROOT/pyproject.toml" \
    | sha256sum | cut -d' ' -f1)"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then
    exit 0
fi

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
    if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 11) else 1)'; then
    echo "error: MindSpore 2.10 needs Python 3.9-3.11; $PYTHON is $("$PYTHON" --version 2>&1). Set PYTHON=/path/to/python3.11" >&2
    exit 2
fi

echo "setting up $VENV with $("$PYTHON" --version 2>&1) (first time: MindSpore is an ~800 MB download) ..."
rm -f "$STAMP"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements-dev.txt"
"$VENV/bin/python" -m pip install --quiet --no-deps -e "$ROOT"
"$VENV/bin/python" -c 'import mindspore, numpy; assert numpy.__version__ < "2"'
echo "$wanted" > "$STAMP"
echo "environment ready: $VENV"
