"""The compile cache: a cached run equals an uncached one, and nothing else shares its graphs."""
import csv
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import flags, run_cli, separable_data, write_mat
from models.utils import compile_cache
from models.utils.compile_cache import CompileCache, cache_key, prune
import config
import train_eval


def fingerprint(ws, dataset="toy"):
    """Every epoch's losses and metrics and the final scores, at full precision."""
    folder = ws / "weights" / dataset
    with open(folder / "history.csv", newline="") as handle:
        history = [{k: v for k, v in row.items() if not k.endswith("seconds")}
                   for row in csv.DictReader(handle)]
    meta = json.loads((folder / "meta.json").read_text())
    return history, {k: v for k, v in meta.items() if k.startswith(("train_", "val_", "test_"))
                     and k != "train_seconds"}


@pytest.mark.slow
def test_cached_runs_equal_uncached_runs_after_a_rerun_a_seed_and_a_shape(workspace, tmp_path):
    """The failure this guards against: MindSpore names cached graphs by compile order
    only, so a second seed in the same folder used to load the first seed's constants."""
    cache = tmp_path / "cache"
    X, y = separable_data(rows=200, features=7, seed=3)
    write_mat(workspace / "data" / "wide.mat", X, y)
    expected = {}
    for number, (dataset, seed) in enumerate([("toy", 42), ("toy", 42), ("toy", 43),
                                              ("wide", 42)]):
        run = flags(workspace, "--data_name", dataset, "--seed", seed, "--select_top_k", 1)
        if (dataset, seed) not in expected:
            reference = run_cli(*run, "--compile_cache", "False")
            assert reference.returncode == 0, reference.stderr
            expected[dataset, seed] = fingerprint(workspace, dataset)
        cached = run_cli(*run, "--compile_cache_dir", cache)
        assert cached.returncode == 0, cached.stderr
        assert fingerprint(workspace, dataset) == expected[dataset, seed], (dataset, seed)
        reused = "compile cache: reusing" in cached.stdout
        assert reused == (number == 1), cached.stdout   # only the exact rerun is a hit
    assert len(os.listdir(cache)) == 3   # one folder per distinct run, no staging left


def key_of(argv, sizes=None):
    args = config.resolve_settings(["--data_name", "glass", *argv])
    data = SimpleNamespace(sizes=sizes or {"train": 128, "val": 43, "test": 43},
                           X={"train": np.zeros((1, 9))})
    return train_eval.compile_cache(args, "train", {
        k: v for k, v in vars(args).items() if k not in config.OUTSIDE_GRAPH}, data).key


@pytest.mark.parametrize("change", [
    ["--seed", "43"], ["--lr_d", "0.002"], ["--lr_g", "0.002"], ["--ensemble_num", "4"],
    ["--batch_size", "32"], ["--active_rate", "0.5"], ["--SN_used", "False"],
    ["--SN_generator_hidden", "False"], ["--dis_activation_func", "tanh"], ["--dim_z", "16"],
    ["--max_epochs", "7"], ["--select_top_k", "3"], ["--init_type", "N02"],
    ["--device_target", "GPU"], ["--threads", "1"], ["--tune", "True"]])
def test_every_setting_that_reaches_a_graph_changes_the_key(change):
    assert key_of(change) != key_of([])


def test_shapes_change_the_key_and_output_settings_do_not():
    assert key_of([], {"train": 129, "val": 43, "test": 43}) != key_of([])
    for change in (["--plots", "False"], ["--print", "False"], ["--weights_dir", "/elsewhere"],
                   ["--results_dir", "/elsewhere"]):
        assert key_of(change) == key_of([])
    assert key_of(["--compile_cache_dir", "/elsewhere"]) == key_of([])


@pytest.fixture
def fresh_cache(monkeypatch):
    """CompileCache as in a new process, recording the paths MindSpore would be given."""
    paths = []
    monkeypatch.setattr(compile_cache.ms, "set_context",
                        lambda **kw: paths.extend([kw["compile_cache_path"]]
                                                  if "compile_cache_path" in kw else []))

    def make(root, parts):
        monkeypatch.setattr(compile_cache, "_claimed", False)
        return CompileCache(root, parts)
    make.paths = paths
    return make


