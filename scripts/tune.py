"""Choose the selection rule, the default settings and per-dataset configs on validation only.

    .venv/bin/python scripts/tune.py record [--datasets ...] [--seeds 42 43] [--candidates ...]
                                            [--threads N]
    .venv/bin/python scripts/tune.py compare
    .venv/bin/python scripts/tune.py configs

`record` trains every tuning candidate (models/eal_gan/tuning.py) on each seed's
training part, with the dataset's non-tuned settings (e.g. its activation),
and saves the validation scores of every epoch to
results/tuning_runs/DATASET_SEED_CANDIDATE.npz (git-ignored; a finished fit
is skipped, so the command resumes).  The test part is split off exactly as
in train_eval.py and never scored.

`compare` judges, from those files alone:
- each selection rule (validation metric x top-k snapshots) by cross-fitting
  on validation (models/eal_gan/selection.py cross_fit), over every recorded fit:
  results/selection.csv;
- each candidate per dataset under the dataset's configured rule (its
  select_metric, select_top_k and select_ties: what the shipped model and
  `--tune True` use), read from those rows: results/tuning.csv;
- the default for a table without a config: each candidate's mean scores over
  the datasets every candidate was recorded on, and, leaving each dataset out,
  what choosing the default by mean AUC, Gmean or AUC x Gmean scores on it
  (the default-choice table, filled in docs/model_selection.md).

`configs` writes configs/DATASET.yaml for every dataset of results/tuning.csv:
the candidate with the best mean held-out AUC x Gmean over the seeds (ties:
the earlier in models/eal_gan/tuning.py's CANDIDATES, the default first),
with its scores as the reason.
"""
import argparse
import collections
import functools
import glob
import operator
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models import EALGAN  # noqa: E402
from models.utils import progress, runtime  # noqa: E402
from models.utils.checkpoint import atomic_write_text  # noqa: E402
from models.utils.results import fill_block, read_rows, write_rows  # noqa: E402
from models.eal_gan.selection import (SELECTION_METRICS, SELECTION_TIES,  # noqa: E402
                                      cross_fit_rules)
from models.eal_gan.tuning import (CANDIDATES, TUNED_KEYS, candidate_config,  # noqa: E402
                                   candidate_settings, first_best, objective)
from dataloader import ODDS_DATASETS, load_table, resolve_data_file  # noqa: E402
from preprocess import prepare  # noqa: E402
from config import configured_scaling, model_config, resolve_settings  # noqa: E402

RUNS_DIR = os.path.join(ROOT, "results", "tuning_runs")
SELECTION_TABLE = os.path.join(ROOT, "results", "selection.csv")
TUNING_TABLE = os.path.join(ROOT, "results", "tuning.csv")
DOCS = [os.path.join(ROOT, "docs", "model_selection.md")]
# tables filled between <!-- NAME:begin --> and <!-- NAME:end --> in docs/model_selection.md
RULES_BLOCK, DEFAULT_BLOCK = "selection-rules", "default-choice"
# every metric with the earliest-epoch tie-break; AUC x Gmean with both tie-breaks
RULES = [(metric, k, ties) for metric in SELECTION_METRICS for k in (1, 3, 5, 10)
         for ties in SELECTION_TIES if ties == "earliest" or metric == "auc_gmean"]
DEFAULT_TRAIN_STEPS = EALGAN().train_steps
TEXT_COLUMNS = ("Data", "Candidate", "Metric", "Ties")
FIT_OF = operator.itemgetter("Data", "Seed", "Candidate")
SELECTION_COLUMNS = ["Data", "Seed", "Candidate", "Metric", "Top k", "Held-out AUC",
                     "Held-out Gmean", "Ties"]
TUNING_COLUMNS = ["Data", "Seed", "Candidate", "Held-out AUC", "Held-out Gmean", "Batch",
                  "Epochs", "Seconds"]


def run_path(dataset, seed, candidate):
    return os.path.join(RUNS_DIR, f"{dataset}_{seed}_{candidate}.npz")


