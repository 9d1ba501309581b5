"""Judge the input scaling, seed bagging and the refit on validation only, across datasets.

    .venv/bin/python scripts/accuracy.py record [--datasets ...] [--seeds 42] [--threads 1]
    .venv/bin/python scripts/accuracy.py compare
    .venv/bin/python scripts/accuracy.py configs

Every fit uses the defaults (configs/default.yaml, no dataset config): the
question is what a table nobody tuned for should get.  The test part is split
off as in train_eval.py and never scored.

`record` runs, per dataset and split seed, the fits below and saves what they
scored to results/accuracy_runs/DATASET_SEED_FIT.npz (git-ignored).  A
finished fit is skipped and a fit another `record` process is running is
left to it (a claim file holds its process id), so the command resumes, and
two of them (`--threads 1` each) share a 2-core machine.
- `SCALING_t0`: a fit per scaling (standard, robust, quantile) with the split
  seed as training seed; every epoch's validation scores are kept.
- `standard_t1`, `standard_t2`: the same split with training seeds + 1, + 2,
  for bagging.
- `standard_inner`, `standard_refit`: trained on the training part alone,
  with a quarter of it held out to choose epochs (validation_fraction), once
  as it is and once refitted on the whole training part (refit=True); both
  score the real validation part, which neither saw.
- `config_standard`, `config_quantile`: the dataset's own config
  (configs/DATASET.yaml, what train_eval.py trains) with each scaling.

`compare` reads those files (models/eal_gan/selection.py's cross-fit,
epochs chosen on one half of validation and scored on the other), puts their
rows in place of the same rows of results/accuracy.csv (a checkout without
the fits keeps the rows judged before), and writes results/accuracy.csv and
the tables of docs/accuracy.md:
- scaling: held-out AUC and Gmean of each transform per dataset, and which
  default a leave-one-dataset-out choice makes;
- bagging: 1 against 3 training seeds averaged, same split;
- refit: the inner fit against its refit, on the validation part;
- configs: each dataset's config with standard against quantile scaling,
  judged by the config's own epoch rule.

`configs` writes that verdict into configs/DATASET.yaml as its `scaling:` line
(with the scores behind it), leaving every other line as it is; tune.py's
`configs` keeps it.
"""
import argparse
import dataclasses
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models import EALGAN  # noqa: E402
from models.core.detector import TrainingDiverged  # noqa: E402
from models.core.scaling import SCALINGS  # noqa: E402
from models.eal_gan.selection import (HALF_SPLITS, select_epochs,  # noqa: E402
                                      stratified_halves)
from models.eal_gan.tuning import objective  # noqa: E402
from models.utils import progress, runtime  # noqa: E402
from models.utils.checkpoint import atomic_write_text  # noqa: E402
from models.utils.metrics import auc_score, gmean_score  # noqa: E402
from models.utils.results import fill_block, read_rows, write_rows  # noqa: E402
from dataloader import ODDS_DATASETS, load_table, resolve_data_file  # noqa: E402
from preprocess import prepare  # noqa: E402
from config import DEFAULT_CONFIG, model_config, resolve_settings  # noqa: E402

RUNS_DIR = os.path.join(ROOT, "results", "accuracy_runs")
TABLE = os.path.join(ROOT, "results", "accuracy.csv")
DOC = os.path.join(ROOT, "docs", "accuracy.md")
CONFIGS_DIR = os.path.join(ROOT, "configs")
COLUMNS = ["Data", "Seed", "Study", "Variant", "AUC", "Gmean", "Seconds"]
BAG_SEEDS = 3
# The per-dataset configs were tuned with standard scaling; they are judged against the
# study's other candidate.
CONFIG_SCALINGS = ("standard", "quantile")
# A difference the studies count as one: the split-to-split noise of a validation
# AUC or AUC x Gmean is about this large.  A config changes its scaling only by more.
MARGIN = 0.005
# Cheapest first (results/tuning.csv's seconds of the default candidate), so that a
# study cut short has judged the most datasets.
COST_ORDER = ("lympho", "glass", "shuttle", "pendigits", "annthyroid", "vowels", "letter",
              "ionosphere", "pima", "satellite", "cardio", "optdigits", "satimage-2", "mnist",
              "musk", "arrhythmia")


