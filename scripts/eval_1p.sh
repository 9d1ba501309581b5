#!/usr/bin/env bash
# Evaluate saved weights (weights/DATASET) and refresh the results tables,
# logging to log/log_eval_DATASET.txt.
# usage: bash scripts/eval_1p.sh [DATASET ...] [-- train_eval.py flags ...]
#   with no DATASET: every dataset that has weights under weights/
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
datasets=(); flags=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; flags=("$@"); break; fi
    datasets+=("$1"); shift
done
if [ ${#datasets[@]} -eq 0 ]; then
    for meta in weights/*/meta.json; do
        [ -f "$meta" ] && datasets+=("$(basename "$(dirname "$meta")")")
    done
fi
if [ ${#datasets[@]} -eq 0 ]; then
    echo "usage: bash scripts/eval_1p.sh [DATASET ...] [-- flags]  (no weights found under weights/)" >&2
    exit 1
fi
bash scripts/setup_env.sh
mkdir -p log
failed=()
for name in "${datasets[@]}"; do
    if grep -q " $name.mat\$" data/SHA256SUMS && [ ! -f "data/$name.mat" ]; then
        bash scripts/get_data.sh "$name" || { failed+=("$name"); continue; }
    fi
    set +e
    .venv/bin/python -u train_eval.py --data_name "$name" --resume True "${flags[@]}" 2>&1 \
        | tee "log/log_eval_$name.txt"
    status=${PIPESTATUS[0]}
    set -e
    [ "$status" -eq 0 ] || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "evaluation failed for: ${failed[*]}" >&2
    exit 1
fi
