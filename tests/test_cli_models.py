"""train_eval.py --model for the other detectors, and the figures it draws."""
import json

import pytest

from conftest import assert_clean_failure, flags, read_csv, run_cli, snapshot

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_autoencoder_train_evaluate_and_figures(workspace):
    trained = run_cli(*flags(workspace, "--data_name", "toy", "--model", "ae", "--plots", "True"))
    assert trained.returncode == 0, trained.stderr
    meta = json.loads((workspace / "weights" / "ae" / "toy" / "meta.json").read_text())
    assert meta["model"] == "ae" and "threshold" in meta
    row = [r for r in read_csv(workspace / "results" / "runs.csv") if r["Data"] == "toy"][0]
    assert row["Model"] == "AutoEncoder" and row["Selected epoch"] == ""
    assert read_csv(workspace / "results" / "AUC_AutoEncoder.csv")[0]["Data"] == "toy"
    for name in ("ae_toy_training.png", "ae_toy_test.png", "summary_ae.png"):
        assert (workspace / "results" / "plots" / name).read_bytes()[:8] == PNG, name

    again = run_cli(*flags(workspace, "--data_name", "toy", "--model", "ae", "--resume", "True"))
    assert again.returncode == 0, again.stderr
    assert f"test: auc {meta['test_auc']:.4f} gmean {meta['test_gmean']:.4f}" in again.stdout

    before = snapshot(workspace)
    wrong = run_cli(*flags(workspace, "--data_name", "toy", "--resume", "True",
                           "--weights_dir", workspace / "weights" / "ae"))
    assert_clean_failure(wrong, workspace, before, "holds a 'ae' model; pass --model ae")


def test_unknown_model(workspace):
    before = snapshot(workspace)
    result = run_cli(*flags(workspace, "--data_name", "toy", "--model", "svm"))
    assert_clean_failure(result, workspace, before, "unknown model 'svm'")
