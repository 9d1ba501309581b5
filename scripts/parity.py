"""Parity with the authors' PyTorch code: the same splits, scaling and settings for both.

    .venv/bin/python scripts/parity.py setup
    .venv/bin/python scripts/parity.py run --official_code PATH [--datasets ...]
                                           [--seeds 42 43 44] [--max_epochs 50] [--threads 1]
                                           [--fixed_order | --frozen_scoring]
    .venv/bin/python scripts/parity.py report

`setup` makes .venv-parity from requirements-parity.txt (torch and what the
authors' code imports); the main .venv stays MindSpore-only.

`run` trains, for every dataset and seed, on this repository's 6:2:2 split
and training-part scaling (preprocess.prepare):
- this port: train_eval.py with configs/presets/official.yaml (the authors'
  defaults) and --max_epochs, keeping the single best epoch on validation
  (select_top_k 1, validation AUC x Gmean);
- the authors' code, unmodified, from PATH (a checkout of
  github.com/smallcube/EAL-GAN), driven by scripts/parity_official.py in
  .venv-parity with the same parts, their own defaults and --max_epochs.
With --fixed_order this port trains with --shuffle False instead (rows
"mindspore_fixed_order"): the authors' loop draws a permutation every epoch
but never applies it, so their batches are the same every epoch.
With --frozen_scoring only their code runs, scoring in eval mode (rows
"official_frozen_scoring"; see scripts/parity_official.py): a diagnostic
of the spectral-norm state their scoring passes move.
Their own rule keeps the epoch with the best *training* AUC x Gmean; the
comparison gives them this port's validation rule too (from their
per-epoch validation scores), and reports both.  Test parts are scored only
to be reported.  Finished runs are skipped, so the command resumes; each
run adds its rows to results/parity.csv as it ends.

`report` writes results/PARITY.md from results/parity.csv, and its table into
docs/parity.md.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dataloader import ODDS_DATASETS, load_table, resolve_data_file  # noqa: E402
from preprocess import PARTS, prepare  # noqa: E402
from config import configured_scaling  # noqa: E402
from models.utils.checkpoint import atomic_write_text  # noqa: E402
from models.utils import progress  # noqa: E402
from models.utils.results import fill_block  # noqa: E402

PARITY_VENV = os.path.join(ROOT, ".venv-parity")
RUNS_DIR = os.path.join(ROOT, "results", "parity_runs")
TABLE = os.path.join(ROOT, "results", "parity.csv")
REPORT = os.path.join(ROOT, "results", "PARITY.md")
OFFICIAL_PRESET = os.path.join(ROOT, "configs", "presets", "official.yaml")
COLUMNS = ["dataset", "seed", "max_epochs", "implementation", "rule", "test_auc", "test_gmean",
           "selected_epoch", "epoch_seconds", "fit_seconds", "peak_mb"]
DOCS = [os.path.join(ROOT, "docs", "parity.md")]
README_BLOCK = "parity"   # <!-- parity:begin --> ... <!-- parity:end --> in docs/parity.md
PORT, OFFICIAL = "mindspore", "official"
PORT_FIXED = "mindspore_fixed_order"   # this port with the authors' fixed batch order
OFFICIAL_FROZEN = "official_frozen_scoring"   # their code scoring in eval mode
VALIDATION_RULE, TRAIN_RULE = "validation", "official_train"


def port_implementation(shuffle):
    """The rows' name for this port, reshuffling or in the authors' fixed order."""
    return PORT if shuffle else PORT_FIXED


def official_implementation(frozen_scoring):
    """The rows' name for their code, as it is or scoring in eval mode."""
    return OFFICIAL_FROZEN if frozen_scoring else OFFICIAL


def setup():
    """Create .venv-parity and install requirements-parity.txt into it."""
    python = os.path.join(PARITY_VENV, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", PARITY_VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-r",
                    os.path.join(ROOT, "requirements-parity.txt")], check=True)


