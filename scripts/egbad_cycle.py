"""EGBAD's cycle_weight chosen on validation: fits per dataset, seed and weight.

    .venv/bin/python scripts/egbad_cycle.py [--datasets ...] [--seeds 42]
                                            [--weights 0 1 10 100] [--threads 1]

For every fit it records the validation AUC of the final model and the
last epoch's `reconstruction` (mean |x - G(E(x))| of the validation part's
normal rows) beside |x - mean of the normal training rows|, the error of
predicting the mean.  Test parts are not scored.  Rows are appended to
results/egbad_cycle.csv as fits end; finished fits are skipped, so the
command resumes.  The summary printed at the end is what
configs/models/egbad.yaml's cycle_weight was chosen from.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dataloader import ODDS_DATASETS, load_table, resolve_data_file  # noqa: E402
from models.family.egbad import EGBAD  # noqa: E402
from models.utils import runtime  # noqa: E402
from models.utils.metrics import auc_score  # noqa: E402
from models.utils.results import read_rows, write_rows  # noqa: E402
from preprocess import prepare  # noqa: E402
from config import configured_scaling, model_config, resolve_settings  # noqa: E402

TABLE = os.path.join(ROOT, "results", "egbad_cycle.csv")
COLUMNS = ["dataset", "seed", "cycle_weight", "val_auc", "reconstruction", "mean_baseline"]


def fit_one(name, data, seed, weight):
    """EGBAD with configs/models/egbad.yaml's settings and this seed and cycle_weight."""
    config = model_config(resolve_settings(["--model", "egbad", "--data_name", name,
                                            "--seed", str(seed), "--cycle_weight", str(weight)]))
    model = EGBAD.from_config(config)
    model.fit(data.X["train"], data.y["train"], data.X["val"], data.y["val"])
    normal_train = data.X["train"][data.y["train"] == 0]
    normal_val = data.X["val"][data.y["val"] == 0]
    return {"val_auc": auc_score(data.y["val"], model.decision_function(data.X["val"])),
            "reconstruction": model.history_[-1]["reconstruction"],
            "mean_baseline": float(np.abs(normal_val - normal_train.mean(0)).mean())}


def summary(rows):
    for weight in sorted({float(r["cycle_weight"]) for r in rows}):
        mine = [r for r in rows if float(r["cycle_weight"]) == weight]
        auc = np.mean([float(r["val_auc"]) for r in mine])
        inverted = np.mean([float(r["reconstruction"]) < float(r["mean_baseline"]) for r in mine])
        print(f"cycle_weight {weight:g}: {len(mine)} fits, mean validation AUC {auc:.4f}, "
              f"G(E(x)) closer than the mean in {inverted:.0%} of fits")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(ODDS_DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    parser.add_argument("--weights", nargs="+", type=float, default=[0.0, 1.0, 10.0, 100.0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    runtime.configure("CPU", 0, args.threads)
    rows = read_rows(TABLE, COLUMNS)
    done = {(r["dataset"], int(r["seed"]), float(r["cycle_weight"])) for r in rows}
    for name in args.datasets:
        table = load_table(resolve_data_file(os.path.join(ROOT, "data"), name))
        scaling = configured_scaling(name, "egbad")
        for seed in args.seeds:
            data = prepare(table, seed, scaling=scaling)
            for weight in args.weights:
                if (name, seed, weight) in done:
                    continue
                row = {"dataset": name, "seed": seed, "cycle_weight": weight,
                       **fit_one(name, data, seed, weight)}
                rows.append(row)
                write_rows(TABLE, rows, COLUMNS)   # after every fit, so the command resumes
                print(f"{name} seed {seed} cycle_weight {weight:g}: validation AUC "
                      f"{row['val_auc']:.4f}, reconstruction {row['reconstruction']:.3f} "
                      f"(mean {row['mean_baseline']:.3f})", flush=True)
    summary(rows)


if __name__ == "__main__":
    main()
