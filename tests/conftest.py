"""Shared test set-up: repository on sys.path, MindSpore configured once, and the
workspace and helpers of the command-line tests."""
import csv
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.io

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models.utils import runtime  # noqa: E402
from models.utils.results import dataset_row, record_run, run_row  # noqa: E402
from models.utils.compile_cache import CompileCache  # noqa: E402

ODDS_DIR = os.environ.get("ODDS_DIR", os.path.join(os.path.dirname(ROOT), "shared", "data", "odds"))


@pytest.fixture(scope="session", autouse=True)
def mindspore_cpu():
    runtime.configure("CPU", 0, runtime.DEFAULT_CPU_THREADS)
    runtime.freeze_loaded_objects()   # as the entry points do: cheaper compiles


# The earlier port's settings and the single best epoch: what the training
# tests' quality thresholds were set with (the defaults are the authors').
PORT_SETTINGS = dict(lr_g=0.001, lr_d=0.001, active_rate=1.0, init_type="N02", SN_used=False,
                     select_top_k=1)


def odds_file(name):
    """Path of a real ODDS file from ../shared, or skip the test with the reason."""
    path = os.path.join(ODDS_DIR, f"{name}.mat")
    if not os.path.isfile(path):
        pytest.skip(f"{path} not available (set ODDS_DIR to the folder of the ODDS .mat files)")
    return path


def separable_data(rows=600, features=6, anomaly_share=0.1, seed=0):
    """Normal rows around 0, anomalies shifted by 3 in every feature."""
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < anomaly_share).astype(np.int64)
    y[:3] = 1
    X = rng.standard_normal((rows, features)) + 3.0 * y[:, None]
    return X.astype(np.float32), y


# -- command-line tests: a throw-away data / weights / results workspace --------

def run_cli(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "train_eval.py"), *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def write_mat(path, X, y):
    scipy.io.savemat(path, {"X": X, "y": np.asarray(y).reshape(-1, 1)})


@pytest.fixture
def workspace(tmp_path):
    """data/toy.mat (5 features), empty weights/ and results/runs.csv with a sentinel row."""
    (tmp_path / "data").mkdir()
    X, y = separable_data(rows=240, features=5)
    write_mat(tmp_path / "data" / "toy.mat", X, y)
    (tmp_path / "results").mkdir()
    other = run_row("EAL-GAN", dataset_row("other", 10, 2, 10.0), 42,
                    {"auc": 0.5, "gmean": 0.5, "ap": 0.5, "precision_at_n": 0.5}, 3, 6, 6, 1.0)
    record_run(tmp_path / "results", other)
    return tmp_path


def flags(ws, *extra):
    return ["--data_path", ws / "data", "--weights_dir", ws / "weights", "--results_dir",
            ws / "results", "--max_epochs", 3, "--batch_size", 64, "--ensemble_num", 3,
            "--print", "False", "--plots", "False", *extra]


def snapshot(ws):
    files = {}
    for folder in ("results", "weights"):
        for dirpath, _, names in os.walk(ws / folder):
            for name in names:
                path = os.path.join(dirpath, name)
                files[path] = open(path, "rb").read()
    return files


def assert_clean_failure(result, ws, before, match):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert match in lines[0]
    assert snapshot(ws) == before


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# -- the fast default and the full suite ------------------------------------------

SLOW_REASON = "slow end-to-end test: bash scripts/run_tests.sh --full runs it (CI does)"


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true",
                     help="also run the tests marked slow (whole commands, msrun, "
                          "scikit-learn's estimator checks)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: an end-to-end test left out of the fast "
                                       "default; --full runs it")


def skip_slow_tests(config, items):
    if config.getoption("--full"):
        return
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=SLOW_REASON))


# -- one compile cache for the whole test process (models/utils/compile_cache.py) --

def pytest_collection_modifyitems(session, config, items):
    """Claim the process's compile cache before any test compiles.

    The key holds the selected tests in order and the ODDS files present (both
    decide which graphs the process compiles, in which order) and the tests'
    code.  EALGAN_TEST_COMPILE_CACHE=0 runs without it, and so does a
    pytest-xdist worker; either way later caches in this process (commands
    called from tests) are off.
    Also leaves the slow tests out unless --full is given.
    """
    skip_slow_tests(config, items)
    # Under pytest-xdist a worker's share of the tests changes from run to run.
    enabled = os.environ.get("EALGAN_TEST_COMPILE_CACHE", "1") != "0" \
        and "PYTEST_XDIST_WORKER" not in os.environ
    odds = sorted(os.listdir(ODDS_DIR)) if os.path.isdir(ODDS_DIR) else []
    cache = CompileCache(os.path.join(ROOT, ".compile_cache") if enabled else None,
                         {"command": "pytest", "tests": [item.nodeid for item in items],
                          "odds": odds}, extra_patterns=("tests/**/*.py",))
    config.compile_cache = cache.__enter__()


def pytest_sessionfinish(session, exitstatus):
    """Keep the graphs only when every test passed."""
    cache = getattr(session.config, "compile_cache", None)
    if cache is not None:
        cache.finish(exitstatus == 0)
