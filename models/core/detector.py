"""The detector interface shared by every model in this repository.

A detector follows PyOD's shape: `fit(X, y)`, `decision_function(X)` (higher
= more anomalous, in [0, 1] for EAL-GAN), `predict_proba(X)` and
`predict(X)`, plus `save(directory)` / `load(directory)`.  Arrays are
checked on the way in so that misuse fails with a sentence, not deep inside
a compiled graph.
"""
import dataclasses

import numpy as np
from mindspore import Tensor

from ..utils import checkpoint
from ..utils.metrics import THRESHOLD

# Rows scored per graph call; smaller inputs use the next power of two, so
# scoring compiles for a handful of shapes only.
SCORE_CHUNK = 4096


class TrainingDiverged(ArithmeticError):
    """Training produced NaN or infinite scores."""


def check_features(X, n_features=None, name="X"):
    """X as a finite float32 (rows, features) array."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows, features), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features but the model was trained on "
                         f"{n_features}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def check_labels(y, rows, name="y"):
    """y as an int32 vector of 0/1 with both classes present."""
    y = np.asarray(y).ravel()
    if len(y) != rows:
        raise ValueError(f"{name} has {len(y)} labels for {rows} rows")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 (normal) and 1 (anomaly)")
    if len(np.unique(y)) < 2:
        raise ValueError(f"{name} must contain both normal rows and anomalies")
    return y.astype(np.int32)


def check_training_data(X, y, X_val=None, y_val=None):
    """fit()'s arrays, checked; the validation pair may be None."""
    X = check_features(X)
    y = check_labels(y, len(X))
    if X_val is not None:
        X_val = check_features(X_val, X.shape[1], "X_val")
        y_val = check_labels(y_val, len(X_val), "y_val")
    return X, y, X_val, y_val


def score_in_chunks(score_chunk, X):
    """score_chunk(Tensor (chunk, d)) -> array, over zero-padded power-of-two chunks of X."""
    if len(X) == 0:
        return np.zeros(0, dtype=np.float32)
    chunk = min(SCORE_CHUNK, 1 << (len(X) - 1).bit_length())
    scores = []
    for start in range(0, len(X), chunk):
        part = X[start:start + chunk]
        padded = np.zeros((chunk, X.shape[1]), dtype=np.float32)
        padded[:len(part)] = part
        scores.append(np.asarray(score_chunk(Tensor(padded)))[:len(part)])
    return np.concatenate(scores)


class Detector:
    """Base class: subclasses implement fit, decision_function, save and load."""

    name = "detector"      # used in saved files and on the command line
    label = "Detector"     # used in results tables
    threshold_ = THRESHOLD  # score at or above which a row is called an anomaly

    def fit(self, X, y, X_val=None, y_val=None):
        raise NotImplementedError

    def decision_function(self, X):
        raise NotImplementedError

    def score(self, X):
        """Alias of decision_function: the anomaly score of every row."""
        return self.decision_function(X)

    def predict_proba(self, X):
        """(rows, 2) array of [P(normal), P(anomaly)]."""
        scores = self.decision_function(X)
        return np.stack([1.0 - scores, scores], axis=1)

    def predict(self, X, threshold=None):
        """1 where the anomaly score reaches the threshold (default: threshold_), else 0."""
        limit = self.threshold_ if threshold is None else threshold
        return (self.decision_function(X) >= limit).astype(np.int32)

    def fit_summary(self):
        """Lines that describe what fit() chose."""
        return []

    def describe(self):
        """What save() records about the model itself (model name, sizes, config, ...)."""
        raise NotImplementedError

    def save(self, directory, meta=None, before_swap=None):
        """Write one checkpoint per network, meta.json (meta + describe()) and history.csv.

        before_swap: see checkpoint.write_model_dir.
        """
        checkpoint.write_model_dir(directory, dict(self.networks.name_cells()),
                                   {**(meta or {}), **self.describe()},
                                   checkpoint.history_texts(self.history_), before_swap)

    @classmethod
    def load(cls, directory):
        raise NotImplementedError

    @classmethod
    def _saved_config(cls, directory):
        """(meta, config) of a folder that save() of this class wrote."""
        meta = checkpoint.read_meta(directory)
        if meta.get("model") != cls.name:
            raise checkpoint.CheckpointError(
                f"{directory} holds a {meta.get('model')!r} model, not {cls.name!r}")
        fields = {f.name for f in dataclasses.fields(cls.config_class)}
        return meta, cls.config_class(**{k: v for k, v in meta["config"].items() if k in fields})

    def _load_saved(self, directory, meta):
        """Fill the built networks from the folder's checkpoints; restore the history."""
        for name, cell in self.networks.name_cells().items():
            checkpoint.load_cell(cell, directory, name)
        self.history_ = checkpoint.read_history(directory)
        self.meta_ = meta
