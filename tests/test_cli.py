"""train_eval.py end to end: bad input, outputs, resume, reproducibility."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.io

from conftest import (ROOT, assert_clean_failure, flags, read_csv, run_cli, separable_data,
                      snapshot, write_mat)


BAD_DATA = {
    "no_xy.mat": ({"A": np.eye(3)}, "no variable X or y"),
    "strings.mat": ({"X": np.eye(20), "y": np.full(20, 2)}, "labels must be 0"),
    "one_class.mat": ({"X": np.eye(20), "y": np.zeros(20)}, "all labels are 0"),
    "inf.mat": ({"X": np.where(np.eye(20) > 0, np.inf, 0), "y": np.r_[np.ones(5), np.zeros(15)]},
                "infinite"),
    "tiny.mat": ({"X": np.eye(8), "y": np.r_[np.ones(2), np.zeros(6)]}, "too few rows"),
}


@pytest.mark.parametrize("filename", sorted(BAD_DATA))
def test_bad_data_files(workspace, filename):
    content, match = BAD_DATA[filename]
    scipy.io.savemat(workspace / "data" / filename, content)
    before = snapshot(workspace)
    result = run_cli(*flags(workspace, "--data_name", filename[:-4]))
    assert_clean_failure(result, workspace, before, match)


@pytest.mark.parametrize("extra,match", [
    (["--data_name", "glass"], "get_data.sh glass"),
    (["--data_name", "nosuch"], "unknown dataset 'nosuch'"),
    (["--data_name", "toy", "--device_target", "TPU"], "unknown device_target 'TPU'"),
    (["--data_name", "toy", "--device_target", "Ascend"], "not available"),
    (["--data_name", "toy", "--active_rate", "1.5"], "active_rate"),
    (["--data_name", "toy", "--resume", "maybe"], "expected True or False"),
    (["--data_name", "toy", "--resume", "True"], "no model directory"),
    (["--data_name", "toy", "--no_such_flag", "1"], "unrecognized arguments"),
])
def test_bad_settings(workspace, extra, match):
    before = snapshot(workspace)
    assert_clean_failure(run_cli(*flags(workspace, *extra)), workspace, before, match)


@pytest.mark.slow
def test_train_resume_and_reproduce(workspace):
    first = run_cli(*flags(workspace, "--data_name", "toy", "--resume", "False", "--seed", 5))
    assert first.returncode == 0, first.stderr
    meta = json.loads((workspace / "weights" / "toy" / "meta.json").read_text())
    assert meta["seed"] == 5 and meta["split"] == {"train": 144, "val": 48, "test": 48}
    rows = read_csv(workspace / "results" / "AUC_EAL_GAN.csv")
    assert [r["Data"] for r in rows] == ["other", "toy", "mean"]
    assert rows[1]["EAL-GAN"] == f"{meta['test_auc']:.4f}"
    runs = read_csv(workspace / "results" / "runs.csv")
    assert [(r["Data"], r["Seed"]) for r in runs] == [("other", "42"), ("toy", "5")]
    assert float(runs[1]["Gmean"]) == pytest.approx(meta["test_gmean"], abs=1e-6)

    # evaluating the saved weights reproduces the recorded metrics exactly
    again = run_cli(*flags(workspace, "--data_name", "toy", "--resume", "True"))
    assert again.returncode == 0, again.stderr
    assert "trained with seed 5" in again.stdout
    assert f"test: auc {meta['test_auc']:.4f} gmean {meta['test_gmean']:.4f}" in again.stdout
    assert len(read_csv(workspace / "results" / "Gmean_EAL_GAN.csv")) == 3
    assert read_csv(workspace / "results" / "runs.csv") == runs

    # a second training with the same seed gives the same model
    second = run_cli(*flags(workspace, "--data_name", "toy", "--seed", 5,
                            "--weights_dir", workspace / "weights2"))
    assert second.returncode == 0, second.stderr
    meta2 = json.loads((workspace / "weights2" / "toy" / "meta.json").read_text())
    for key in ("test_auc", "test_gmean", "test_ap", "val_auc", "member_lr", "selected_epoch"):
        assert meta2[key] == meta[key], key

    # weights trained on 5 features cannot score a 6-feature file of the same name
    X, y = separable_data(rows=240, features=6)
    write_mat(workspace / "data" / "toy.mat", X, y)
    before = snapshot(workspace)
    result = run_cli(*flags(workspace, "--data_name", "toy", "--resume", "True"))
    assert_clean_failure(result, workspace, before, "trained on 5 features")


def test_output_folder_that_is_a_file_is_refused_before_training(workspace):
    (workspace / "not_a_folder").write_text("x")
    before = snapshot(workspace)
    result = run_cli(*flags(workspace, "--data_name", "toy", "--results_dir",
                            workspace / "not_a_folder" / "results"))
    assert_clean_failure(result, workspace, before, "is a file, not a folder")
    assert "epoch" not in result.stdout


def test_a_run_that_cannot_record_its_results_keeps_the_old_weights(workspace):
    assert run_cli(*flags(workspace, "--data_name", "toy", "--seed", 5)).returncode == 0
    runs = workspace / "results" / "runs.csv"
    runs.write_text("Some,Other,Columns\n1,2,3\n")  # a damaged results table
    before = snapshot(workspace)
    result = run_cli(*flags(workspace, "--data_name", "toy", "--seed", 6))
    assert_clean_failure(result, workspace, before, "has columns")
    assert sorted(os.listdir(workspace / "weights")) == ["toy"]  # no staging folder left
    assert json.loads((workspace / "weights" / "toy" / "meta.json").read_text())["seed"] == 5


def test_a_command_leaves_its_imported_objects_out_of_garbage_collection():
    """MindSpore runs a full collection before compiling each graph; a command freezes what
    its imports made (0 objects frozen before, many after), so that collection stays cheap."""
    probe = ("import gc, sys; sys.path.insert(0, '.'); import train_eval; "
             "from models.utils.cli import run_command; before = gc.get_freeze_count(); "
             "run_command(lambda: print(before, gc.get_freeze_count()), (), '')")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    before, after = map(int, result.stdout.split()[-2:])
    assert before == 0 and after > 100_000
