"""Regenerate the figures under results/plots from saved models and results/runs.csv.

    .venv/bin/python scripts/plot_results.py [--models eal_gan vae ...] [--datasets glass ...]
                                             [--weights_dir weights_seeds/seed42]

For every saved model (weights/DATASET for EAL-GAN, weights/MODEL/DATASET for
the others; `--weights_dir` reads another folder, e.g. weights_seeds/seed42,
where run_all.sh keeps the seed-42 weights too large to ship): its training
curves (history.csv, selected epoch marked) and the ROC and precision-recall
curves of its test split, which the model scores again on the split recorded
with it; then, per model asked for that has rows in results/runs.csv, a bar
chart of mean test AUC and Gmean per dataset with the std over seeds.
Results tables are not touched.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models import DETECTORS  # noqa: E402
from models.utils import plots, runtime  # noqa: E402
from dataloader import ODDS_DATASETS, load_table, resolve_data_file  # noqa: E402
from models.utils.results import RUN_COLUMNS, RUNS_FILE, read_rows  # noqa: E402
import evaluation  # noqa: E402
from config import resolve_settings  # noqa: E402


def saved_datasets(args):
    folder = evaluation.weights_folder(args, "")
    return [d for d in ODDS_DATASETS if os.path.isfile(os.path.join(folder, d, "meta.json"))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(DETECTORS), choices=list(DETECTORS))
    parser.add_argument("--datasets", nargs="+", help="default: every dataset with weights")
    parser.add_argument("--weights_dir", default="weights",
                        help="the folder of saved models (default: the shipped ones)")
    cli = parser.parse_args()
    os.chdir(ROOT)  # the settings' paths (data/, weights/) are relative to the repository
    runtime.configure()
    results = os.path.join(ROOT, "results")
    for model in cli.models:
        args = resolve_settings(["--model", model, "--resume", "True", "--results_dir", results,
                                 "--weights_dir", cli.weights_dir])
        for dataset in cli.datasets or saved_datasets(args):
            args.data_name = dataset
            table = load_table(resolve_data_file(args.data_path, dataset))
            weights = evaluation.weights_folder(args, dataset)
            detector, data, _ = evaluation.load_trained(args, table, weights)
            _, test_scores = evaluation.evaluate_parts(detector, data)
            evaluation.draw_figures(args, table, detector, data, test_scores)
    runs = read_rows(os.path.join(results, RUNS_FILE), RUN_COLUMNS)
    for name in cli.models:  # only the models asked for: the others' figures are not shipped
        detector = DETECTORS[name]
        if any(r["Model"] == detector.label for r in runs):
            plots.summary_bars(runs, detector.label,
                               os.path.join(results, "plots", f"summary_{name}.png"))


if __name__ == "__main__":
    main()
