#!/usr/bin/env bash
# Data-parallel EAL-GAN training with MindSpore's launcher (msrun), WORKERS processes
# on this machine; each worker's log goes to log/distributed_DATASET/worker_N.log.
# usage: bash scripts/run_distributed_train.sh DATASET|FILE WORKERS [train_eval.py flags ...]
#   e.g. bash scripts/run_distributed_train.sh shuttle 2 --threads 1 --batch_size 8192
#        (each step pays an all-reduce per network and waits for the slower worker, so
#        give workers large batches; on one CPU machine one process is faster)
# Environment: MASTER_PORT (default 8118), the scheduler's port on this machine;
#   MS_NODE_TIMEOUT (default 60): seconds after which the scheduler gives up on a
#   worker that stopped answering (a killed worker ends the job after this long);
#   CLUSTER_TIME_OUT (default 120): seconds the workers may take to find each other;
#   LOG_DIR (default log/distributed_DATASET): where msrun writes the workers' logs.
# Several machines: see docs/distributed.md, "Several machines" (msrun --node_rank, --master_addr).
set -euo pipefail
usage="usage: bash scripts/run_distributed_train.sh DATASET WORKERS [train_eval.py flags ...]"
if [ $# -lt 2 ] || [ "${1#-}" != "$1" ]; then echo "error: DATASET and WORKERS are needed; $usage" >&2; exit 2; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATASET="$1"; WORKERS="$2"; shift 2
if ! [[ "$WORKERS" =~ ^[0-9]+$ ]] || [ "$WORKERS" -lt 1 ]; then
    echo "error: WORKERS must be a positive whole number, got '$WORKERS'" >&2; exit 2
fi
PORT="${MASTER_PORT:-8118}"
if [ -f "$DATASET" ]; then DATASET="$(cd "$(dirname "$DATASET")" && pwd)/$(basename "$DATASET")"; fi
NAME="$(basename "$DATASET")"; NAME="${NAME%.mat}"; NAME="${NAME%.csv}"
cd "$ROOT"
bash scripts/setup_env.sh
if grep -q " $DATASET.mat\$" data/SHA256SUMS && [ ! -f "data/$DATASET.mat" ]; then
    bash scripts/get_data.sh "$DATASET"
fi
if ! .venv/bin/python -c "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))" "$PORT" 2>/dev/null; then
    echo "error: port $PORT is in use; set MASTER_PORT to a free port" >&2; exit 2
fi
LOGS="${LOG_DIR:-log/distributed_$NAME}"
rm -rf "$LOGS"; mkdir -p "$LOGS"
export PATH="$ROOT/.venv/bin:$PATH"   # msrun starts the workers with `python` from PATH
export MS_NODE_TIMEOUT="${MS_NODE_TIMEOUT:-60}"
set +e
msrun --worker_num "$WORKERS" --local_worker_num "$WORKERS" --master_port "$PORT" \
    --cluster_time_out "${CLUSTER_TIME_OUT:-120}" --log_dir "$LOGS" --join True train_eval.py --data_name "$DATASET" --distributed True "$@" \
    > "$LOGS/msrun.log" 2>&1
status=$?
set -e
# worker 0's output, without its error line: the one below is the only one printed
cat "$LOGS/worker_0.log" 2>/dev/null | grep -v -E "^\[(INFO|WARNING)\]|^error: " || true
if [ "$status" -ne 0 ]; then
    problem="$(grep -h -m1 '^error: ' "$LOGS"/worker_*.log 2>/dev/null | head -1 || true)"
    echo "${problem:-error: a worker failed (exit $status)}; logs: $LOGS/" >&2
    exit "$status"
fi
echo "logs: $LOGS/"
