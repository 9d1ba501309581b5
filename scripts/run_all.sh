#!/usr/bin/env bash
# Train and evaluate EAL-GAN on every ODDS set for several seeds (default 42..46),
# then rebuild results/COMPARISON.md. Resumable: a dataset/seed already in
# results/runs.csv is skipped. Seed 42's weights go to weights/DATASET (shipped),
# other seeds' to weights_seeds/seedS/DATASET (not committed).
# usage: bash scripts/run_all.sh [SEED ...]
#        DATASETS="glass lympho" bash scripts/run_all.sh 42      (a subset)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(42 43 44 45 46)
for seed in "${seeds[@]}"; do
    [[ "$seed" =~ ^[0-9]+$ ]] || { echo "usage: bash scripts/run_all.sh [SEED ...]  ('$seed' is not a seed)" >&2; exit 1; }
done
datasets=(${DATASETS:-lympho glass ionosphere arrhythmia pima vowels letter cardio musk optdigits satimage-2 satellite pendigits annthyroid mnist shuttle})

bash scripts/setup_env.sh
bash scripts/get_data.sh "${datasets[@]}" > /dev/null
mkdir -p log results

done_already() {  # $1 dataset, $2 seed
    [ -f results/runs.csv ] && awk -F, -v d="$1" -v s="$2" \
        '$1 == "EAL-GAN" && $2 == d && $6 == s {found = 1} END {exit !found}' results/runs.csv
}

total=$(( ${#seeds[@]} * ${#datasets[@]} )); count=0; started=$(date +%s)
for seed in "${seeds[@]}"; do
    for name in "${datasets[@]}"; do
        count=$((count + 1))
        if done_already "$name" "$seed"; then
            echo "[$count/$total] $name seed $seed: done earlier, skipped"; continue
        fi
        weights=weights; [ "$seed" = 42 ] || weights="weights_seeds/seed$seed"
        log="log/log_train_${name}_seed${seed}.txt"
        echo "[$count/$total] $name seed $seed ($(( $(date +%s) - started ))s elapsed) -> $log"
        if ! .venv/bin/python -u train_eval.py --data_name "$name" --seed "$seed" \
                --weights_dir "$weights" > "$log" 2>&1; then
            echo "failed: $name seed $seed (see $log)" >&2; exit 1
        fi
        grep -E "^(selected|train:)" "$log" | sed 's/^/    /'
    done
done
.venv/bin/python scripts/compare.py
echo "sweep finished in $(( $(date +%s) - started ))s"
