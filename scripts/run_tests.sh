#!/usr/bin/env bash
# Set up the environment if needed, lint, then run the test suite.
# usage: bash scripts/run_tests.sh [pytest arguments ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
"$ROOT/.venv/bin/ruff" check .
# A fresh machine (CI sets CI) has nothing compiled yet: two test processes share the
# compiling. Elsewhere one process runs the suite and reuses its compile cache
# (models/utils/compile_cache.py) on every later run.
workers=()
if [ -n "${CI:-}" ]; then workers=(-n 2); fi
exec "$ROOT/.venv/bin/python" -m pytest tests "${workers[@]}" "$@"