@functools.lru_cache(maxsize=None)  # read each dataset's YAML once, not once per fit
def base_config(dataset, seed):
    """The dataset's configuration (default.yaml < configs/DATASET.yaml) for this seed.

    The step budget is the default one: a config written for a long candidate
    must not lengthen the candidates tuned on top of it.
    """
    return model_config(resolve_settings(["--data_name", dataset, "--seed", str(seed),
                                          "--train_steps", str(DEFAULT_TRAIN_STEPS)]))


def configured_rule(dataset, seed):
    """(metric, k, ties) the dataset's configuration selects epochs with."""
    config = base_config(dataset, seed)
    rule = (config.select_metric, int(config.select_top_k), config.select_ties)
    if rule not in RULES:
        raise SystemExit(f"error: {dataset} selects epochs by {rule}, a rule tune.py does "
                         f"not judge; judged rules are {RULES}")
    return rule


def record(dataset, seed, candidate, data):
    path = run_path(dataset, seed, candidate)
    if os.path.exists(path):
        return
    started = time.perf_counter()
    model = EALGAN.from_config(candidate_config(base_config(dataset, seed), candidate))
    model.fit(data.X["train"], data.y["train"], data.X["val"], data.y["val"])
    seconds = time.perf_counter() - started
    os.makedirs(RUNS_DIR, exist_ok=True)
    tmp = path[:-len(".npz")] + ".tmp.npz"
    np.savez(tmp, val_scores=model.validation_scores_.astype(np.float32),
             y_val=data.y["val"], seconds=seconds, batch_size=model.batch_size_,
             epochs=model.max_epochs_, labels_queried=model.labels_queried_)
    os.replace(tmp, path)
    print(f"{dataset} seed {seed} {candidate}: {model.max_epochs_} epochs of batch "
          f"{model.batch_size_}, {seconds:.1f}s", flush=True)


def recorded_fits():
    """[(dataset, seed, candidate, saved arrays)] of every finished fit."""
    fits = []
    for path in sorted(glob.glob(os.path.join(RUNS_DIR, "*.npz"))):
        stem = os.path.basename(path)[:-len(".npz")]
        if stem.endswith(".tmp"):
            continue
        for candidate in CANDIDATES:
            if stem.endswith("_" + candidate):
                dataset, seed = stem[:-len(candidate) - 1].rsplit("_", 1)
                fits.append((dataset, int(seed), candidate, dict(np.load(path))))
    return fits


def earlier_rows(path, fits):
    """Rows of the table at `path` judged from fits whose files are not here (another machine's).

    `compare` rebuilds its tables from results/tuning_runs, which is not
    committed; rows of fits recorded elsewhere are kept as they were.
    """
    here = {(dataset, seed, candidate) for dataset, seed, candidate, _ in fits}
    return [row for row in typed_rows(path) if FIT_OF(row) not in here]


def typed_rows(path):
    """The rows of a table this script wrote, each cell as the value it was written from."""
    return [{key: value if key in TEXT_COLUMNS else cell_value(value)
             for key, value in row.items()} for row in read_rows(path)]


