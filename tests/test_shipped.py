"""The shipped seed-42 weights reproduce the committed results/runs.csv rows."""
import csv
import os

import pytest

from conftest import ODDS_DIR, ROOT, odds_file
import train_eval

METRICS = ("AUC", "Gmean", "AP", "Precision@n")


def committed_row(dataset, folder):
    with open(os.path.join(folder, "runs.csv"), newline="") as handle:
        return next(r for r in csv.DictReader(handle)
                    if (r["Model"], r["Data"], r["Seed"]) == ("EAL-GAN", dataset, "42"))


@pytest.mark.parametrize("dataset", ["lympho", "glass", "pima", "cardio"])
def test_shipped_weights_reproduce_runs_csv(dataset, tmp_path):
    odds_file(dataset)
    weights = os.path.join(ROOT, "weights")
    assert os.path.isfile(os.path.join(weights, dataset, "meta.json")), "weights not shipped"
    code = train_eval.main(["--data_name", dataset, "--data_path", ODDS_DIR, "--resume", "True",
                            "--weights_dir", weights, "--results_dir", str(tmp_path),
                            "--plots", "False"])
    assert code == 0
    want = committed_row(dataset, os.path.join(ROOT, "results"))
    got = committed_row(dataset, str(tmp_path))
    for metric in METRICS:
        assert round(float(got[metric]), 4) == round(float(want[metric]), 4), metric
    assert got["Selected epoch"] == want["Selected epoch"]
