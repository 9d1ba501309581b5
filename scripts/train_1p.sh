#!/usr/bin/env bash
# Train and evaluate EAL-GAN on one dataset (one device), logging to log/log_train_DATASET.txt.
# usage: bash scripts/train_1p.sh DATASET [train_eval.py flags ...]
#   e.g. bash scripts/train_1p.sh glass
#        bash scripts/train_1p.sh shuttle --max_epochs 50 --device_target CPU
set -euo pipefail
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
    echo "usage: bash scripts/train_1p.sh DATASET [train_eval.py flags ...]" >&2
    exit 1
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATASET="$1"; shift
bash scripts/setup_env.sh
if grep -q " $DATASET.mat\$" data/SHA256SUMS && [ ! -f "data/$DATASET.mat" ]; then
    bash scripts/get_data.sh "$DATASET"
fi
mkdir -p log
set +e
.venv/bin/python -u train_eval.py --data_name "$DATASET" "$@" 2>&1 | tee "log/log_train_$DATASET.txt"
status=${PIPESTATUS[0]}
set -e
echo "log: log/log_train_$DATASET.txt"
exit "$status"
