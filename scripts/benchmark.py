"""Speed and memory of the fused ensemble step, and of whole commands with the compile cache.

    .venv/bin/python scripts/benchmark.py [--steps 30] [--epochs 4]
    .venv/bin/python scripts/benchmark.py --commands [--official_code PATH]
    .venv/bin/python scripts/benchmark.py --distributed [--rows 1000000] [--batches 2048,8192]
        [--baseline_code DIR]
    .venv/bin/python scripts/benchmark.py --python [--dataset glass]
    .venv/bin/python scripts/benchmark.py --against REV [--sets glass,cardio,shuttle]

--python fits EAL-GAN on one dataset twice, each in a fresh process without
the compile cache: with train_eval.py, and from Python with the installed
`ealgan` package on the same split and settings (nothing configures
MindSpore but the estimator).  It prints both fits' seconds, their ratio,
and whether the two models' test scores are bit-identical.

--commands times whole `train_eval.py` commands (process start to exit) on
glass, cardio and shuttle with their shipped settings: without the compile
cache, with an empty cache (cold) and again with the cache it filled
(warm).  With --official_code (a checkout of smallcube/EAL-GAN) and the
parity environment of scripts/parity.py, it also times cardio with the
authors' settings for 30 epochs in this port (warm cache) and in their
PyTorch code (scripts/parity_official.py, 2 threads, OMP_WAIT_POLICY=PASSIVE)
on the same split, one after the other: the whole-command and per-epoch
ratios.

--distributed first times one collective between two msrun workers (the
cost of an AllReduce call on this backend, small and large).  Then, for
each global batch of --batches (default 2048, 8192, 32768), it trains on a
synthetic table (--rows rows, 10 features, 2 % anomalies, 2 epochs) one
process with 2 threads, two msrun workers with 1 thread each
(scripts/run_distributed_train.sh; with --baseline_code DIR also that
checkout's, e.g. an earlier commit), one worker's share alone (half the rows
and half the batch, 1 thread) and two such shares side by side.  It prints
epoch 2's milliseconds per step and seconds per epoch (the D and G steps;
and the whole epoch, worker 0's scoring included), the speed-ups of two
workers over one process, and where a two-worker step's time goes:
contention for the cores, the collectives, waiting, and the scoring during
which worker 1 idles.

--against REV measures this checkout and a temporary git worktree of REV
(a commit, e.g. HEAD~1) one after the other, each with its own code and
scripts: the step milliseconds at batch 16, 128 and 2048 (`--one`, each in
a fresh process), and whole `train_eval.py` commands on --sets with their
shipped configs, without the compile cache and again with a warm cache,
plus glass with --tune True (every candidate fit, then the refit).  It
prints both and their ratio (REV / this checkout: above 1 is faster here).

Without --commands, --distributed or --against:

For shuttle (batch 2048 and 256) and cardio (batch 128), each case in fresh
processes: compile time (first D+G step), median milliseconds per training
step (batch assembly, noise, D step, G step) of the fused step and of the
unfused one (one compiled update per member, as the reference code does it)
timed in alternating blocks in one process, their ratio, seconds per epoch
including the per-epoch scoring of train and validation rows, and the peak
resident memory of each step kind in a process of its own.  Absolute times
on a shared machine are noisy; the ratio measured in one run is the number
to compare.
"""
import argparse
import dataclasses
import functools
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CASES = (("shuttle", 2048), ("shuttle", 256), ("cardio", 128))