def test_graphs_are_kept_only_when_the_command_succeeds(tmp_path, fresh_cache):
    with fresh_cache(tmp_path, {"run": 1}) as cache:
        os.makedirs(fresh_cache.paths[0])          # what MindSpore writes while compiling
        assert os.path.basename(fresh_cache.paths[0]).endswith(".staging")
    assert os.listdir(tmp_path) == [cache.key]
    with pytest.raises(RuntimeError):
        with fresh_cache(tmp_path, {"run": 2}):
            os.makedirs(fresh_cache.paths[-1])
            raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == [cache.key]     # the failed run left nothing
    with fresh_cache(tmp_path, {"run": 1}) as again:
        assert again.hit and fresh_cache.paths[-1] == again.folder


def test_off_and_second_caches_leave_mindspore_alone(tmp_path, fresh_cache):
    with fresh_cache(None, {"run": 1}):
        pass
    assert fresh_cache.paths == []
    first = fresh_cache(tmp_path, {"run": 1})
    second = CompileCache(tmp_path, {"run": 2})    # same process: graphs already numbered
    assert second.describe() == "compile cache: off"
    with first, second:
        os.makedirs(fresh_cache.paths[0])
    assert len(fresh_cache.paths) == 1 and os.listdir(tmp_path) == [first.key]


def test_key_depends_on_every_part():
    assert cache_key({"a": 1}) == cache_key({"a": 1})
    assert cache_key({"a": 1}) != cache_key({"a": 2})
    assert cache_key({"a": 1}) != cache_key({"a": 1, "b": None})


def test_prune_keeps_the_most_recently_used(tmp_path):
    for age, name in enumerate(["newest", "middle", "oldest"]):
        os.makedirs(tmp_path / name)
        os.utime(tmp_path / name, (1e9 - age, 1e9 - age))
    os.makedirs(tmp_path / ".dead.1.staging")
    os.utime(tmp_path / ".dead.1.staging", (1e9, 1e9))
    prune(tmp_path, keep=2)
    assert sorted(os.listdir(tmp_path)) == ["middle", "newest"]


@pytest.mark.slow
def test_predict_models_that_differ_only_in_kept_epochs_get_their_own_graphs(workspace,
                                                                              tmp_path):
    """Two models with the same settings, one keeping 2 snapshot epochs and one 3: the
    second used to load the first's graph (sized for 2 x E members) and score NaN."""
    import subprocess
    import sys

    import pandas as pd

    from conftest import ROOT
    from models import EALGAN
    from models.core.scaling import scaling_from_dict

    folders = []
    for epochs in (2, 3):
        weights = tmp_path / f"w{epochs}"
        assert train_eval.main([str(f) for f in flags(
            workspace, "--data_name", "toy", "--max_epochs", epochs, "--select_top_k", 3,
            "--weights_dir", weights)]) == 0
        folders.append(weights / "toy")
    meta_path = folders[1] / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert len(meta["snapshot_epochs"]) == 3
    meta["config"]["max_epochs"] = 2   # the settings now match the first model's
    meta_path.write_text(json.dumps(meta))
    X, _ = separable_data(rows=30, features=5, seed=9)
    np.savetxt(tmp_path / "rows.csv", X, delimiter=",", fmt="%.6f")
    for number, folder in enumerate(folders):
        out = tmp_path / f"scores{number}.csv"
        done = subprocess.run([sys.executable, os.path.join(ROOT, "predict.py"), "--weights",
                               str(folder), "--input", str(tmp_path / "rows.csv"), "--output",
                               str(out), "--compile_cache_dir", str(tmp_path / "cache")],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        model = EALGAN.load(str(folder))
        scaler = scaling_from_dict(model.meta_["scaler"])
        want = model.decision_function(scaler.transform(np.loadtxt(tmp_path / "rows.csv",
                                                                   delimiter=",")))
        np.testing.assert_allclose(pd.read_csv(out)["score"], want, atol=2e-6)
    assert len(os.listdir(tmp_path / "cache")) == 2