def official_split(table, dataset, seed):
    """The split and scaling both implementations train on: train_eval.py's with the
    authors' settings (--config OFFICIAL_PRESET)."""
    return prepare(table, seed, scaling=configured_scaling(dataset, config=OFFICIAL_PRESET))


def write_split(data, path):
    """The prepared parts as X_train, y_train, X_val, ... in an .npz."""
    np.savez(path, **{f"{axis}_{part}": getattr(data, axis)[part]
                      for part in PARTS for axis in ("X", "y")})


def port_command(dataset, seed, max_epochs, threads, workdir, shuffle=True):
    """train_eval.py with the authors' defaults and this port's single-epoch validation rule."""
    return [sys.executable, os.path.join(ROOT, "train_eval.py"), "--config", OFFICIAL_PRESET,
            "--data_name", dataset, "--data_path", os.path.join(ROOT, "data"),
            "--seed", str(seed), "--max_epochs", str(max_epochs), "--select_top_k", "1",
            "--select_metric", "auc_gmean", "--select_ties", "earliest", "--threads", str(threads),
            "--weights_dir", os.path.join(workdir, "weights"),
            "--results_dir", os.path.join(workdir, "results"),
            "--plots", "False", "--print", "False", "--compile_cache", "False",
            "--shuffle", str(shuffle)]


def official_command(code_dir, split, output, seed, max_epochs, threads, frozen_scoring=False):
    """scripts/parity_official.py in .venv-parity: their code on one prepared split."""
    return [os.path.join(PARITY_VENV, "bin", "python"),
            os.path.join(ROOT, "scripts", "parity_official.py"), code_dir, split, output,
            "--seed", str(seed), "--max_epochs", str(max_epochs), "--threads", str(threads),
            *(["--frozen_scoring"] if frozen_scoring else [])]


def run_measured(command):
    """Run a command; (exit status, peak resident MB of that process, its output)."""
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        return process.returncode, usage.ru_maxrss / 1024, log.read()


def run_port(dataset, seed, max_epochs, threads, shuffle=True):
    with tempfile.TemporaryDirectory() as workdir:
        code, peak_mb, output = run_measured(port_command(dataset, seed, max_epochs, threads,
                                                          workdir, shuffle))
        if code != 0:
            raise RuntimeError(f"train_eval.py failed on {dataset} seed {seed}:\n{output}")
        folder = os.path.join(workdir, "weights", dataset)
        with open(os.path.join(folder, "meta.json"), encoding="utf-8") as handle:
            meta = json.load(handle)
        with open(os.path.join(folder, "history.csv"), newline="") as handle:
            seconds = [float(row["seconds"]) for row in csv.DictReader(handle)]
    return [row(dataset, seed, max_epochs, port_implementation(shuffle), VALIDATION_RULE,
                meta["test_auc"], meta["test_gmean"], meta["selected_epoch"], seconds,
                meta["train_seconds"], peak_mb)]


def official_rows(dataset, seed, curves, y_val, y_test, implementation=OFFICIAL):
    """Their run under their training rule and under this port's validation rule."""
    from models.eal_gan.selection import select_epochs
    from models.utils.metrics import auc_score, gmean_score
    seconds = list(curves["seconds"])
    chosen = {TRAIN_RULE: int(np.argmax(curves["train_auc"] * curves["train_gmean"])),
              VALIDATION_RULE: select_epochs(curves["val_scores"], y_val, "auc_gmean", 1)[0]}
    rows = []
    for rule, epoch in chosen.items():
        scores = curves["test_scores"][epoch]
        rows.append(row(dataset, seed, len(seconds), implementation, rule,
                        auc_score(y_test, scores), gmean_score(y_test, scores), epoch + 1,
                        seconds, sum(seconds), float(curves["peak_mb"])))
    return rows


