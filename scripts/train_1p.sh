#!/usr/bin/env bash
# Train and evaluate one detector on one dataset (one device), logging to
# log/log_train_DATASET.txt (log/log_train_MODEL_DATASET.txt for the other detectors).
# usage: bash scripts/train_1p.sh DATASET|FILE [MODEL] [train_eval.py flags ...]
#   MODEL: eal_gan (default), ganomaly, egbad, anogan, ae, vae
#   e.g. bash scripts/train_1p.sh glass
#        bash scripts/train_1p.sh shuttle --max_epochs 50 --device_target CPU
#        bash scripts/train_1p.sh cardio vae
set -euo pipefail
MODELS="eal_gan ganomaly egbad anogan ae vae"
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then   # bad arguments exit 2, as in train_eval.py
    echo "error: the first argument must be a DATASET; usage: bash scripts/train_1p.sh DATASET [MODEL] [train_eval.py flags ...]  (MODEL: ${MODELS// /, })" >&2
    exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATASET="$1"; shift
# a path to the user's own .mat / .csv: absolute before the cd, its name for the log
if [ -f "$DATASET" ]; then DATASET="$(cd "$(dirname "$DATASET")" && pwd)/$(basename "$DATASET")"; fi
NAME="$(basename "$DATASET")"; NAME="${NAME%.mat}"; NAME="${NAME%.csv}"
cd "$ROOT"
MODEL=eal_gan
if [ $# -gt 0 ] && [[ " $MODELS " == *" $1 "* ]]; then MODEL="$1"; shift; fi
bash scripts/setup_env.sh
if grep -q " $DATASET.mat\$" data/SHA256SUMS && [ ! -f "data/$DATASET.mat" ]; then
    bash scripts/get_data.sh "$DATASET"
fi
mkdir -p log
log="log/log_train_$NAME.txt"; [ "$MODEL" = eal_gan ] || log="log/log_train_${MODEL}_$NAME.txt"
set +e
.venv/bin/python -u train_eval.py --data_name "$DATASET" --model "$MODEL" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo "log: $log"
exit "$status"
