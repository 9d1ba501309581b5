#!/usr/bin/env bash
# Train and evaluate detectors on every ODDS set for several seeds, then rebuild
# results/COMPARISON.md and the README table. Resumable: a model/dataset/seed
# already in results/runs.csv is skipped (RERUN=1: trained again). EAL-GAN's seed-42 weights
# replace the shipped ones in weights/DATASET; all others, and those of sets whose weights
# are too large to ship (none tracked in git), go to weights_seeds/seedS/ (not committed).
# usage: bash scripts/run_all.sh [SEED ...] [MODEL ...]
#   SEED default 42 43 44 45 46; MODEL default eal_gan; models: eal_gan ganomaly egbad anogan ae vae
#   e.g. bash scripts/run_all.sh                      (EAL-GAN, 5 seeds)
#        bash scripts/run_all.sh 42 ganomaly egbad anogan ae vae
#        DATASETS="glass lympho" bash scripts/run_all.sh 42      (a subset)
#        RERUN=1 DATASETS=lympho bash scripts/run_all.sh  (train again; each run's row and
#          seed-42 weights replace the old ones when it finishes)
#        THREADS=1 bash scripts/run_all.sh 42 43 & THREADS=1 bash scripts/run_all.sh 44 45 46
#          (two sweeps share 2 cores: small graphs run as fast on 1 thread, and the
#           results folder is locked per write)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
KNOWN="eal_gan ganomaly egbad anogan ae vae"
seeds=(); models=()
for arg in "$@"; do
    if [[ "$arg" =~ ^[0-9]+$ ]]; then seeds+=("$arg")
    elif [[ " $KNOWN " == *" $arg "* ]]; then models+=("$arg")
    else echo "error: '$arg' is neither a seed nor one of: $KNOWN; usage: bash scripts/run_all.sh [SEED ...] [MODEL ...]" >&2; exit 2
    fi
done
[ ${#seeds[@]} -gt 0 ] || seeds=(42 43 44 45 46)
[ ${#models[@]} -gt 0 ] || models=(eal_gan)
datasets=(${DATASETS:-lympho glass ionosphere arrhythmia pima vowels letter cardio musk optdigits satimage-2 satellite pendigits annthyroid mnist shuttle})

bash scripts/setup_env.sh
bash scripts/get_data.sh "${datasets[@]}" > /dev/null
mkdir -p log results

done_already() {  # $1 model label, $2 dataset, $3 seed
    [ -f results/runs.csv ] && awk -F, -v m="$1" -v d="$2" -v s="$3" \
        '$1 == m && $2 == d && $6 == s {found = 1} END {exit !found}' results/runs.csv
}

shipped() {  # $1 dataset: its seed-42 EAL-GAN weights are tracked in git
    git ls-files --error-unmatch "weights/$1/meta.json" > /dev/null 2>&1
}

total=$(( ${#models[@]} * ${#seeds[@]} * ${#datasets[@]} )); count=0; started=$(date +%s)
# A progress bar with the time left on stderr: tqdm counts the lines written to fd 3.
exec 3> >(.venv/bin/python -m tqdm --total "$total" --desc sweep --unit run > /dev/null)
for model in "${models[@]}"; do
    label=$(.venv/bin/python -c "import sys; from models import DETECTORS; print(DETECTORS[sys.argv[1]].label)" "$model")
    for seed in "${seeds[@]}"; do
        for name in "${datasets[@]}"; do
            count=$((count + 1))
            if [ -z "${RERUN:-}" ] && done_already "$label" "$name" "$seed"; then
                echo "[$count/$total] $label $name seed $seed: done earlier, skipped"; echo >&3
                continue
            fi
            weights="weights_seeds/seed$seed"
            if [ "$model" = eal_gan ] && [ "$seed" = 42 ] && shipped "$name"; then weights=weights; fi
            tag="$name"; [ "$model" = eal_gan ] || tag="${model}_$name"
            log="log/log_train_${tag}_seed${seed}.txt"
            echo "[$count/$total] $label $name seed $seed ($(( $(date +%s) - started ))s elapsed) -> $log"
            if ! .venv/bin/python -u train_eval.py --data_name "$name" --model "$model" \
                    --seed "$seed" --weights_dir "$weights" --threads "${THREADS:-2}" \
                    --plots False > "$log" 2>&1; then
                echo "failed: $label $name seed $seed (see $log)" >&2; exit 1
            fi
            grep -E "^(selected|threshold|train:)" "$log" | sed 's/^/    /'
            echo >&3
        done
    done
done
exec 3>&-
.venv/bin/python scripts/compare.py
echo "sweep finished in $(( $(date +%s) - started ))s"
