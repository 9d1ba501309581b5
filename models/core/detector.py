"""The detector interface shared by every model in this repository.

A detector is a scikit-learn estimator shaped like PyOD's detectors:
settings are keyword arguments of the constructor (so `get_params`,
`set_params` and `sklearn.base.clone` work), `fit(X, y)` sets
`decision_scores_`, `threshold_` and `labels_`, and `decision_function(X)`
(higher = more anomalous, in [0, 1] for EAL-GAN), `predict_proba(X)` and
`predict(X)` score new rows; `save(directory)` / `load(directory)` keep a
fitted model.  Arrays are checked on the way in so that misuse fails with a
sentence, not deep inside a compiled graph.
"""
import dataclasses
import inspect

import numpy as np
from mindspore import Tensor
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split

from ..utils import checkpoint, runtime
from ..utils.metrics import THRESHOLD

# Rows scored per graph call; smaller inputs use the next power of two, so
# scoring compiles for a handful of shapes only.
SCORE_CHUNK = 4096


class TrainingDiverged(ArithmeticError):
    """Training produced NaN or infinite scores."""


class ModelTooLarge(MemoryError):
    """The configuration would need more memory than the machine has."""


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


def hold_out_validation(X, y, fraction, seed):
    """(X_train, y_train, X_val, y_val): a stratified, seeded validation part of (X, y).

    fraction 0 keeps every row for training and returns no validation part.
    """
    if fraction == 0:
        return X, y, None, None
    n_anomalies = int(y.sum())
    if min(n_anomalies, len(y) - n_anomalies) < 2:
        raise ValueError("holding out a validation part needs at least 2 normal rows and 2 "
                         "anomalies: pass X_val and y_val, or validation_fraction=0")
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=fraction, stratify=y,
                                                      random_state=seed)
    return X_train, y_train, X_val, y_val


def check_learning_rates(config):
    """lr_g and lr_d of a config: positive and finite."""
    for name in ("lr_g", "lr_d"):
        value = getattr(config, name)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value}")


def check_validation_fraction(value):
    if not 0 <= value < 1:
        raise ValueError(f"validation_fraction must be in [0, 1), got {value}")


def keyword_init(config_class):
    """An __init__ whose keyword arguments are config_class's fields, with their defaults.

    scikit-learn's get_params / set_params / clone read an estimator's
    settings from its __init__ signature; generating that signature from the
    dataclass keeps the dataclass the one place where settings and their
    defaults are written.  Bad settings fail here, with a sentence.
    """
    fields = dataclasses.fields(config_class)
    names = {field.name for field in fields}

    def __init__(self, **settings):
        unknown = sorted(set(settings) - names)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(unknown)}")
        for field in fields:
            setattr(self, field.name, settings.get(field.name, field.default))
        config_class(**{name: getattr(self, name) for name in names}).validate()

    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=field.default)
           for field in fields])
    return __init__


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


class Detector(ClassifierMixin, BaseEstimator):
    """Base class: subclasses set config_class and __init__ = keyword_init(config_class),
    and implement _fit, decision_function, describe and load."""

    name = "detector"      # used in saved files and on the command line
    label = "Detector"     # used in results tables
    config_class = None    # dataclass of the settings, with validate()
    threshold_ = THRESHOLD  # score at or above which a row is called an anomaly

    @classmethod
    def from_config(cls, config):
        """An unfitted detector with the settings of a config_class instance."""
        return cls(**dataclasses.asdict(config))

    @property
    def config(self):
        """The current settings as a validated config_class instance."""
        return self.config_class(**self.get_params(deep=False)).validate()

    def fit(self, X, y, X_val=None, y_val=None, on_epoch=None):
        """Train on (X, y), choosing on (X_val, y_val).

        Without a validation part, a stratified share `validation_fraction`
        of (X, y), drawn with `seed`, is held out as one (0: none).  Sets
        decision_scores_ and labels_ on the rows of X, as PyOD does.
        on_epoch(record) is called after every epoch.
        """
        X, y, X_val, y_val = check_training_data(X, y, X_val, y_val)
        config = self.config
        X_train, y_train = X, y
        if X_val is None:
            X_train, y_train, X_val, y_val = hold_out_validation(
                X, y, config.validation_fraction, config.seed)
        self.config_ = config
        self.classes_ = np.array([0, 1])
        self._fit(X_train, y_train, X_val, y_val, on_epoch)
        if runtime.shard()[0] != 0:
            return self   # a data-parallel follower: worker 0 scores, selects and saves
        self.decision_scores_ = self.decision_function(X)
        self.labels_ = (self.decision_scores_ >= self.threshold_).astype(np.int32)
        return self

    def _fit(self, X, y, X_val, y_val, on_epoch):
        """Train on checked arrays; the validation pair may be None."""
        raise NotImplementedError

    def decision_function(self, X):
        raise NotImplementedError

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

    @classmethod
    def _unfitted_from_saved(cls, directory):
        """(meta, a detector with the saved settings, marked as fitted with them)."""
        meta, config = cls._saved_config(directory)
        model = cls.from_config(config)
        model.config_ = config
        model.classes_ = np.array([0, 1])
        return meta, model

    def _load_saved(self, directory, meta):
        """Fill the built networks from the folder's checkpoints; restore the history."""
        for name, cell in self.networks.name_cells().items():
            checkpoint.load_cell(cell, directory, name)
        self.history_ = checkpoint.read_history(directory)
        self.meta_ = meta