def run_official(code_dir, dataset, seed, data, max_epochs, threads, frozen_scoring=False):
    implementation = official_implementation(frozen_scoring)
    os.makedirs(RUNS_DIR, exist_ok=True)
    split = os.path.join(RUNS_DIR, f"{dataset}_{seed}_split.npz")
    curves = os.path.join(RUNS_DIR, f"{dataset}_{seed}_{max_epochs}_{implementation}.npz")
    if not os.path.exists(curves):
        write_split(data, split)
        code, peak_mb, output = run_measured(official_command(
            code_dir, split, curves + ".partial.npz", seed, max_epochs, threads,
            frozen_scoring))
        if code != 0:
            raise RuntimeError(f"the authors' code failed on {dataset} seed {seed}:\n{output}")
        os.replace(curves + ".partial.npz", curves)
        os.remove(split)
    with np.load(curves) as loaded:
        return official_rows(dataset, seed, dict(loaded), data.y["val"], data.y["test"],
                             implementation)


def row(dataset, seed, max_epochs, implementation, rule, auc, gmean, epoch, seconds,
        fit_seconds, peak_mb):
    """One parity.csv row; seconds per epoch is the median of epochs after the first."""
    later = seconds[1:] or seconds
    return {"dataset": dataset, "seed": seed, "max_epochs": max_epochs,
            "implementation": implementation, "rule": rule,
            "test_auc": f"{auc:.6f}", "test_gmean": f"{gmean:.6f}", "selected_epoch": epoch,
            "epoch_seconds": f"{float(np.median(later)):.4f}",
            "fit_seconds": f"{fit_seconds:.2f}", "peak_mb": f"{peak_mb:.0f}"}


def read_table(path=TABLE):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_table(rows, path=TABLE):
    """The whole table through a temporary file: never half-written."""
    fd, tmp = tempfile.mkstemp(prefix=".parity.", suffix=".csv", dir=os.path.dirname(path))
    with os.fdopen(fd, "w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: (r["dataset"], int(r["seed"]),
                                                    r["implementation"], r["rule"])))
    os.replace(tmp, path)


def run(options):
    shuffle = not options.fixed_order
    official = official_implementation(options.frozen_scoring)
    # --frozen_scoring runs their code alone
    port = None if options.frozen_scoring else port_implementation(shuffle)
    with progress.bar(len(options.datasets) * len(options.seeds), "parity runs", "run") as runs:
        for dataset in options.datasets:
            table = load_table(resolve_data_file(os.path.join(ROOT, "data"), dataset))
            for seed in options.seeds:
                run_pair(options, official, port, shuffle, dataset, seed, table)
                runs.update(1)


def run_pair(options, official, port, shuffle, dataset, seed, table):
    """Both implementations on one (dataset, seed), unless already in the table."""
    done = {r["implementation"] for r in read_table()
            if (r["dataset"], int(r["seed"]), int(r["max_epochs"]))
            == (dataset, seed, options.max_epochs)}
    data = official_split(table, dataset, seed)
    new = []
    if official not in done:
        new += run_official(options.official_code, dataset, seed, data,
                            options.max_epochs, options.threads,
                            options.frozen_scoring)
    if port is not None and port not in done:
        new += run_port(dataset, seed, options.max_epochs, options.threads, shuffle)
    if new:
        write_table(read_table() + new)
        print(" ".join(f"{r['implementation']}/{r['rule']} auc {r['test_auc']} "
                       f"gmean {r['test_gmean']}" for r in new), f"[{dataset} {seed}]",
              flush=True)


