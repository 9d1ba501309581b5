"""Compare settings on the validation split only (never the test split).

    .venv/bin/python scripts/tune.py --datasets glass lympho --set batch_size=32 lr_d=0.002
    .venv/bin/python scripts/tune.py --datasets glass --set max_epochs=300 --seed 42

Each dataset is trained with its configs/DATASET.yaml settings plus the
`--set` overrides, on the given seed's training part; the line printed and
appended to results/tuning.csv holds the selected epoch's validation AUC and
Gmean.  Test rows are split off exactly as in train_eval.py but never scored,
so choices made from this table cannot leak test information.
"""
import argparse
import csv
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models import EALGAN, runtime  # noqa: E402  (first: sets MindSpore's log level)
from dataloader import ODDS_DATASETS, load_table, resolve_data_file  # noqa: E402
from preprocess import prepare  # noqa: E402
from train_eval import model_config, resolve_settings  # noqa: E402

COLUMNS = ["Data", "Seed", "Settings", "Val AUC", "Val Gmean", "Selected epoch", "Seconds"]


def validate(dataset, overrides, seed):
    argv = ["--data_name", dataset, "--seed", str(seed)]
    for item in overrides:
        key, _, value = item.partition("=")
        argv += [f"--{key}", value]
    args = resolve_settings(argv)
    data = prepare(load_table(resolve_data_file(os.path.join(ROOT, "data"), dataset)), seed)
    started = time.perf_counter()
    model = EALGAN(model_config(args)).fit(data.X["train"], data.y["train"], data.X["val"],
                                           data.y["val"])
    chosen = next(r for r in model.history_ if r["epoch"] == model.selected_epoch_)
    settings = " ".join(overrides) or f"configs/{dataset}.yaml"
    return {"Data": dataset, "Seed": seed, "Settings": settings,
            "Val AUC": f"{chosen['val_auc']:.4f}", "Val Gmean": f"{chosen['val_gmean']:.4f}",
            "Selected epoch": model.selected_epoch_,
            "Seconds": f"{time.perf_counter() - started:.1f}"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(ODDS_DATASETS))
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="settings that override configs/DATASET.yaml")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=os.path.join(ROOT, "results", "tuning.csv"))
    args = parser.parse_args()
    runtime.configure()
    new_file = not os.path.exists(args.out)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        if new_file:
            writer.writeheader()
        for dataset in args.datasets:
            row = validate(dataset, args.set, args.seed)
            writer.writerow(row)
            handle.flush()
            print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