def cell_value(text):
    """A CSV cell as the int, float or string it was written from."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def compare_rules(fits):
    """Every rule on every fit; prints per rule the mean and the mean per-dataset spread,
    over every fit the rule judged, then over the fits that every rule judged."""
    # rows judged before the tie-break existed broke ties by the earliest epoch
    rows = [{**row, "Ties": row.get("Ties", "earliest")}
            for row in earlier_rows(SELECTION_TABLE, fits)]
    for dataset, seed, candidate, saved in fits:
        judged = cross_fit_rules(saved["val_scores"], saved["y_val"], RULES,
                                 np.random.default_rng(seed))
        for (metric, k, ties), (auc, gmean) in judged.items():
            rows.append({"Data": dataset, "Seed": seed, "Candidate": candidate,
                         "Metric": metric, "Top k": k, "Ties": ties,
                         "Held-out AUC": round(auc, 4), "Held-out Gmean": round(gmean, 4)})
    write_rows(SELECTION_TABLE, rows, SELECTION_COLUMNS)
    print_rule_summary(rows)
    everywhere = paired(rows)
    print(f"paired, over the {len(set(map(FIT_OF, everywhere)))} fits that every rule judged:")
    print_rule_summary(everywhere)
    return rows


def paired(rows):
    """The rows of the fits that every rule judged."""
    everywhere = {fit for fit, judged in collections.Counter(map(FIT_OF, rows)).items()
                  if judged == len(RULES)}
    return [r for r in rows if FIT_OF(r) in everywhere]


def rule_summary(rows):
    """Per rule: mean held-out AUC, Gmean and AUC x Gmean, the mean spread of AUC and of
    Gmean over the seeds of a dataset and candidate, and the number of fits judged."""
    summary = []
    for metric, k, ties in RULES:
        mine = [r for r in rows if (r["Metric"], r["Top k"], r["Ties"]) == (metric, k, ties)]
        auc = np.array([r["Held-out AUC"] for r in mine])
        gmean = np.array([r["Held-out Gmean"] for r in mine])
        spread = [np.mean([np.std([r[col] for r in mine
                                   if (r["Data"], r["Candidate"]) == group])
                           for group in sorted({(r["Data"], r["Candidate"]) for r in mine})])
                  for col in ("Held-out AUC", "Held-out Gmean")]
        summary.append(((metric, k, ties), np.nanmean(auc), np.nanmean(gmean),
                        np.nanmean(auc * gmean), *spread, len(mine)))
    return summary


def print_rule_summary(rows):
    print(f"{'rule':32s} {'AUC':>7s} {'Gmean':>7s} {'AUCxG':>7s} {'AUC sd':>7s} {'G sd':>7s}"
          " fits")
    for (metric, k, ties), *scores, fits in rule_summary(rows):
        print(f"{f'{metric} top-{k} ties {ties}':32s} "
              + " ".join(f"{value:7.4f}" for value in scores) + f" {fits}")


def rule_table(rows):
    """Markdown: every rule over the fits that every rule judged (docs/model_selection.md)."""
    names = {"auc_gmean": "AUC x Gmean", "auc": "AUC", "ap": "average precision"}
    lines = ["| Rule | held-out AUC | held-out Gmean | AUC x Gmean | AUC spread | Gmean spread |",
             "|---|---|---|---|---|---|"]
    for (metric, k, ties), *scores, _ in rule_summary(paired(rows)):
        epochs = "best epoch" if k == 1 else f"top {k}"
        lines.append(f"| {names[metric]}, {epochs}, {ties} | "
                     + " | ".join(f"{value:.4f}" for value in scores) + " |")
    return "\n".join(lines)


def compare_candidates(fits, selection_rows):
    """Every candidate per dataset and seed under the dataset's configured rule.

    The held-out scores are the selection row of that rule (the same
    cross-fit as judge_fit); the cost columns come from the fit's file, or
    from the earlier table for fits recorded elsewhere.
    """
    costs = {FIT_OF(row): row for row in earlier_rows(TUNING_TABLE, fits)}
    for dataset, seed, candidate, saved in fits:
        costs[dataset, seed, candidate] = {"Batch": int(saved["batch_size"]),
                                           "Epochs": int(saved["epochs"]),
                                           "Seconds": round(float(saved["seconds"]), 1)}
    rows = []
    unjudged = {FIT_OF(row) for row in selection_rows}
    for row in sorted(selection_rows, key=FIT_OF):
        fit = FIT_OF(row)
        if (row["Metric"], row["Top k"], row["Ties"]) != configured_rule(*fit[:2]):
            continue
        unjudged.discard(fit)
        if fit not in costs:
            raise SystemExit(f"error: {fit} is judged in {SELECTION_TABLE} but has neither a "
                             f"file in {RUNS_DIR} nor a row in {TUNING_TABLE}")
        rows.append({"Data": fit[0], "Seed": fit[1], "Candidate": fit[2],
                     "Held-out AUC": row["Held-out AUC"], "Held-out Gmean": row["Held-out Gmean"],
                     **{key: costs[fit][key] for key in ("Batch", "Epochs", "Seconds")}})
    if unjudged:
        raise SystemExit(f"error: {sorted(unjudged)} were judged elsewhere, but not by their "
                         f"config's rule; record them here (tune.py record) to judge them by it")
    write_rows(TUNING_TABLE, rows, TUNING_COLUMNS)
    for candidate in CANDIDATES:
        mine = [r for r in rows if r["Candidate"] == candidate]
        if mine:
            mean = np.mean([r["Held-out AUC"] * r["Held-out Gmean"] for r in mine])
            print(f"{candidate:16s} mean held-out AUC x Gmean {mean:.4f} "
                  f"over {len(mine)} fits, {sum(r['Seconds'] for r in mine):.0f}s")
    for dataset, (winner, _, _, _) in sorted(winners(rows).items()):
        print(f"{dataset:12s} -> {winner}")
    return rows


def winners(rows):
    """dataset -> (candidate, mean held-out AUC, mean held-out Gmean, candidates tied with it).

    The best objective wins; among equals, the earlier candidate of CANDIDATES.
    """
    means = mean_scores(rows)
    best = {}
    for dataset in sorted({d for d, _ in means}):
        scores = {c: objective(*means[dataset, c]) for c in CANDIDATES if (dataset, c) in means}
        winner = first_best(scores)
        tied = sum(score == scores[winner] for score in scores.values()) - 1
        best[dataset] = (winner, *means[dataset, winner], tied)
    return best


def mean_scores(rows):
    """{(dataset, candidate): (mean held-out AUC, mean held-out Gmean)} over its seeds."""
    grouped = collections.defaultdict(list)
    for r in rows:
        grouped[r["Data"], r["Candidate"]].append(r)
    return {key: tuple(float(np.mean([r[col] for r in mine]))
                       for col in ("Held-out AUC", "Held-out Gmean"))
            for key, mine in grouped.items()}


CRITERIA = {"AUC": lambda auc, gmean: auc, "Gmean": lambda auc, gmean: gmean,
            "AUC x Gmean": lambda auc, gmean: auc * gmean}


def candidate_means(rows):
    """mean_scores of the datasets on which every candidate was recorded with the same seeds."""
    seeds = collections.defaultdict(set)
    for r in rows:
        seeds[r["Data"], r["Candidate"]].add(r["Seed"])
    means = mean_scores(rows)
    complete = {d for d, _ in means
                if len(seed_sets := {frozenset(seeds[d, c]) for c in CANDIDATES}) == 1
                and all(seed_sets)}
    return {(d, c): scores for (d, c), scores in means.items() if d in complete}


def pick(means, datasets, criterion):
    """The candidate with the best mean criterion over `datasets` (ties: CANDIDATES order)."""
    score = CRITERIA[criterion]
    return first_best({c: np.mean([score(*means[d, c]) for d in datasets]) for c in CANDIDATES})


def tuning_transfer(rows, datasets):
    """Mean AUC x Gmean of `--tune`'s pick on one seed's split, scored on another seed's."""
    by_fit = {FIT_OF(r): objective(r["Held-out AUC"], r["Held-out Gmean"]) for r in rows}
    scored = []
    for d in datasets:
        seeds = sorted({r["Seed"] for r in rows if r["Data"] == d})
        for seed in seeds:  # tune()'s choice: the best objective, ties to the earlier candidate
            chosen = first_best({c: by_fit[d, seed, c] for c in CANDIDATES})
            scored += [by_fit[d, other, chosen][0] for other in seeds if other != seed]
    return float(np.mean(scored))