def summarize(rows, port=PORT, official=OFFICIAL):
    """Per dataset: mean and std over seeds of each (implementation, rule), paired differences.

    `port` and `official` name the rows paired: this port's (PORT or
    PORT_FIXED) and theirs (OFFICIAL or OFFICIAL_FROZEN).
    """
    by_key = {}
    for r in rows:
        by_key.setdefault((r["dataset"], r["implementation"], r["rule"]), {})[int(r["seed"])] = r
    port_official = [(port, VALIDATION_RULE), (official, VALIDATION_RULE)]
    summary = []
    for dataset in sorted({r["dataset"] for r in rows}):
        runs = {key: by_key.get((dataset, *key), {}) for key in
                [(port, VALIDATION_RULE), (official, VALIDATION_RULE), (official, TRAIN_RULE)]}
        seeds = sorted(set.intersection(*(set(runs[k]) for k in port_official)))
        if not seeds:
            continue
        entry = {"dataset": dataset, "seeds": seeds}
        for key, name in zip(runs, ("port", "official", "official_train")):
            for metric in ("test_auc", "test_gmean", "epoch_seconds", "fit_seconds"):
                values = [float(runs[key][s][metric]) for s in seeds if s in runs[key]]
                entry[f"{name}_{metric}"] = (float(np.mean(values)), float(np.std(values))) \
                    if values else (np.nan, np.nan)
        differences = [float(runs[port_official[0]][s]["test_auc"])
                       - float(runs[port_official[1]][s]["test_auc"]) for s in seeds]
        entry["auc_difference"] = float(np.mean(differences))
        spread = max(entry["port_test_auc"][1], entry["official_test_auc"][1])
        entry["within_spread"] = abs(entry["auc_difference"]) <= spread
        entry["epoch_speedup"] = entry["official_epoch_seconds"][0] / entry["port_epoch_seconds"][0]
        entry["fit_speedup"] = entry["official_fit_seconds"][0] / entry["port_fit_seconds"][0]
        summary.append(entry)
    return summary


def report(rows, table=None):
    """PARITY.md text from parity.csv rows (`table`: their report_table, when already built)."""
    return "\n".join(["# Parity with the authors' PyTorch code", "",
                      "Generated by `scripts/parity.py report` from `results/parity.csv`; "
                      "see `scripts/parity.py` for the protocol.", "",
                      "Both implementations train on the same 6:2:2 split and scaling with the "
                      "authors' defaults (`configs/presets/official.yaml`) and the same epochs. "
                      "*Validation rule*: the one epoch with the best validation AUC x Gmean (this "
                      "port's rule, applied to both). *Their rule*: the epoch with the best "
                      "training AUC x Gmean, as their code chooses. Test AUC and Gmean@0.5, mean "
                      "± std over seeds; the difference is this port minus theirs, paired by "
                      "seed; *within spread* when it is no larger than the larger of the two seed "
                      "standard deviations. Speed-up: their seconds over ours (per epoch: median "
                      "of epochs after the first; whole fit: with compiling).", "",
                      table or report_table(rows), *diagnostic_sections(rows)]) + "\n"


DIAGNOSTICS = [
    ("Batch order", PORT_FIXED, OFFICIAL,
     "Their loop draws a permutation every epoch and never applies it, so their batches are "
     "the same rows in the same order every epoch; this port reshuffles. `parity.py run "
     "--fixed_order` trains this port with `--shuffle False`, their order, against their "
     "code as it is."),
    ("Spectral-norm state while scoring", PORT_FIXED, OFFICIAL_FROZEN,
     "Their networks never leave training mode, so every scoring pass (their training "
     "sample, validation and test, each epoch) advances the power iteration of their "
     "spectral norms; this port's scoring leaves it alone. `parity.py run --frozen_scoring` "
     "runs their code with its scoring in eval mode (a run-time wrapper around their "
     "`predict`, no edit), against this port in their batch order."),
]


LABELS = {PORT: "Port, reshuffled", PORT_FIXED: "Port, fixed order", OFFICIAL: "Official",
          OFFICIAL_FROZEN: "Official, frozen scoring"}


def diagnostic_sections(rows):
    """PARITY.md sections pairing the diagnostic runs (none recorded: no lines)."""
    lines = []
    for title, port, official, text in DIAGNOSTICS:
        paired = summarize(rows, port, official)
        if not paired:
            continue
        lines += ["", f"## {title}", "", text + " Test AUC, mean ± std over seeds; the "
                  "difference is the first minus the second, paired by seed.", "",
                  f"| Data | Seeds | {LABELS[port]} | {LABELS[official]} | AUC diff "
                  "| Within spread |", "|---|---|---|---|---|---|"]
        for e in paired:
            lines.append(f"| {e['dataset']} | {len(e['seeds'])} | "
                         + " | ".join(f"{m:.4f} ± {s:.4f}" for m, s in
                                      (e["port_test_auc"], e["official_test_auc"]))
                         + f" | {e['auc_difference']:+.4f} | "
                         f"{'yes' if e['within_spread'] else 'no'} |")
    return lines


