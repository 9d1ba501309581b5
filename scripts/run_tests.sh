#!/usr/bin/env bash
# Set up the environment if needed, lint, then run the test suite.
# usage: bash scripts/run_tests.sh [--full] [pytest arguments ...]
#   The default leaves out the slow end-to-end tests (marked slow: whole commands,
#   msrun workers, scikit-learn's estimator checks); --full runs every test, and CI
#   (which sets CI) always does.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
"$ROOT/.venv/bin/ruff" check .
args=()
if [ -n "${CI:-}" ] && [ "${1:-}" != "--full" ]; then args=(--full); fi
# A fresh machine (CI sets CI) has nothing compiled yet: two test processes share the
# compiling. Elsewhere one process runs the suite and reuses its compile cache
# (models/utils/compile_cache.py) on every later run.
if [ -n "${CI:-}" ]; then args+=(-n 2); fi
exec "$ROOT/.venv/bin/python" -m pytest tests "${args[@]}" "$@"