def default_choice(rows):
    """Markdown: each candidate's validation scores over the complete datasets, and how
    each way of choosing the default transfers to a dataset it did not see.

    Leave one dataset out: a criterion picks the candidate with its best mean
    on the others, and the pick is scored (AUC x Gmean) on the one left out.
    """
    means = candidate_means(rows)
    datasets = sorted({d for d, _ in means})
    both = CRITERIA["AUC x Gmean"]
    lines = ["| Candidate | AUC | Gmean | AUC x Gmean | worst set (AUC x Gmean) |",
             "|---|---|---|---|---|"]
    for c in CANDIDATES:
        objective_of = {d: both(*means[d, c]) for d in datasets}
        worst = min(datasets, key=objective_of.get)
        auc, gmean = np.mean([means[d, c] for d in datasets], axis=0)
        lines.append(f"| {c} | {auc:.4f} | {gmean:.4f} | {np.mean(list(objective_of.values())):.4f}"
                     f" | {objective_of[worst]:.4f} ({worst}) |")
    lines += ["", f"| Default chosen by the best mean | picks, leaving each of the {len(datasets)}"
              " sets out | AUC x Gmean on the set left out |", "|---|---|---|"]
    for criterion in CRITERIA:
        picks = {d: pick(means, [o for o in datasets if o != d], criterion) for d in datasets}
        held_out = np.mean([both(*means[d, picks[d]]) for d in datasets])
        counts = collections.Counter(picks.values()).most_common()
        lines.append(f"| {criterion} | {', '.join(f'{c} x{n}' for c, n in counts)} | "
                     f"{held_out:.4f} |")
    lines.append(f"| (`--tune True`: its pick on one seed's split, scored on the other's) | | "
                 f"{tuning_transfer(rows, datasets):.4f} |")
    return "\n".join(lines)