def fits():
    """(name, scaling, training-seed offset, kind) of every fit of a dataset and split."""
    planned = [(f"{scaling}_t0", scaling, 0, "selection") for scaling in SCALINGS]
    planned += [(f"standard_t{b}", "standard", b, "selection") for b in range(1, BAG_SEEDS)]
    planned += [("standard_inner", "standard", 0, "inner"),
                ("standard_refit", "standard", 0, "refit")]
    planned += [(f"config_{scaling}", scaling, 0, "config") for scaling in CONFIG_SCALINGS]
    return planned


def run_path(dataset, seed, name, suffix=".npz"):
    return os.path.join(RUNS_DIR, f"{dataset}_{seed}_{name}{suffix}")


def default_config(dataset, seed):
    """The defaults for this dataset and seed, without its configs/DATASET.yaml."""
    return model_config(resolve_settings(["--data_name", dataset, "--seed", str(seed),
                                          "--config", DEFAULT_CONFIG]))


def dataset_config(dataset, seed):
    """What train_eval.py trains for this dataset and seed (its configs/DATASET.yaml)."""
    return model_config(resolve_settings(["--data_name", dataset, "--seed", str(seed)]))


def config_rule(config):
    """A config's epoch selection rule: (metric, k, ties)."""
    return (config.select_metric, config.select_top_k, config.select_ties)


