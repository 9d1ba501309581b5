"""Label efficiency: test quality against the share of training labels queried.

    .venv/bin/python scripts/label_efficiency.py run [--datasets ...] [--seeds 42 43 44]
                                                     [--rates 0.05 0.1 0.25 0.5 1] [--threads N]
                                                     [--rerun]
    .venv/bin/python scripts/label_efficiency.py plot

`run` trains EAL-GAN with each dataset's settings (configs/DATASET.yaml) and
each active_rate, on each seed's 6:2:2 split, and records its test AUC and
Gmean with the number of distinct training rows whose labels it queried.
For the same dataset, seed and count, RandomForest and (when installed)
CatBoost are trained on that many training rows drawn at random (seeded,
stratified so both classes appear): what a supervised model does with the
same number of labels without choosing them.  Rows go to
results/label_efficiency.csv; a finished (dataset, seed, rate) is skipped, so
the command resumes.  `--rerun` trains finished settings again (after a
config changed) and replaces their rows in place as each one finishes.
`plot` draws results/plots/label_efficiency.png.
The test part is scored once per fit and chooses nothing.
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models import EALGAN  # noqa: E402
from models.utils import progress, runtime  # noqa: E402
from models.utils.metrics import evaluate  # noqa: E402
from models.utils.results import (read_rows, replace_rows, results_lock,  # noqa: E402
                                  row_key, write_rows)
from dataloader import load_table, resolve_data_file  # noqa: E402
from preprocess import prepare  # noqa: E402
from config import configured_scaling, model_config, resolve_settings  # noqa: E402
from baselines import MODELS, anomaly_scores, available_models  # noqa: E402

TABLE = os.path.join(ROOT, "results", "label_efficiency.csv")
FIGURE = os.path.join(ROOT, "results", "plots", "label_efficiency.png")
COLUMNS = ["Data", "Seed", "Active rate", "Model", "Labels", "Train rows", "Label share",
           "AUC", "Gmean", "Seconds"]
DATASETS = ["glass", "ionosphere", "pima", "vowels", "cardio", "satimage-2"]
RATES = [0.05, 0.1, 0.25, 0.5, 1.0]
SUBSET_MODELS = ["RandomForest", "CatBoost"]
SETTING = ("Data", "Seed", "Active rate")  # one fit: EAL-GAN's row and its subset baselines'


def random_labelled_rows(y, count, seed):
    """`count` row indices drawn at random, stratified by label, at least one per class."""
    rng = np.random.default_rng(seed)
    anomalies = int(np.clip(round(count * y.mean()), 1, count - 1))
    picked = [rng.choice(np.flatnonzero(y == label), size=size, replace=False)
              for label, size in ((1, anomalies), (0, count - anomalies))]
    return np.sort(np.concatenate(picked))


def row(dataset, seed, rate, model, labels, train_rows, metrics, seconds):
    return {"Data": dataset, "Seed": seed, "Active rate": rate, "Model": model,
            "Labels": labels, "Train rows": train_rows,
            "Label share": f"{labels / train_rows:.4f}", "AUC": f"{metrics['auc']:.6f}",
            "Gmean": f"{metrics['gmean']:.6f}", "Seconds": f"{seconds:.1f}"}


def one_setting(dataset, seed, rate, data, subset_models):
    """EAL-GAN at this active rate, then the subset baselines with as many labels."""
    args = resolve_settings(["--data_name", dataset, "--seed", str(seed),
                             "--active_rate", str(rate)])
    started = time.perf_counter()
    model = EALGAN.from_config(model_config(args))
    model.fit(data.X["train"], data.y["train"], data.X["val"], data.y["val"])
    seconds = time.perf_counter() - started
    labels, train_rows = model.labels_queried_, data.sizes["train"]
    rows = [row(dataset, seed, rate, "EAL-GAN", labels, train_rows,
                evaluate(data.y["test"], model.decision_function(data.X["test"])), seconds)]
    subset = random_labelled_rows(data.y["train"], labels, seed)
    for name in subset_models:
        started = time.perf_counter()
        scores = anomaly_scores(MODELS[name](), data.X["train"][subset],
                                data.y["train"][subset], data.X["test"])
        rows.append(row(dataset, seed, rate, name, labels, train_rows,
                        evaluate(data.y["test"], scores), time.perf_counter() - started))
    return rows


def run(datasets, seeds, rates, rerun=False):
    subset_models = [m for m in SUBSET_MODELS if m in available_models()]
    if rerun and subset_models != SUBSET_MODELS:  # a rerun replaces every model's rows
        missing = sorted(set(SUBSET_MODELS) - set(subset_models))
        raise SystemExit(f"error: --rerun would drop the rows of {', '.join(missing)}, which "
                         "is not installed; pip install -r requirements-baselines.txt")
    done = set() if rerun else {row_key(r, SETTING) for r in read_rows(TABLE, COLUMNS)}
    todo = [(d, s, r) for d in datasets for s in seeds for r in rates
            if (d, str(s), str(r)) not in done]
    with progress.bar(len(todo), "label-efficiency settings", "setting") as settings:
        for dataset in dict.fromkeys(d for d, _, _ in todo):
            table = load_table(resolve_data_file(os.path.join(ROOT, "data"), dataset))
            scaling = configured_scaling(dataset)
            for seed in dict.fromkeys(s for d, s, _ in todo if d == dataset):
                data = prepare(table, seed, scaling=scaling)
                for rate in [r for d, s, r in todo if (d, s) == (dataset, seed)]:
                    run_setting(dataset, seed, rate, data, subset_models)
                    settings.update(1)


def run_setting(dataset, seed, rate, data, subset_models):
    """Train one (dataset, seed, rate) setting and put its rows in the table."""
    new = one_setting(dataset, seed, rate, data, subset_models)
    with results_lock(os.path.dirname(TABLE)):  # two runs may share the table
        write_rows(TABLE, replace_rows(read_rows(TABLE, COLUMNS), new, SETTING), COLUMNS)
    print("  ".join(f"{r['Model']} auc {float(r['AUC']):.4f}" for r in new)
          + f"  ({dataset} seed {seed} rate {rate}: {new[0]['Labels']} of "
          f"{new[0]['Train rows']} labels)", flush=True)


def plot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = read_rows(TABLE, COLUMNS)
    datasets = list(dict.fromkeys(r["Data"] for r in rows))
    figure, axes = plt.subplots(2, len(datasets), figsize=(3.2 * len(datasets), 6),
                                squeeze=False)
    for column, dataset in enumerate(datasets):
        for metric, axis in zip(("AUC", "Gmean"), axes[:, column]):
            for model in ["EAL-GAN", *SUBSET_MODELS]:
                mine = [r for r in rows if r["Data"] == dataset and r["Model"] == model]
                rates = sorted({float(r["Active rate"]) for r in mine})
                if not rates:
                    continue
                share = [np.mean([float(r["Label share"]) for r in mine
                                  if float(r["Active rate"]) == rate]) for rate in rates]
                value = [np.mean([float(r[metric]) for r in mine
                                  if float(r["Active rate"]) == rate]) for rate in rates]
                axis.plot(share, value, marker="o", label=model)
            axis.set_title(f"{dataset}: test {metric}", fontsize=9)
            axis.set_xlabel("share of training labels used", fontsize=8)
    axes[0, 0].legend(fontsize=8)
    figure.tight_layout()
    os.makedirs(os.path.dirname(FIGURE), exist_ok=True)
    tmp = FIGURE[:-len(".png")] + ".tmp.png"
    figure.savefig(tmp, dpi=110)
    plt.close(figure)
    os.replace(tmp, FIGURE)
    print(f"figure -> {FIGURE}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("run", "plot"))
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    parser.add_argument("--rates", nargs="+", type=float, default=RATES)
    parser.add_argument("--threads", type=int, default=runtime.DEFAULT_CPU_THREADS)
    parser.add_argument("--rerun", action="store_true",
                        help="train finished settings again and replace their rows")
    args = parser.parse_args()
    if args.action == "plot":
        plot()
        return
    runtime.configure(threads=args.threads)
    run(args.datasets, args.seeds, args.rates, args.rerun)


if __name__ == "__main__":
    main()