def write_configs():
    rows = typed_rows(TUNING_TABLE)
    seeds = sorted({r["Seed"] for r in rows})
    for dataset, (candidate, auc, gmean, tied) in winners(rows).items():
        tried = len({r["Candidate"] for r in rows if r["Data"] == dataset})
        reason = (f"# the best mean AUC x Gmean of {tried} candidates (results/tuning.csv),"
                  if not tied else
                  f"# tied with {tied} of the other {tried - 1} candidates on mean AUC x Gmean "
                  "(results/tuning.csv),\n# so the first of them in tuning.py's order,")
        path = os.path.join(ROOT, "configs", f"{dataset}.yaml")
        kept = keep_untuned(path)
        lines = [f"# {dataset}: scripts/tune.py chose candidate {candidate!r} "
                 "(models/eal_gan/tuning.py)",
                 f"# on validation of seeds {', '.join(map(str, seeds))}: held-out AUC {auc:.4f}, "
                 f"Gmean {gmean:.4f},",
                 reason, "# each judged by this config's epoch rule."]
        settings = candidate_settings(EALGAN().config, candidate)
        lines += [f"{key}: {yaml_value(settings[key])}" for key in TUNED_KEYS]
        atomic_write_text(path, "\n".join(lines + kept) + "\n")
        print(f"{path}: {candidate}")


def keep_untuned(path):
    """Lines of an existing config that set something tuning does not (e.g. the activation)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle
                if line.strip() and not line.startswith("#")
                and line.split(":")[0].strip() not in TUNED_KEYS]


def yaml_value(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("record", "compare", "configs"))
    parser.add_argument("--datasets", nargs="+", default=list(ODDS_DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 43])
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES),
                        choices=list(CANDIDATES))
    parser.add_argument("--threads", type=int, default=runtime.DEFAULT_CPU_THREADS,
                        help="CPU kernel threads (1 lets two record runs share 2 cores)")
    args = parser.parse_args()
    if args.action == "compare":
        fits = recorded_fits()
        selection = compare_rules(fits)
        blocks = {RULES_BLOCK: rule_table(selection),
                  DEFAULT_BLOCK: default_choice(compare_candidates(fits, selection))}
        print(blocks[DEFAULT_BLOCK])
        for doc in DOCS:
            for name, table in blocks.items():
                fill_block(doc, name, table)
        return
    if args.action == "configs":
        write_configs()
        return
    runtime.configure(threads=args.threads)
    total = len(args.seeds) * len(args.datasets) * len(args.candidates)
    scalings = {dataset: configured_scaling(dataset) for dataset in args.datasets}
    with progress.bar(total, "tuning fits", "fit") as fits:
        for seed in args.seeds:
            for dataset in args.datasets:
                data = prepare(load_table(resolve_data_file(os.path.join(ROOT, "data"),
                                                            dataset)), seed,
                               scaling=scalings[dataset])
                for candidate in args.candidates:
                    record(dataset, seed, candidate, data)
                    fits.update(1)


if __name__ == "__main__":
    main()
