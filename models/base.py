"""The detector interface shared by every model in this repository.

A detector follows PyOD's shape: `fit(X, y)`, `decision_function(X)` (higher
= more anomalous, in [0, 1] for EAL-GAN), `predict_proba(X)` and
`predict(X)`, plus `save(directory)` / `load(directory)`.  Arrays are
checked on the way in so that misuse fails with a sentence, not deep inside
a compiled graph.
"""
import numpy as np

from .metrics import THRESHOLD


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


class Detector:
    """Base class: subclasses implement fit, decision_function, save and load."""

    name = "detector"      # used in saved files and on the command line
    label = "Detector"     # used in results tables

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

    def predict(self, X, threshold=THRESHOLD):
        """1 where the anomaly score reaches the threshold, else 0."""
        return (self.decision_function(X) >= threshold).astype(np.int32)

    def save(self, directory, meta=None):
        raise NotImplementedError

    @classmethod
    def load(cls, directory):
        raise NotImplementedError
