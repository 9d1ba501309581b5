"""The Python front door as a user meets it: a fresh process with the installed package
(no test fixture configures it), then its saved and pickled models in the tools."""
import json
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest

from conftest import ROOT, flags, run_cli, separable_data, write_mat
from dataloader import load_table
from models import EALGAN, load_model
from models.utils.checkpoint import read_meta
from preprocess import PARTS, prepare, split_indices

SEED = 44


@pytest.fixture(scope="module")
def python_user(tmp_path_factory):
    """train_eval.py on toy data, then tests/fresh/python_user.py on the same split and settings.

    The script runs from a folder outside the repository, so only the
    installed `ealgan` package can be imported, and nothing configures
    MindSpore before the estimator does.
    """
    work = tmp_path_factory.mktemp("python_user")
    (work / "data").mkdir()
    X, y = separable_data(rows=240, features=5)
    X = 50.0 * X + 3.0   # far from standard scale, so the recorded scaling matters
    write_mat(work / "data" / "toy.mat", X, y)
    trained = run_cli(*flags(work, "--data_name", "toy", "--seed", SEED))
    assert trained.returncode == 0, trained.stderr
    table = load_table(str(work / "data" / "toy.mat"))
    data = prepare(table, SEED)
    raw = {part: table.X[rows] for part, rows in zip(PARTS, split_indices(table.y, SEED))}
    np.savez(work / "split.npz", **{f"X_{p}": data.X[p] for p in data.X},
             **{f"y_{p}": data.y[p] for p in data.y}, **{f"raw_{p}": raw[p] for p in raw})
    meta = read_meta(work / "weights" / "toy")
    (work / "config.json").write_text(json.dumps(meta["config"]))
    outside = work / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "fresh",
                                                          "python_user.py"), str(work)],
                            cwd=outside, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return work, data, meta, json.loads((work / "process.json").read_text())


@pytest.mark.slow
def test_a_fresh_process_fits_exactly_as_the_command_line(python_user):
    work, data, meta, process = python_user
    assert process["graph_mode"] and process["runtime"] == ["CPU", 0, 2]
    assert process["repository_modules"] == []   # the installed name alone
    assert process["frozen_objects"] == 0   # only commands freeze, never a user's objects
    cli = EALGAN.load(work / "weights" / "toy").decision_function(data.X["test"])
    python = np.load(work / "python_scores.npz")["bare"]
    np.testing.assert_array_equal(python, cli)
    print(f"fit in a fresh Python process: {process['fit_seconds']:.1f}s; "
          f"train_eval.py's: {meta['train_seconds']:.1f}s")


def test_a_model_saved_from_python_scores_alike_in_predict_and_load(python_user, tmp_path):
    work, data, _, _ = python_user
    scores = np.load(work / "python_scores.npz")
    for folder, rows, want in (("bare", data.X["test"], scores["bare"]),
                               ("pipeline", np.load(work / "split.npz")["raw_test"],
                                scores["pipeline"])):
        source = tmp_path / f"{folder}.csv"
        np.savetxt(source, rows, delimiter=",", fmt="%.17g")
        out = tmp_path / f"{folder}_scores.csv"
        result = subprocess.run([sys.executable, os.path.join(ROOT, "predict.py"), "--weights",
                                 work / folder, "--input", source, "--output", out],
                                cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        predicted = [line.split(",")[0] for line in out.read_text().splitlines()[1:]]
        assert predicted == [f"{score:.6f}" for score in want]
        loaded = load_model(work / folder)
        np.testing.assert_array_equal(loaded.decision_function(rows), want)
    assert read_meta(work / "bare")["scaler"] is None
    assert read_meta(work / "pipeline")["scaler"]["scale"][0] > 10   # the raw rows' spread


def test_pickled_models_and_pipelines_score_identically(python_user):
    work, data, _, _ = python_user
    scores = np.load(work / "python_scores.npz")
    with open(work / "bare.pkl", "rb") as handle:
        bare = pickle.load(handle)
    np.testing.assert_array_equal(bare.decision_function(data.X["test"]), scores["bare"])
    pipeline = joblib.load(work / "pipeline.joblib")
    raw_test = np.load(work / "split.npz")["raw_test"]
    np.testing.assert_array_equal(pipeline.decision_function(raw_test), scores["pipeline"])


def test_an_exported_python_pipeline_applies_its_scaling(python_user, tmp_path):
    import mindspore as ms
    from mindspore import Tensor, nn
    work, _, _, _ = python_user
    target = tmp_path / "scorer"
    result = subprocess.run([sys.executable, os.path.join(ROOT, "export.py"), "--weights",
                             work / "pipeline", "--file_name", target],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    raw_test = np.load(work / "split.npz")["raw_test"].astype(np.float32)
    exported = nn.GraphCell(ms.load(f"{target}.mindir"))(Tensor(raw_test)).asnumpy()
    np.testing.assert_allclose(exported, np.load(work / "python_scores.npz")["pipeline"],
                               rtol=0, atol=1e-6)
