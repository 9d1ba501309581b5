#!/usr/bin/env bash
# Evaluate saved weights and refresh the results tables, logging to
# log/log_eval_DATASET.txt (log/log_eval_MODEL_DATASET.txt for the other detectors).
# usage: bash scripts/eval_1p.sh [MODEL] [DATASET ...] [-- train_eval.py flags ...]
#   MODEL: eal_gan (default, weights/DATASET), ganomaly, egbad, anogan, ae, vae (weights/MODEL/DATASET)
#   with no DATASET: every dataset that has weights for that model
set -euo pipefail
MODELS="eal_gan ganomaly egbad anogan ae vae"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODEL=eal_gan
if [ $# -gt 0 ] && [[ " $MODELS " == *" $1 "* ]]; then MODEL="$1"; shift; fi
datasets=(); flags=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; flags=("$@"); break; fi
    datasets+=("$1"); shift
done
# Datasets are looked for where train_eval.py will look: the last --weights_dir given.
weights=weights
for ((i = 0; i < ${#flags[@]}; i++)); do
    case "${flags[i]}" in
        --weights_dir) weights="${flags[i + 1]:-weights}" ;;
        --weights_dir=*) weights="${flags[i]#--weights_dir=}" ;;
    esac
done
weights="${weights%/}"
folder="$weights"; [ "$MODEL" = eal_gan ] || folder="$weights/$MODEL"
if [ ${#datasets[@]} -eq 0 ]; then
    for meta in "$folder"/*/meta.json; do
        [ -f "$meta" ] && datasets+=("$(basename "$(dirname "$meta")")")
    done
fi
if [ ${#datasets[@]} -eq 0 ]; then
    echo "error: no weights found under $folder/; usage: bash scripts/eval_1p.sh [MODEL] [DATASET ...] [-- flags]" >&2
    exit 2
fi
bash scripts/setup_env.sh
mkdir -p log
failed=()
for name in "${datasets[@]}"; do
    if grep -q " $name.mat\$" data/SHA256SUMS && [ ! -f "data/$name.mat" ]; then
        bash scripts/get_data.sh "$name" || { failed+=("$name"); continue; }
    fi
    log="log/log_eval_$name.txt"; [ "$MODEL" = eal_gan ] || log="log/log_eval_${MODEL}_$name.txt"
    set +e
    .venv/bin/python -u train_eval.py --data_name "$name" --model "$MODEL" --resume True \
        "${flags[@]}" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    [ "$status" -eq 0 ] || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "evaluation failed for: ${failed[*]}" >&2
    exit 1
fi
