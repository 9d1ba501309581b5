#!/usr/bin/env bash
# Set up the environment if needed, then run the test suite.
# usage: bash scripts/run_tests.sh [pytest arguments ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest tests "$@"
