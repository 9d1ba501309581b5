"""Shared test set-up: repository on sys.path, MindSpore configured once."""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models.utils import runtime  # noqa: E402

ODDS_DIR = os.environ.get("ODDS_DIR", os.path.join(os.path.dirname(ROOT), "shared", "data", "odds"))


@pytest.fixture(scope="session", autouse=True)
def mindspore_cpu():
    runtime.configure("CPU", 0, runtime.DEFAULT_CPU_THREADS)


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
