"""Baselines on exactly EAL-GAN's splits and metrics, with z-scored features.

    .venv/bin/python scripts/baselines.py [--seeds 42 43 44 45 46] [--datasets ...]
    .venv/bin/pip install -r requirements-baselines.txt   # adds CatBoost, LightGBM, XGBoost

For every dataset and seed: the 6:2:2 split of train_eval.py and the
training part's z-scores (SCALING: what every recorded baseline row was
made with; the trees do not depend on it), each model fitted on the training part (validation is not
used: these run with their library defaults, a fixed seed and 2 threads),
test scores, and the same metrics.  The gradient-boosting libraries are
optional: a model whose library is not installed is skipped with a note.
Gmean uses the threshold 0.5 on predict_proba, or, for IsolationForest, on
its anomaly score min-max scaled with the training scores' range.  Rows go
to results/baselines.csv in the shape of results/runs.csv.
"""
import argparse
import importlib.util
import os
import sys
import time

import numpy as np
from sklearn.ensemble import (HistGradientBoostingClassifier, IsolationForest,
                              RandomForestClassifier)
from sklearn.linear_model import LogisticRegression

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dataloader import ODDS_DATASETS, load_table, resolve_data_file  # noqa: E402
from models.utils.metrics import evaluate  # noqa: E402
from models.utils.results import RUN_COLUMNS, dataset_row, read_rows, run_row, write_rows  # noqa: E402
from preprocess import prepare  # noqa: E402

SEED = 0  # every model's own random_state
SCALING = "standard"
THREADS = 2


def catboost():
    from catboost import CatBoostClassifier
    return CatBoostClassifier(random_seed=SEED, thread_count=THREADS, verbose=False,
                              allow_writing_files=False)


def lightgbm():
    from lightgbm import LGBMClassifier
    return LGBMClassifier(random_state=SEED, n_jobs=THREADS, verbose=-1)


def xgboost():
    from xgboost import XGBClassifier
    return XGBClassifier(random_state=SEED, n_jobs=THREADS)


MODELS = {
    "HistGradientBoosting": lambda: HistGradientBoostingClassifier(random_state=SEED),
    "RandomForest": lambda: RandomForestClassifier(n_estimators=200, random_state=SEED,
                                                   n_jobs=THREADS),
    "LogisticRegression": lambda: LogisticRegression(max_iter=5000, random_state=SEED),
    "IsolationForest": lambda: IsolationForest(random_state=SEED),
    "CatBoost": catboost,
    "LightGBM": lightgbm,
    "XGBoost": xgboost,
}
# model -> the optional package it needs (requirements-baselines.txt)
OPTIONAL = {"CatBoost": "catboost", "LightGBM": "lightgbm", "XGBoost": "xgboost"}


def available_models():
    """MODELS without those whose optional library is missing (with a note for each)."""
    missing = [name for name, package in OPTIONAL.items()
               if importlib.util.find_spec(package) is None]
    for name in missing:
        print(f"note: {OPTIONAL[name]} is not installed, skipping {name} "
              "(pip install -r requirements-baselines.txt)")
    return {name: make for name, make in MODELS.items() if name not in missing}


def anomaly_scores(model, X_train, y_train, X_test):
    """Fit on the training part; scores in [0, 1] for the test part."""
    if isinstance(model, IsolationForest):
        model.fit(X_train)
        train = -model.score_samples(X_train)
        low, high = train.min(), train.max()
        return np.clip((-model.score_samples(X_test) - low) / (high - low), 0.0, 1.0)
    model.fit(X_train, y_train)
    return model.predict_proba(X_test)[:, 1]


def run(datasets, seeds, out):
    rows = read_rows(out, RUN_COLUMNS)
    done = {(r["Model"], r["Data"], r["Seed"]) for r in rows}
    models = available_models()
    for dataset in datasets:
        table = load_table(resolve_data_file(os.path.join(ROOT, "data"), dataset))
        key = dataset_row(table.name, len(table.y), table.X.shape[1], table.outlier_percent)
        for seed in seeds:
            data = prepare(table, seed, scaling=SCALING)
            for name, make in models.items():
                if (name, table.name, str(seed)) in done:
                    continue
                started = time.perf_counter()
                scores = anomaly_scores(make(), data.X["train"], data.y["train"],
                                        data.X["test"])
                seconds = time.perf_counter() - started
                metrics = evaluate(data.y["test"], scores)
                rows.append({c: str(v) for c, v in run_row(
                    name, key, seed, metrics, "", data.sizes["train"], data.sizes["train"],
                    seconds).items()})
                write_rows(out, rows, RUN_COLUMNS)
                print(f"{dataset} seed {seed} {name}: auc {metrics['auc']:.4f} "
                      f"gmean {metrics['gmean']:.4f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(ODDS_DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44, 45, 46])
    parser.add_argument("--out", default=os.path.join(ROOT, "results", "baselines.csv"))
    args = parser.parse_args()
    run(args.datasets, args.seeds, args.out)


if __name__ == "__main__":
    main()