def measure(dataset, batch, modes, steps, epochs):
    """Time `modes` ("fused", "unfused") in this process, interleaved; returns numbers."""
    from models import EALGAN
    from models.utils import runtime
    from mindspore import Tensor
    from dataloader import load_table, resolve_data_file
    from models.eal_gan.estimator import score_rows
    from models.eal_gan.trainer import EpochLoop, NoiseStream
    from tests.reference.unfused import UnfusedTrainer, split_members
    from preprocess import prepare
    from config import model_config, resolve_settings

    runtime.configure("CPU", 0, runtime.DEFAULT_CPU_THREADS)
    args = resolve_settings(["--data_name", dataset, "--batch_size", str(batch)])
    data = prepare(load_table(resolve_data_file(os.path.join(ROOT, "data"), dataset)), 42,
                   scaling=args.scaling)
    X, y = data.X["train"], data.y["train"]
    model = EALGAN.from_config(model_config(args))
    model.config_ = dataclasses.replace(model.config, max_epochs=max(epochs, 1))
    rngs = model._build(X.shape[1])
    _, graphs = model._borrow_graphs(model.config_, len(X), 1)
    loop = EpochLoop(graphs, model.config_, rngs)
    batch = min(batch, len(X))
    rng = np.random.default_rng(0)
    noise = NoiseStream(np.random.default_rng(1), batch, model.config_.dim_z)

    def batch_tensors():
        rows = rng.permutation(len(X))[:batch]
        return Tensor(X[rows]), Tensor(y[rows])

    def fused_step():
        x, labels = batch_tensors()
        losses, _ = loop.d_step(x, labels, Tensor(np.ones(batch, np.float32)),
                                Tensor(np.int32(batch)), Tensor(np.float32(1.0)), *noise.next())
        losses.asnumpy()
        loop.g_step(*noise.next()).asnumpy()

    def unfused_step():
        x, labels = batch_tensors()
        unfused.d_step(x, labels, batch, *noise.next())
        unfused.g_step(*noise.next()).asnumpy()

    if "unfused" in modes:
        members = split_members(model.discriminators_, np.random.default_rng(0), model.config_,
                                X.shape[1])
        unfused = UnfusedTrainer(model.generator_, members, model.member_lr_, model.config_)
    step = {"fused": fused_step, "unfused": unfused_step}
    result = {"dataset": dataset, "batch": batch, "steps_per_epoch": -(-len(X) // batch)}
    times = {mode: [] for mode in modes}
    for mode in modes:
        result[f"{mode}_compile_s"] = _seconds(step[mode])
    # alternate short blocks so that a slow spell of a shared machine hits both
    for _ in range(steps // 5):
        for mode in modes:
            times[mode] += [_seconds(step[mode]) for _ in range(5)]
    noise.close()
    for mode in modes:
        result[f"{mode}_step_ms"] = 1000 * float(np.median(times[mode]))
    if "fused" in modes and epochs:
        history, _ = loop.run(X, y, data.X["val"], data.y["val"],
                              functools.partial(score_rows, graphs.networks))
        # the first epoch also compiles the scoring graphs
        result["epoch_s"] = float(np.median([r["seconds"] for r in history[1:]]))
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _seconds(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def fresh_process_json(command, what, cwd=ROOT):
    """Run `command` in a fresh process; the JSON of its last line of output.
    Exits with one error line naming `what` when the command fails."""
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        sys.exit(f"error: {what} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_case(dataset, batch, modes, steps, epochs):
    command = [sys.executable, os.path.abspath(__file__), "--one", dataset, str(batch),
               ",".join(modes), "--steps", str(steps), "--epochs", str(epochs)]
    return fresh_process_json(command, f"benchmark case {dataset} {batch} {modes}")


def report(steps, epochs):
    print(f"EAL-GAN step benchmark (CPU, {os.cpu_count()} cores; median of {steps} steps per "
          f"mode, interleaved; epoch time: median of epochs 2-{epochs})")
    print("| case | steps/epoch | compile s | step ms | epoch s | 100 epochs s | peak MB "
          "| unfused compile s | unfused step ms | unfused peak MB | fused speed-up |")
    print("|---" * 11 + "|")
    for dataset, batch in CASES:
        speed = run_case(dataset, batch, ("fused", "unfused"), steps, epochs)
        fused_mb = run_case(dataset, batch, ("fused",), 5, 0)["peak_mb"]
        unfused_mb = run_case(dataset, batch, ("unfused",), 5, 0)["peak_mb"]
        total = speed["fused_compile_s"] + 100 * speed["epoch_s"]
        print("| " + " | ".join([
            f"{dataset} batch {speed['batch']}", str(speed["steps_per_epoch"]),
            f"{speed['fused_compile_s']:.1f}", f"{speed['fused_step_ms']:.1f}",
            f"{speed['epoch_s']:.2f}", f"{total:.0f}", f"{fused_mb:.0f}",
            f"{speed['unfused_compile_s']:.1f}", f"{speed['unfused_step_ms']:.1f}",
            f"{unfused_mb:.0f}",
            f"{speed['unfused_step_ms'] / speed['fused_step_ms']:.1f}x"]) + " |", flush=True)


COMMAND_SETS = ("glass", "cardio", "shuttle")
PARITY_EPOCHS = 30


def timed(command, env=None, cwd=ROOT):
    """Seconds of a whole command, from process start to exit."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        sys.exit(f"benchmark command failed: {' '.join(command)}\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started


def quiet_outputs(workdir):
    """train_eval.py flags: weights and results under workdir, no figures, no epoch lines."""
    return ["--weights_dir", os.path.join(workdir, "weights"),
            "--results_dir", os.path.join(workdir, "results"), "--plots", "False",
            "--print", "False"]


def train_command(dataset, workdir, *extra):
    return [sys.executable, os.path.join(ROOT, "train_eval.py"), "--data_name", dataset,
            *quiet_outputs(workdir), *extra]


def history_column(workdir, dataset, column):
    """One column of a saved run's history.csv, epoch by epoch."""
    import csv
    with open(os.path.join(workdir, "weights", dataset, "history.csv"), newline="") as handle:
        return [float(row[column]) for row in csv.DictReader(handle)]


def commands_report(official_code):
    import tempfile
    print(f"Whole train_eval.py commands (CPU, {os.cpu_count()} cores, 2 kernel threads; "
          "seconds from process start to exit)")
    print("| data | no cache s | cold cache s | warm cache s | warm speed-up |")
    print("|---|---|---|---|---|")
    for dataset in COMMAND_SETS:
        with tempfile.TemporaryDirectory() as workdir:
            cache = ["--compile_cache_dir", os.path.join(workdir, "cache")]
            off = timed(train_command(dataset, workdir, "--compile_cache", "False"))
            cold = timed(train_command(dataset, workdir, *cache))
            warm = timed(train_command(dataset, workdir, *cache))
        print(f"| {dataset} | {off:.1f} | {cold:.1f} | {warm:.1f} | {off / warm:.1f}x |",
              flush=True)
    if official_code:
        parity_against_authors(official_code)


def parity_against_authors(official_code):
    """cardio, the authors' settings, PARITY_EPOCHS epochs: this port (warm) and their code."""
    import tempfile
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import parity
    from dataloader import load_table, resolve_data_file
    with tempfile.TemporaryDirectory() as workdir:
        settings = ["--config", parity.OFFICIAL_PRESET, "--max_epochs", str(PARITY_EPOCHS),
                    "--compile_cache_dir", os.path.join(workdir, "cache")]
        timed(train_command("cardio", workdir, *settings))        # fills the cache
        ours = timed(train_command("cardio", workdir, *settings))
        ours_epoch = float(np.median(history_column(workdir, "cardio", "seconds")[1:]))
        split = os.path.join(workdir, "cardio.npz")
        table = load_table(resolve_data_file(os.path.join(ROOT, "data"), "cardio"))
        parity.write_split(parity.official_split(table, "cardio", 42), split)
        curves = os.path.join(workdir, "official.npz")
        theirs = timed(parity.official_command(official_code, split, curves, 42, PARITY_EPOCHS,
                                               2), env={"OMP_WAIT_POLICY": "PASSIVE"})
        with np.load(curves) as loaded:
            theirs_epoch = float(np.median(loaded["seconds"][1:]))
    print(f"\ncardio, the authors' settings, {PARITY_EPOCHS} epochs, split seed 42 "
          "(their per-epoch time excludes the test scoring the harness adds):")
    print("| | this port (warm cache) | authors' PyTorch code | ratio |")
    print("|---|---|---|---|")
    print(f"| whole command s | {ours:.1f} | {theirs:.1f} | {theirs / ours:.1f}x |")
    print(f"| seconds per epoch | {ours_epoch:.3f} | {theirs_epoch:.3f} | "
          f"{theirs_epoch / ours_epoch:.1f}x |")


AGAINST_STEPS = (("cardio", 16), ("cardio", 128), ("shuttle", 2048))


def against_report(rev, sets):
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        base = os.path.join(folder, "base")
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-q", base, rev],
                       check=True)
        try:
            os.symlink(os.path.join(ROOT, ".venv"), os.path.join(base, ".venv"))
            for name in os.listdir(os.path.join(ROOT, "data")):
                if name.endswith(".mat"):
                    os.symlink(os.path.join(ROOT, "data", name), os.path.join(base, "data", name))
            print(f"This checkout against {rev} (CPU, {os.cpu_count()} cores, 2 kernel threads; "
                  f"each measurement taken in both, one after the other)")
            print(f"| measurement | {rev} | this checkout | ratio |")
            print("|---|---|---|---|")
            for dataset, batch in AGAINST_STEPS:
                old, new = (step_ms(tree, dataset, batch) for tree in (base, ROOT))
                print_pair(f"{dataset} step ms, batch {batch}", old, new)
            for dataset in sets:
                for label, extra in (("no cache", ("--compile_cache", "False")),
                                     ("warm cache", ())):
                    old, new = (command_seconds(tree, folder, dataset, extra)
                                for tree in (base, ROOT))
                    print_pair(f"{dataset} command s, {label}", old, new)
            extra = ("--compile_cache", "False", "--tune", "True")
            old, new = (command_seconds(tree, folder, "glass", extra) for tree in (base, ROOT))
            print_pair("glass --tune True command s", old, new)
        finally:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", base],
                           check=False)


def print_pair(label, old, new):
    print(f"| {label} | {old:.1f} | {new:.1f} | {old / new:.2f}x |", flush=True)


def step_ms(tree, dataset, batch):
    """The median fused step of `tree`'s own benchmark, in a fresh process."""
    command = [sys.executable, os.path.join(tree, "scripts", "benchmark.py"), "--one", dataset,
               str(batch), "fused", "--steps", "100", "--epochs", "0"]
    return fresh_process_json(command, f"the step benchmark in {tree}", tree)["fused_step_ms"]


def command_seconds(tree, folder, dataset, extra):
    """Seconds of `tree`'s train_eval.py on dataset; with the cache on, of a second run."""
    workdir = os.path.join(folder, os.path.basename(tree) + "_" + dataset)
    command = [sys.executable, os.path.join(tree, "train_eval.py"), "--data_name", dataset,
               *quiet_outputs(workdir), "--overwrite", "True",
               "--compile_cache_dir", os.path.join(workdir, "cache"), *extra]
    if "--compile_cache" not in extra:
        timed(command, cwd=tree)     # fills the cache
    return timed(command, cwd=tree)


def synthetic_table(path, rows, features=10, anomaly_share=0.02, seed=0):
    """Normal rows around 0 and anomalies shifted by 2, as a .mat file."""
    import scipy.io
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < anomaly_share).astype(np.int32)
    X = (rng.standard_normal((rows, features)) + 2.0 * y[:, None]).astype(np.float32)
    scipy.io.savemat(path, {"X": X, "y": y.reshape(-1, 1)})


DISTRIBUTED_BATCHES = (2048, 8192, 32768)
ALLREDUCE_CALLS = 200


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def msrun_environment():
    """msrun starts `python` from PATH: this environment's; a free scheduler port."""
    return {"PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
            "MASTER_PORT": str(free_port())}


def collective_cases():
    """{name: (compiled cell, inputs)} of the AllReduce micro-benchmark (see below)."""
    from mindspore import Tensor, nn, ops
    from models import EALGAN
    model = EALGAN(seed=0)
    model.config_ = model.config
    model._build(10)
    d_shapes, g_shapes = ([p.shape for p in net.trainable_params()]
                          for net in (model.discriminators_, model.generator_))

    class Calls(nn.Cell):
        def __init__(self, collective):
            super().__init__()
            self.sum = ops.AllReduce() if collective else ops.Identity()

        def construct(self, *tensors):
            return tuple(self.sum(t) for t in tensors)

    def case(collective, *shapes):
        return Calls(collective), [Tensor(np.ones(shape, np.float32)) for shape in shapes]

    d_size, g_size = (sum(int(np.prod(s)) for s in shapes) for shapes in (d_shapes, g_shapes))
    return {"launch, no collective (1 float)": case(False, (1,)),
            "1 AllReduce of 1 float": case(True, (1,)),
            f"1 AllReduce of {d_size:,} floats (the D gradients, fused)": case(True, (d_size,)),
            f"1 AllReduce of {g_size:,} floats (the G gradients, fused)": case(True, (g_size,)),
            "1 AllReduce of 1,000,000 floats": case(True, (1_000_000,)),
            f"{len(d_shapes)} AllReduces of the D gradient tensors, one each":
                case(True, *d_shapes)}


def call_ms(cell, inputs):
    """Median ms of a compiled cell's call, waited for, after a warm-up."""
    def call():
        return [t.asnumpy() for t in cell(*inputs)]
    for _ in range(10):
        call()
    return 1000 * float(np.median([_seconds(call) for _ in range(ALLREDUCE_CALLS)]))


def allreduce_worker(out):
    """One msrun worker (1 thread) of the AllReduce micro-benchmark; worker 0 writes `out`.

    Times ms per call of a compiled cell: a cell without a collective (the
    launch alone), one AllReduce of 1 float, of the D and of the G step's
    flattened gradients (10 features, the default networks), of 1,000,000
    floats, and the D gradient tensors' AllReduces one by one (a D step's
    collectives before they were fused).
    """
    from models.utils import runtime
    runtime.configure("CPU", 0, 1)
    rank, _ = runtime.init_distributed()
    result = {name: call_ms(cell, inputs) for name, (cell, inputs) in collective_cases().items()}
    if rank == 0:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(result, handle)


def allreduce_report(workdir):
    """Runs allreduce_worker on 2 msrun workers of this machine; prints the table."""
    env = msrun_environment()
    out = os.path.join(workdir, "allreduce.json")
    timed(["msrun", "--worker_num", "2", "--local_worker_num", "2", "--master_port",
           env["MASTER_PORT"], "--log_dir", os.path.join(workdir, "allreduce_log"), "--join",
           "True", os.path.abspath(__file__), "--allreduce_worker", out], env)
    with open(out, encoding="utf-8") as handle:
        result = json.load(handle)
    print(f"Cost of a collective between 2 msrun workers x 1 thread (CPU backend; median of "
          f"{ALLREDUCE_CALLS} calls of a compiled cell, each waited for)")
    print("| call | ms |")
    print("|---|---|")
    for name, ms in result.items():
        print(f"| {name} | {ms:.2f} |")
    return result


def train_rows_of(rows):
    """Training rows of the split (20 % test, then a quarter of the rest validation)."""
    rest = rows - rows // 5
    return rest - -(-rest // 4)


def epoch_two(workdir, dataset):
    """(step seconds, whole-epoch seconds) of epoch 2 (compiled) of a saved run."""
    return (history_column(workdir, dataset, "step_seconds")[1],
            history_column(workdir, dataset, "seconds")[1])


def two_workers(code, workdir, settings, batch):
    """Epoch 2 of `code`'s (a checkout) scripts/run_distributed_train.sh, 2 x 1 thread."""
    env = {**msrun_environment(), "LOG_DIR": os.path.join(workdir, "log")}
    timed(["bash", os.path.join(code, "scripts", "run_distributed_train.sh"), "synthetic", "2",
           *quiet_outputs(workdir), *settings, "--batch_size", str(batch), "--threads", "1"],
          env)
    return epoch_two(workdir, "synthetic")


def scaling_runs(workdir, settings, batch, baseline):
    """One batch size: 1 process x 2 threads, 2 workers x 1 thread (this code, and the
    baseline checkout's if given), one worker's share alone (half rows, half batch)."""
    runs = {}
    timed(train_command("synthetic", workdir, *settings, "--batch_size", str(batch),
                        "--threads", "2"))
    runs["one"] = epoch_two(workdir, "synthetic")
    runs["two"] = two_workers(ROOT, workdir, settings, batch)
    if baseline:
        runs["before"] = two_workers(baseline, workdir, settings, batch)
    share = [*settings, "--batch_size", str(batch // 2), "--threads", "1"]
    timed(train_command("half", workdir, *share))
    runs["share"] = epoch_two(workdir, "half")
    runs["pair"] = max(side_by_side(workdir, share))
    return runs


def side_by_side(workdir, settings):
    """Two one-thread trainings of one worker's share at once, without communication:
    what two workers would take if they never waited for each other."""
    folders = [os.path.join(workdir, f"pair_{i}") for i in (0, 1)]
    processes = [subprocess.Popen(train_command("half", folder, *settings), cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for folder in folders]
    for process in processes:
        if process.wait() != 0:
            sys.exit(f"benchmark command failed: {process.stderr.read()}")
    return [epoch_two(folder, "half") for folder in folders]


def distributed_report(rows, batches, baseline, repeats):
    import tempfile
    with tempfile.TemporaryDirectory() as workdir:
        calls = allreduce_report(workdir)
        data = os.path.join(workdir, "data")
        os.makedirs(data)
        synthetic_table(os.path.join(data, "synthetic.mat"), rows)
        synthetic_table(os.path.join(data, "half.mat"), rows // 2)
        settings = ["--data_path", data, "--max_epochs", "2", "--select_top_k", "1",
                    "--active_rate", "1", "--compile_cache", "False"]
        rounds = []
        for round_ in range(repeats):   # whole rounds, so that a busy spell hits every run
            rounds.append({batch: scaling_runs(workdir, settings, batch, baseline)
                           for batch in batches})
            print(f"round {round_ + 1} of {repeats} done", file=sys.stderr, flush=True)
    curve = {batch: fastest([r[batch] for r in rounds]) for batch in batches}
    print_scaling(rows, curve, baseline, repeats)
    print_breakdown(rows, curve, calls)


def fastest(runs):
    """Of each kind of run, the round with the fewest step seconds: the least disturbed
    by other work on a shared machine."""
    return {kind: min((r[kind] for r in runs), key=lambda t: t[0]) for kind in runs[0]}


def print_scaling(rows, curve, baseline, repeats):
    train_rows = train_rows_of(rows)
    print(f"\nData-parallel training, {rows:,} rows x 10 features ({train_rows:,} training "
          f"rows; CPU, {os.cpu_count()} cores; epoch 2 of 2, the fastest of {repeats} "
          "round(s)).  Step ms: one global batch's D and G steps; step s: one epoch's steps; "
          "epoch s: the whole epoch on worker 0, its scoring of the train and validation rows "
          "included")
    columns = ["global batch", "steps", "1 process x 2 threads: step ms / step s / epoch s",
               "2 workers x 1 thread: step ms / step s / epoch s", "speed-up, steps",
               "speed-up, epoch"]
    if baseline:
        columns += ["before: 2 workers step ms", "before: speed-up, steps"]
    columns += ["one worker's share alone / two side by side: step ms"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for batch, runs in curve.items():
        print("| " + " | ".join(scaling_cells(batch, -(-train_rows // batch), runs,
                                              baseline)) + " |")


def scaling_cells(batch, steps, runs, baseline):
    (one, one_epoch), (two, two_epoch) = runs["one"], runs["two"]
    cells = [str(batch), str(steps), f"{1000 * one / steps:.1f} / {one:.2f} / {one_epoch:.2f}",
             f"{1000 * two / steps:.1f} / {two:.2f} / {two_epoch:.2f}", f"{one / two:.2f}x",
             f"{one_epoch / two_epoch:.2f}x"]
    if baseline:
        before = runs["before"][0]
        cells += [f"{1000 * before / steps:.1f}", f"{one / before:.2f}x"]
    share, pair = runs["share"][0], runs["pair"][0]
    return cells + [f"{1000 * share / steps:.1f} / {1000 * pair / steps:.1f}"]


def print_breakdown(rows, curve, calls):
    """Where a two-worker step's time goes, beyond one worker's share of the work."""
    train_rows = train_rows_of(rows)
    one_call = calls["1 AllReduce of 1 float"] - calls["launch, no collective (1 float)"]
    print("\nWhere the time of 2 workers goes, per global batch (ms): one worker's share "
          "alone (the other core idle); two shares side by side without communication "
          "(the slower; the difference is contention for the 2 cores); the 2 collectives "
          f"({one_call:.2f} ms each beyond a launch); the rest of the 2 workers' step "
          "(waiting for the slower worker); and worker 0's scoring per epoch, with 1 thread, "
          "during which worker 1 idles (s)")
    print("| global batch | share alone | side by side | contention | collectives "
          "| waiting | 2 workers | scoring per epoch s (worker 1 idle) |")
    print("|---" * 8 + "|")
    for batch, runs in curve.items():
        steps = -(-train_rows // batch)
        two, share, pair = (1000 * runs[k][0] / steps for k in ("two", "share", "pair"))
        scoring = runs["two"][1] - runs["two"][0]
        print(f"| {batch} | {share:.1f} | {pair:.1f} | {pair - share:.1f} | {2 * one_call:.1f} "
              f"| {two - pair - 2 * one_call:.1f} | {two:.1f} | {scoring:.2f} |")


# A Python user's fit of the split train_eval.py made: argv = dataset, weights folder, seed.
PYTHON_FIT = """
import json, sys, time
import numpy as np
sys.path.append(sys.argv[4])            # the repository, for the data helpers only
from dataloader import load_table, resolve_data_file
from preprocess import prepare
from ealgan import EALGAN
from ealgan.core.scaling import scaling_from_dict
meta = json.load(open(sys.argv[2] + "/meta.json"))
table = load_table(resolve_data_file(sys.argv[4] + "/data", sys.argv[1]))
data = prepare(table, int(sys.argv[3]), scaling_from_dict(meta["scaler"]))
started = time.perf_counter()
model = EALGAN(**meta["config"]).fit(data.X["train"], data.y["train"], data.X["val"],
                                     data.y["val"])
seconds = time.perf_counter() - started
np.save(sys.argv[2] + "/python_test_scores.npy", model.decision_function(data.X["test"]))
print(json.dumps({"seconds": seconds}))
"""


def python_report(dataset):
    import tempfile
    with tempfile.TemporaryDirectory() as workdir:
        timed(train_command(dataset, workdir, "--compile_cache", "False"))
        weights = os.path.join(workdir, "weights", dataset)
        with open(os.path.join(weights, "meta.json"), encoding="utf-8") as handle:
            meta = json.load(handle)
        python = fresh_process_json([sys.executable, "-c", PYTHON_FIT, dataset, weights,
                                     str(meta["seed"]), ROOT], "the Python fit",
                                    workdir)["seconds"]
        from models import EALGAN
        from models.utils import runtime
        from dataloader import load_table, resolve_data_file
        from models.core.scaling import scaling_from_dict
        from preprocess import prepare
        runtime.configure()
        data = prepare(load_table(resolve_data_file(os.path.join(ROOT, "data"), dataset)),
                       meta["seed"], scaling_from_dict(meta["scaler"]))
        cli_scores = EALGAN.load(weights).decision_function(data.X["test"])
        same = np.array_equal(cli_scores, np.load(os.path.join(weights,
                                                               "python_test_scores.npy")))
    cli = meta["train_seconds"]
    print(f"{dataset}: fit {cli:.1f}s in train_eval.py, {python:.1f}s from Python in a fresh "
          f"process (ratio {python / cli:.2f}); test scores bit-identical: {same}")


def distributed_options(args):
    """(batch sizes, baseline checkout or None) of --distributed; bad ones exit with error:."""
    try:
        batches = tuple(int(b) for b in args.batches.split(","))
    except ValueError:
        batches = ()
    if not batches or min(batches) < 2:
        sys.exit(f"error: --batches takes global batch sizes of 2 rows or more separated by "
                 f"commas, got {args.batches!r}")
    if args.repeats < 1:
        sys.exit(f"error: --repeats must be 1 or more, got {args.repeats}")
    if args.rows < 2 * max(batches):
        sys.exit(f"error: --rows {args.rows} is too few for a global batch of {max(batches)}")
    baseline = args.baseline_code and os.path.abspath(args.baseline_code)
    if baseline and not os.path.isfile(os.path.join(baseline, "scripts",
                                                    "run_distributed_train.sh")):
        sys.exit(f"error: --baseline_code {args.baseline_code} holds no "
                 "scripts/run_distributed_train.sh")
    return batches, baseline


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", action="store_true",
                        help="time a fit from Python against train_eval.py's")
    parser.add_argument("--dataset", default="glass", help="with --python: the dataset")
    parser.add_argument("--distributed", action="store_true",
                        help="time data-parallel training against one process")
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="with --distributed: rows of the synthetic table")
    parser.add_argument("--batches", default=",".join(map(str, DISTRIBUTED_BATCHES)),
                        help="with --distributed: the global batch sizes, comma-separated")
    parser.add_argument("--baseline_code",
                        help="with --distributed: a checkout of an earlier commit whose two "
                             "workers are timed too (with its own .venv link)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="with --distributed: rounds of runs; the fastest counts")
    parser.add_argument("--allreduce_worker", help=argparse.SUPPRESS)
    parser.add_argument("--commands", action="store_true",
                        help="time whole commands with and without the compile cache")
    parser.add_argument("--official_code",
                        help="with --commands: a checkout of smallcube/EAL-GAN to compare with")
    parser.add_argument("--against", metavar="REV",
                        help="measure this checkout against a git revision (e.g. HEAD~1)")
    parser.add_argument("--sets", default=",".join(COMMAND_SETS),
                        help="with --against: the datasets of the whole commands")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per case")
    parser.add_argument("--epochs", type=int, default=4,
                        help="epochs run (fused); the first is not timed")
    parser.add_argument("--one", nargs=3, metavar=("DATASET", "BATCH", "MODES"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.python:
        python_report(args.dataset)
    elif args.allreduce_worker:
        allreduce_worker(args.allreduce_worker)
    elif args.distributed:
        distributed_report(args.rows, *distributed_options(args), args.repeats)
    elif args.against:
        against_report(args.against, [name for name in args.sets.split(",") if name])
    elif args.commands:
        commands_report(args.official_code)
    elif args.one:
        dataset, batch, modes = args.one
        print(json.dumps(measure(dataset, int(batch), modes.split(","), args.steps,
                                 args.epochs)))
    else:
        report(args.steps, args.epochs)


if __name__ == "__main__":
    main()