def claim(path):
    """Whether this process may run the fit whose result is `path` (no other live process
    claimed it); the claim file is removed when the fit is saved."""
    claim_file = path + ".claim"
    for _ in range(2):
        try:
            fd = os.open(claim_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                with open(claim_file, encoding="utf-8") as handle:
                    pid = int(handle.read().strip() or 0)
                os.kill(pid, 0)
                return False            # alive: its fit
            except (ProcessLookupError, ValueError):
                os.remove(claim_file)   # a killed run's: take it over
                continue
            except FileNotFoundError:
                continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
        return True
    return False


def save(path, **arrays):
    tmp = path[:-len(".npz")] + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    os.remove(path + ".claim")


def record(dataset, seed, fit):
    name, scaling, offset, kind = fit
    path = run_path(dataset, seed, name)
    if os.path.exists(path) or not claim(path):
        return
    data = prepare(load_table(resolve_data_file(os.path.join(ROOT, "data"), dataset)), seed,
                   scaling=scaling)
    config = (dataset_config if kind == "config" else default_config)(dataset, seed)
    started = time.perf_counter()
    try:
        if kind in ("selection", "config"):
            model = EALGAN.from_config(dataclasses.replace(config, seed=seed + offset))
            model.fit(data.X["train"], data.y["train"], data.X["val"], data.y["val"])
            scores = model.validation_scores_
        else:   # the validation part stays unseen: the fit holds out part of training
            model = EALGAN.from_config(dataclasses.replace(config, refit=kind == "refit"))
            model.fit(data.X["train"], data.y["train"])
            scores = model.decision_function(data.X["val"])[None]
    except TrainingDiverged:   # recorded as NaN scores: the transform's failure, judged so
        model, scores = None, np.full((1, len(data.y["val"])), np.nan)
    seconds = time.perf_counter() - started
    shape = {} if model is None else {"batch_size": model.batch_size_,
                                      "epochs": model.max_epochs_}
    save(path, val_scores=np.asarray(scores, dtype=np.float32), y_val=data.y["val"],
         seconds=seconds, **shape)
    print(f"{dataset} seed {seed} {name}: {shape or 'diverged'}, {seconds:.1f}s", flush=True)


def recorded(dataset, seed):
    """{fit name: saved arrays} of one dataset and split."""
    found = {}
    for name, *_ in fits():
        path = run_path(dataset, seed, name)
        if os.path.exists(path):
            found[name] = dict(np.load(path))
    return found


def bag_heldout(runs, y, rule, seed, splits=HALF_SPLITS):
    """Held-out (AUC, Gmean) on validation of the mean of several fits' selected ensembles.

    As selection.cross_fit for one fit: on each of `splits` stratified
    halvings, every fit chooses its epochs by `rule` on one half, the chosen
    epochs' scores are averaged over epochs and then over the fits, and the
    result is judged on the other half, both ways.  One run: cross_fit itself,
    with its fallback for fewer than two anomalies (choose and judge on all rows).
    """
    y = np.asarray(y).astype(int)
    if any(not np.isfinite(r).all() for r in runs):
        return (np.nan, np.nan)
    if np.bincount(y, minlength=2).min() < 2:
        everything = np.ones(len(y), dtype=bool)
        pairs = [(everything, everything)]
    else:
        pairs = [pair for a, b in stratified_halves(y, np.random.default_rng(seed), splits)
                 for pair in ((a, b), (b, a))]
    halves = []
    for choose, judge in pairs:
        averaged = np.mean([chosen_mean(r, y, choose, rule)[judge] for r in runs], axis=0)
        halves.append((auc_score(y[judge], averaged), gmean_score(y[judge], averaged)))
    return tuple(float(v) for v in np.mean(halves, axis=0))


def chosen_mean(val_scores, y, rows, rule):
    """The mean over the epochs `rule` chooses on validation rows `rows`, of every row."""
    return val_scores[select_epochs(val_scores[:, rows], y[rows], *rule)].mean(0)


def study_rows(dataset, seed, runs, rule):
    """The rows of results/accuracy.csv of one dataset and split."""
    rows = []

    def add(study, variant, scores, names):
        rows.append({"Data": dataset, "Seed": seed, "Study": study, "Variant": variant,
                     "AUC": round(scores[0], 4), "Gmean": round(scores[1], 4),
                     "Seconds": round(sum(float(runs[n]["seconds"]) for n in names), 1)})

    y = runs[next(iter(runs))]["y_val"]
    for scaling in SCALINGS:
        name = f"{scaling}_t0"
        if name in runs:
            add("scaling", scaling, bag_heldout([runs[name]["val_scores"]], y, rule, seed),
                [name])
    bag = [f"standard_t{b}" for b in range(BAG_SEEDS)]
    if all(name in runs for name in bag):
        singles = [bag_heldout([runs[n]["val_scores"]], y, rule, seed) for n in bag]
        add("bags", "1 (mean of 3 seeds)", np.mean(singles, axis=0), bag[:1])
        add("bags", str(BAG_SEEDS), bag_heldout([runs[n]["val_scores"] for n in bag], y, rule,
                                                seed), bag)
    own_rule = config_rule(dataset_config(dataset, seed))
    for scaling in CONFIG_SCALINGS:
        name = f"config_{scaling}"
        if name in runs:
            add("config", scaling, bag_heldout([runs[name]["val_scores"]], y, own_rule, seed),
                [name])
    for name, variant in (("standard_inner", "no refit"), ("standard_refit", "refit")):
        if name in runs:
            scores = runs[name]["val_scores"][0]
            finite = np.isfinite(scores).all()
            add("refit", variant, (auc_score(y, scores), gmean_score(y, scores)) if finite
                else (np.nan, np.nan), [name])
    return rows


def study_table(rows, study, variants):
    """Markdown: each variant's mean AUC, Gmean and seconds per fit over the datasets where
    every variant was recorded, the datasets it wins (AUC), and its worst AUC loss."""
    mine = [r for r in rows if r["Study"] == study]
    cells = {(r["Data"], r["Seed"], r["Variant"]): r for r in mine}
    groups = sorted({(r["Data"], r["Seed"]) for r in mine
                     if all((r["Data"], r["Seed"], v) in cells for v in variants)})
    if not groups:
        return "(not recorded yet)"
    base = variants[0]
    lines = [f"| {study} | mean AUC | mean Gmean | AUC x Gmean | AUC vs {base}: better / "
             f"worse (> {MARGIN}) | worst AUC change | seconds |", "|---|---|---|---|---|---|---|"]
    for v in variants:
        auc = np.array([cells[g + (v,)]["AUC"] for g in groups])
        gmean = np.array([cells[g + (v,)]["Gmean"] for g in groups])
        change = auc - np.array([cells[g + (base,)]["AUC"] for g in groups])
        worst = int(np.nanargmin(change))
        seconds = np.mean([cells[g + (v,)]["Seconds"] for g in groups])
        against = "" if v == base else (f"{int((change > MARGIN).sum())} / "
                                        f"{int((change < -MARGIN).sum())} | {change[worst]:+.4f} "
                                        f"({groups[worst][0]})")
        lines.append(f"| {v} | {np.nanmean(auc):.4f} | {np.nanmean(gmean):.4f} | "
                     f"{np.nanmean(auc * gmean):.4f} | {against or ' | '} | {seconds:.0f} |")
    lines.append(f"\n{len(groups)} dataset x split pairs: "
                 + ", ".join(f"{d} {s}" for d, s in groups) + ".")
    return "\n".join(lines)


def leave_one_out(rows):
    """Markdown: the scaling a leave-one-dataset-out choice (best mean AUC x Gmean on the
    other datasets) picks, and what it scores on the dataset left out, against standard.
    Only splits recorded with every scaling count; a dataset's score is its splits' mean."""
    cells = {(r["Data"], r["Seed"], r["Variant"]): r["AUC"] * r["Gmean"] for r in rows
             if r["Study"] == "scaling"}
    splits = {(d, seed) for d, seed, _ in cells
              if all((d, seed, s) in cells for s in SCALINGS)}
    datasets = sorted({d for d, _ in splits})
    if len(datasets) < 2:
        return "(not recorded yet)"
    mean = {(d, s): float(np.nanmean([cells[d, seed, s] for o, seed in splits if o == d]))
            for d in datasets for s in SCALINGS}
    picks, held_out = {}, []
    for d in datasets:
        others = [o for o in datasets if o != d]
        picks[d] = max(SCALINGS, key=lambda s: (np.nanmean([mean[o, s] for o in others]),
                                                -SCALINGS.index(s)))
        held_out.append(mean[d, picks[d]])
    counts = {s: sum(p == s for p in picks.values()) for s in SCALINGS}
    per_table = [max(mean[d, s] for s in SCALINGS) for d in datasets]
    return "\n".join([
        f"| Choice ({len(datasets)} datasets, {len(splits)} splits) | picks | AUC x Gmean on "
        "the set left out |", "|---|---|---|",
        "| best mean on the other sets | " + ", ".join(f"{s} x{n}" for s, n in counts.items()
                                                   if n) + f" | {np.nanmean(held_out):.4f} |",
        f"| always standard | | {np.nanmean([mean[d, 'standard'] for d in datasets]):.4f} |",
        f"| (per table, chosen and scored on the same validation: optimistic) | | "
        f"{np.nanmean(per_table):.4f} |"])


def earlier_rows():
    """results/accuracy.csv's rows, typed as study_rows makes them.  The fits behind them
    are git-ignored, so a fresh checkout keeps what was judged before it."""
    return [dict(row, Seed=int(row["Seed"]), AUC=float(row["AUC"]), Gmean=float(row["Gmean"]),
                 Seconds=float(row["Seconds"])) for row in read_rows(TABLE, COLUMNS)]


def merged(earlier, fresh):
    """`earlier` rows with those of `fresh` put in their place (one per dataset, split,
    study and variant), in dataset order."""
    key = ("Data", "Seed", "Study", "Variant")
    table = {tuple(row[k] for k in key): row for row in earlier}
    table.update({tuple(row[k] for k in key): row for row in fresh})
    order = {name: i for i, name in enumerate(ODDS_DATASETS)}
    return sorted(table.values(), key=lambda r: (order.get(r["Data"], len(order)), r["Seed"]))


def default_rule():
    """The defaults' epoch selection rule: (metric, k, ties)."""
    return config_rule(EALGAN().config)


def config_verdicts(rows):
    """{dataset: (scaling chosen, {scaling: (mean AUC, mean Gmean, seeds)})} of the config
    study, over the splits recorded with both: quantile when its mean AUC x Gmean is
    higher than standard's by more than MARGIN, else standard, which the config was
    tuned with (a diverged fit, NaN, ranks last)."""
    cells = {(r["Data"], r["Seed"], r["Variant"]): (r["AUC"], r["Gmean"]) for r in rows
             if r["Study"] == "config"}
    verdicts = {}
    for dataset in ODDS_DATASETS:
        seeds = sorted({seed for d, seed, _ in cells if d == dataset
                        and all((d, seed, s) in cells for s in CONFIG_SCALINGS)})
        if not seeds:
            continue
        means = {s: tuple(np.mean([cells[dataset, seed, s][i] for seed in seeds])
                          for i in (0, 1)) + (seeds,) for s in CONFIG_SCALINGS}
        standard, quantile = (objective(*means[s][:2])[0] for s in CONFIG_SCALINGS)
        verdicts[dataset] = ("quantile" if quantile > standard + MARGIN else "standard", means)
    return verdicts


def config_table(rows):
    """Markdown: per dataset, its config's held-out AUC and Gmean with each scaling."""
    verdicts = config_verdicts(rows)
    if not verdicts:
        return "(not recorded yet)"
    lines = ["| dataset | seeds | " + " | ".join(f"{s} AUC | {s} Gmean"
                                                 for s in CONFIG_SCALINGS) + " | chosen |",
             "|---|---|" + "---|---|" * len(CONFIG_SCALINGS) + "---|"]
    for dataset, (chosen, means) in verdicts.items():
        seeds = means[chosen][2]
        lines.append(f"| {dataset} | {', '.join(map(str, seeds))} | " + " | ".join(
            f"{means[s][0]:.4f} | {means[s][1]:.4f}" for s in CONFIG_SCALINGS)
            + f" | {chosen} |")
    return "\n".join(lines)


def write_config_scalings():
    """The config study's verdict as each configs/DATASET.yaml's `scaling:` line."""
    for dataset, (chosen, means) in config_verdicts(earlier_rows()).items():
        path = os.path.join(CONFIGS_DIR, f"{dataset}.yaml")
        with open(path, encoding="utf-8") as handle:
            lines = [line.rstrip("\n") for line in handle
                     if line.split(":")[0].strip() != "scaling"]
        scores = ", ".join(f"{s} {means[s][0] * means[s][1]:.4f}" for s in CONFIG_SCALINGS)
        seeds = ", ".join(map(str, means[chosen][2]))
        lines.append(f"scaling: {chosen}  # scripts/accuracy.py: validation AUC x Gmean "
                     f"{scores} (seeds {seeds})")
        atomic_write_text(path, "\n".join(lines) + "\n")
        print(f"{path}: scaling {chosen}")


def compare():
    """results/accuracy.csv and docs/accuracy.md's tables from the recorded fits, over
    the rows the table already holds."""
    rule = default_rule()
    rows = []
    for dataset in ODDS_DATASETS if os.path.isdir(RUNS_DIR) else ():
        for seed in sorted({int(f[len(dataset) + 1:].split("_")[0]) for f in os.listdir(RUNS_DIR)
                            if f.startswith(dataset + "_") and f.endswith(".npz")
                            and not f.endswith(".tmp.npz")}):
            runs = recorded(dataset, seed)
            if runs:
                rows += study_rows(dataset, seed, runs, rule)
    rows = merged(earlier_rows(), rows)
    write_rows(TABLE, rows, COLUMNS)
    blocks = {"accuracy-scaling": study_table(rows, "scaling", list(SCALINGS)),
              "accuracy-scaling-choice": leave_one_out(rows),
              "accuracy-bags": study_table(rows, "bags", ["1 (mean of 3 seeds)",
                                                          str(BAG_SEEDS)]),
              "accuracy-refit": study_table(rows, "refit", ["no refit", "refit"]),
              "accuracy-configs": config_table(rows)}
    for name, text in blocks.items():
        print(f"{name}:\n{text}\n")
        fill_block(DOC, name, text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("record", "compare", "configs"))
    parser.add_argument("--datasets", nargs="+", default=list(COST_ORDER),
                        choices=ODDS_DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    parser.add_argument("--fits", nargs="+", default=[f[0] for f in fits()],
                        choices=[f[0] for f in fits()])
    parser.add_argument("--threads", type=int, default=runtime.DEFAULT_CPU_THREADS,
                        help="CPU kernel threads (1 lets two record runs share 2 cores)")
    args = parser.parse_args()
    if args.action == "compare":
        compare()
        return
    if args.action == "configs":
        write_config_scalings()
        return
    runtime.configure(threads=args.threads)
    os.makedirs(RUNS_DIR, exist_ok=True)
    planned = [(d, s, f) for s in args.seeds for d in args.datasets for f in fits()
               if f[0] in args.fits]
    with progress.bar(len(planned), "accuracy fits", "fit") as bar:
        for dataset, seed, fit in planned:
            record(dataset, seed, fit)
            bar.update(1)


if __name__ == "__main__":
    main()
