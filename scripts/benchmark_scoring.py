"""Training and scoring speed of every detector on one dataset (default shuttle).

    .venv/bin/python scripts/benchmark_scoring.py [--data_name shuttle] [--epochs 2]

Each detector is trained for a few epochs on the seed-42 training part (speed
does not depend on how well it is trained), then scores the test part twice:
the first pass includes compiling the scoring graph, the second is timed.
Prints seconds per training epoch (median of epochs after the first, which
compiles; EAL-GAN's epochs include scoring train and validation rows for its
epoch selection) and test rows scored per second.  AnoGAN's score needs a latent
search per row (batched over a chunk of rows), which makes it the slow one.
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models import DETECTORS  # noqa: E402
from models.utils import runtime  # noqa: E402
from dataloader import load_table, resolve_data_file  # noqa: E402
from preprocess import prepare  # noqa: E402
from config import model_config, resolve_settings  # noqa: E402


def measure(name, data_name, epochs):
    args = resolve_settings(["--model", name, "--data_name", data_name,
                             "--max_epochs", str(epochs)])
    data = prepare(load_table(resolve_data_file(os.path.join(ROOT, "data"), data_name)), 42,
                   scaling=args.scaling)
    history = []
    model = DETECTORS[name].from_config(model_config(args))
    model.fit(data.X["train"], data.y["train"], data.X["val"], data.y["val"], history.append)
    model.decision_function(data.X["test"])
    started = time.perf_counter()
    model.decision_function(data.X["test"])
    rows_per_s = len(data.X["test"]) / (time.perf_counter() - started)
    epoch_s = float(np.median([r["seconds"] for r in history[1:]]))
    return epoch_s, rows_per_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_name", default="shuttle")
    parser.add_argument("--epochs", type=int, default=3,
                        help="training epochs per detector (at least 2; the first is not timed)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2")
    runtime.configure("CPU", 0, runtime.DEFAULT_CPU_THREADS)
    print(f"detector speed on {args.data_name} (CPU, {os.cpu_count()} cores, "
          f"{runtime.DEFAULT_CPU_THREADS} kernel threads)")
    print("| detector | train s/epoch | test rows scored/s |")
    print("|---|---|---|")
    for name in DETECTORS:
        epoch_s, rows_per_s = measure(name, args.data_name, args.epochs)
        print(f"| {DETECTORS[name].label} | {epoch_s:.2f} | {rows_per_s:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
