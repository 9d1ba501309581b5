"""Where a training step of EAL-GAN goes: kernels, their arithmetic, the runtime, the host.

    .venv/bin/python scripts/step_breakdown.py [--steps 200] [--threads 2]

For cardio at batch 128 (its shipped config, spectral normalisation on),
cardio at batch 128 without spectral normalisation, and shuttle (its
shipped config) at batch 128 and 2048, each in a fresh process, it prints
per D + G step:
- wall: the median time of a whole step (batch rows and noise to tensors,
  D step, G step, waiting for the result);
- host: the part of it spent in Python before the steps are launched
  (indexing the batch, tensors, noise);
- launch: two launches of a one-kernel graph (the fixed cost of calling
  a compiled graph, paid twice per step);
- kernels: kernel launches per step and the sum of their execution times,
  from MindSpore's profiler over the same steps (it runs in a separate
  block, since profiling slows every kernel down);
- runtime: wall - host - launch - kernel time, what MindSpore's runtime
  spends scheduling the kernels between them;
- the epoch's scoring: seconds to score the training and validation rows
  once (done after every epoch to choose epochs).
Times on a shared machine are noisy; the kernel count is exact.
"""
import argparse
import csv
import glob
import json
import os
import sys
import tempfile
import time

import numpy as np

from benchmark import fresh_process_json   # this folder is on sys.path when run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CASES = (("cardio", 128, ()), ("cardio", 128, ("--SN_used", "False")),
         ("shuttle", 128, ()), ("shuttle", 2048, ()))


def median_ms(function, repeats):
    function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def measure(dataset, batch, extra, steps, threads):
    """One case in this process: a dict of the numbers above."""
    import mindspore as ms
    from mindspore import Tensor, nn
    from config import model_config, resolve_settings
    from dataloader import load_table, resolve_data_file
    from models import EALGAN
    from models.eal_gan.estimator import score_rows
    from models.eal_gan.trainer import EpochLoop, NoiseStream
    from models.utils import runtime
    from preprocess import prepare

    runtime.configure("CPU", 0, threads)
    args = resolve_settings(["--data_name", dataset, "--batch_size", str(batch), *extra])
    data = prepare(load_table(resolve_data_file(os.path.join(ROOT, "data"), dataset)), 42,
                   scaling=args.scaling)
    X, y = data.X["train"], data.y["train"].astype(np.int32)
    model = EALGAN.from_config(model_config(args))
    model.config_ = model.config
    rngs = model._build(X.shape[1])
    _, graphs = model._borrow_graphs(model.config_, len(X), 1)
    loop = EpochLoop(graphs, model.config_, rngs)
    batch = min(batch, len(X))
    noise = NoiseStream(np.random.default_rng(1), batch, model.config_.dim_z)
    order = np.random.default_rng(0)
    valid = Tensor(np.ones(batch, np.float32))
    k = Tensor(np.int32(max(1, int(batch * model.config_.active_rate))))
    explore = Tensor(np.float32(1.0))

    def inputs():
        rows = order.permutation(len(X))[:batch]
        return (Tensor(X[rows]), Tensor(y[rows]), valid, k, explore, *noise.next()), noise.next()

    def step():
        d_inputs, g_inputs = inputs()
        loop.d_step(*d_inputs)
        loop.g_step(*g_inputs).asnumpy()

    class OneKernel(nn.Cell):
        def construct(self, x):
            return x + 1.0

    one_kernel, tiny = OneKernel(), Tensor(np.ones(4, np.float32))
    result = {"case": f"{dataset} batch {batch}" + (" " + " ".join(extra) if extra else ""),
              "wall_ms": median_ms(step, steps), "host_ms": median_ms(inputs, steps),
              "launch_ms": 2 * median_ms(lambda: one_kernel(tiny).asnumpy(), steps)}
    result.update(profile_kernels(ms, step, min(steps, 50)))
    result["runtime_ms"] = (result["wall_ms"] - result["host_ms"] - result["launch_ms"]
                            - result["kernel_ms"])
    started = time.perf_counter()
    score_rows(graphs.networks, X)
    score_rows(graphs.networks, data.X["val"])  # compiles the scoring graphs of these shapes
    result["compile_scoring_s"] = time.perf_counter() - started
    result["scoring_s"] = median_ms(lambda: (score_rows(graphs.networks, X),
                                             score_rows(graphs.networks, data.X["val"])),
                                    5) / 1000
    result["steps_per_epoch"] = -(-len(X) // batch)
    noise.close()
    return result


def profile_kernels(ms, step, steps):
    """Kernel launches and kernel milliseconds per step, from MindSpore's profiler."""
    with tempfile.TemporaryDirectory() as folder:
        profiler = ms.Profiler(output_path=folder)
        for _ in range(steps):
            step()
        profiler.analyse()
        table, = glob.glob(os.path.join(folder, "**", "cpu_op_type_info_*.csv"), recursive=True)
        with open(table, newline="") as handle:
            rows = list(csv.DictReader(handle))
    launches = sum(int(row["type_occurrences"]) for row in rows) / steps
    milliseconds = sum(float(row["total_compute_time"]) for row in rows) / steps
    heaviest = sorted(rows, key=lambda row: -float(row["total_compute_time"]))[:3]
    return {"kernels": launches, "kernel_ms": milliseconds,
            "heaviest": ", ".join(f"{row['op_type']} {float(row['total_compute_time']) / steps:.2f}"
                                  for row in heaviest)}


def run_case(dataset, batch, extra, steps, threads):
    command = [sys.executable, os.path.abspath(__file__), "--one", dataset, str(batch),
               "--steps", str(steps), "--threads", str(threads), "--", *extra]
    return fresh_process_json(command, f"step breakdown of {dataset} batch {batch}")


def report(steps, threads):
    print(f"EAL-GAN step breakdown (CPU, {os.cpu_count()} cores, {threads} kernel threads; "
          f"median of {steps} steps; kernel counts and times from MindSpore's profiler)")
    print("| case | wall ms | host ms | launch ms | kernels | kernel ms | runtime ms "
          "| heaviest kernels (ms) | steps/epoch | scoring s/epoch |")
    print("|---" * 10 + "|")
    for dataset, batch, extra in CASES:
        r = run_case(dataset, batch, extra, steps, threads)
        print(f"| {r['case']} | {r['wall_ms']:.1f} | {r['host_ms']:.2f} | {r['launch_ms']:.2f} "
              f"| {r['kernels']:.0f} | {r['kernel_ms']:.1f} | {r['runtime_ms']:.1f} "
              f"| {r['heaviest']} | {r['steps_per_epoch']} | {r['scoring_s']:.2f} |",
              flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", nargs=2, metavar=("DATASET", "BATCH"), help=argparse.SUPPRESS)
    parser.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps < 1 or args.threads < 1:
        sys.exit("error: --steps and --threads must be at least 1")
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), tuple(args.extra), args.steps,
                                 args.threads)))
    else:
        report(args.steps, args.threads)


if __name__ == "__main__":
    main()