def report_table(rows):
    """The parity table and its summary line: PARITY.md's body and docs/parity.md's block."""
    summary = summarize(rows)

    def pm(pair):
        return f"{pair[0]:.4f} ± {pair[1]:.4f}"
    lines = ["| Data | Seeds | Port AUC | Official AUC | AUC diff | Within spread "
             "| Port Gmean | Official Gmean | Official AUC (their rule) "
             "| Official Gmean (their rule) | Epoch speed-up | Fit speed-up |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in summary:
        lines.append(
            f"| {e['dataset']} | {len(e['seeds'])} | {pm(e['port_test_auc'])} | "
            f"{pm(e['official_test_auc'])} | {e['auc_difference']:+.4f} | "
            f"{'yes' if e['within_spread'] else 'no'} | {pm(e['port_test_gmean'])} | "
            f"{pm(e['official_test_gmean'])} | {pm(e['official_train_test_auc'])} | "
            f"{pm(e['official_train_test_gmean'])} | {e['epoch_speedup']:.1f}x | "
            f"{e['fit_speedup']:.1f}x |")
    if summary:
        mean = {k: np.mean([e[k][0] for e in summary]) for k in
                ("port_test_auc", "official_test_auc", "port_test_gmean",
                 "official_test_gmean", "official_train_test_auc")}
        lines += ["", f"{sum(e['within_spread'] for e in summary)} of {len(summary)} sets "
                  "within the seed spread. Mean test AUC: port "
                  f"{mean['port_test_auc']:.4f}, official {mean['official_test_auc']:.4f} "
                  f"(their rule {mean['official_train_test_auc']:.4f}); mean Gmean: port "
                  f"{mean['port_test_gmean']:.4f}, official {mean['official_test_gmean']:.4f}. "
                  "Median speed-up per epoch "
                  f"{np.median([e['epoch_speedup'] for e in summary]):.1f}x, whole fit "
                  f"{np.median([e['fit_speedup'] for e in summary]):.1f}x."]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup")
    runner = commands.add_parser("run")
    runner.add_argument("--official_code", required=True,
                        help="a checkout of github.com/smallcube/EAL-GAN")
    runner.add_argument("--datasets", nargs="+", default=list(ODDS_DATASETS))
    runner.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    runner.add_argument("--max_epochs", type=int, default=50)
    runner.add_argument("--threads", type=int, default=1)
    variant = runner.add_mutually_exclusive_group()
    variant.add_argument("--fixed_order", action="store_true",
                         help="train this port with the authors' fixed batch order")
    variant.add_argument("--frozen_scoring", action="store_true",
                         help="run only their code, scoring in eval mode (a diagnostic)")
    commands.add_parser("report")
    options = parser.parse_args(argv)
    if options.command == "setup":
        setup()
    elif options.command == "run":
        if not os.path.isfile(os.path.join(options.official_code, "EAL-GAN", "models",
                                           "EAL_GAN.py")):
            parser.error(f"{options.official_code} is not a checkout of smallcube/EAL-GAN "
                         "(EAL-GAN/models/EAL_GAN.py not found)")
        if not os.path.exists(os.path.join(PARITY_VENV, "bin", "python")):
            parser.error("no .venv-parity: run `scripts/parity.py setup` first")
        run(options)
    else:
        rows = read_table()
        table = report_table(rows)
        text = report(rows, table)
        atomic_write_text(REPORT, text)
        for doc in DOCS:
            fill_block(doc, README_BLOCK, table)
        print(text)


if __name__ == "__main__":
    main()
