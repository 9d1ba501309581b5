#!/usr/bin/env bash
# Set up the environment if needed, lint, then run the test suite.
# usage: bash scripts/run_tests.sh [pytest arguments ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
"$ROOT/.venv/bin/ruff" check .
exec "$ROOT/.venv/bin/python" -m pytest tests "$@"
