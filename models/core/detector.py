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
from typing import Optional

import numpy as np
from mindspore import Tensor, nn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils import checkpoint, progress, runtime
from .settings import check_types, numpydoc, setting
from ..utils.metrics import THRESHOLD

# Rows scored per graph call; smaller inputs use the next power of two, so
# scoring compiles for a handful of shapes only.
SCORE_CHUNK = 4096


class TrainingDiverged(ArithmeticError):
    """Training produced NaN or infinite scores."""


class ModelTooLarge(MemoryError):
    """The configuration would need more memory than the machine has."""


def check_labels(y, rows, name="y"):
    """y as an int32 vector of 0/1 with both classes present."""
    y = np.asarray(y).ravel()
    if len(y) != rows:
        raise ValueError(f"{name} has {len(y)} labels for {rows} rows")
    kind = type_of_target(y, input_name=name)
    if kind in ("continuous", "unknown"):
        raise ValueError(f"Unknown label type: {kind}; {name} must contain only 0 (normal) "
                         "and 1 (anomaly)")
    if kind == "multiclass":
        raise ValueError(f"Only binary classification is supported: {name} must contain only "
                         "0 (normal) and 1 (anomaly)")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 (normal) and 1 (anomaly)")
    if len(np.unique(y)) < 2:
        raise ValueError(f"{name} holds one class only: it must contain both normal rows (0) "
                         "and anomalies (1)")
    return y.astype(np.int32)


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


@dataclasses.dataclass
class RuntimeSettings:
    """How a detector runs, not what it learns: never saved with the model."""

    device_target: Optional[str] = setting(
        None, "Device to compute on: CPU, GPU or Ascend. None: the device this process already "
        "uses, else CPU.", choices=runtime.DEVICE_TARGETS)
    device_id: Optional[int] = setting(
        None, "Device number on a GPU or Ascend machine. None: the process's, else 0.")
    threads: Optional[int] = setting(
        None, "CPU kernel threads. None: the process's, else 2, as on the command line. "
        "MindSpore takes device and threads once per process; a model that asks for other "
        "ones says so in a RuntimeWarning.")
    verbose: int = setting(
        0, "Progress while fitting: 0 silent, 1 a progress bar over the epochs (and over the "
        "candidates with tune=True), 2 one line per epoch.")


RUNTIME_FIELDS = tuple(field.name for field in dataclasses.fields(RuntimeSettings))


def keyword_init(config_class):
    """An __init__ whose keyword arguments are config_class's and RuntimeSettings' fields.

    scikit-learn's get_params / set_params / clone read an estimator's
    settings from its __init__ signature; generating that signature from the
    dataclasses keeps them the one place where settings and their defaults
    are written.  As in scikit-learn, values are checked by fit(), not here:
    an unknown name is the only error.
    """
    fields = dataclasses.fields(config_class) + dataclasses.fields(RuntimeSettings)
    names = {field.name for field in fields}

    def __init__(self, **settings):
        unknown = sorted(set(settings) - names)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(unknown)}")
        for field in fields:
            setattr(self, field.name, settings.get(field.name, field.default))

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


def check_seed(seed):
    if not 0 <= seed < 2 ** 32:
        raise ValueError(f"seed must be in [0, 2**32 - 1], got {seed}")


# Fitted attributes every detector has; subclasses add theirs (numpydoc "Attributes").
FITTED_ATTRIBUTES = {
    "config_": ("dataclass", "The settings the fit ran with (checked, 'auto' kept as given)."),
    "n_features_in_": ("int", "Number of features seen in fit."),
    "feature_names_in_": ("ndarray of str", "Column names of X in fit, when X was a DataFrame "
                          "with text column names; scoring a DataFrame then needs the same "
                          "columns."),
    "classes_": ("ndarray", "[0, 1]: normal, anomaly."),
    "decision_scores_": ("ndarray of shape (n_samples,)", "Anomaly scores of the rows of X "
                         "passed to fit (higher is more anomalous), as in PyOD."),
    "labels_": ("ndarray of shape (n_samples,)", "1 where decision_scores_ >= threshold_."),
    "threshold_": ("float", "Score at or above which predict() calls a row an anomaly."),
    "history_": ("list of dict", "One record per epoch: losses, train / validation metrics, "
                 "seconds."),
    "networks_": ("mindspore.nn.Cell", "The fitted networks; their checkpoints are what save() "
                  "writes."),
}


class Detector(ClassifierMixin, BaseEstimator):
    """Base class: subclasses set config_class and __init__ = keyword_init(config_class),
    and implement _fit, _score, describe, _rebuild and load."""

    name = "detector"      # used in saved files and on the command line
    label = "Detector"     # used in results tables
    config_class = None    # dataclass of the settings, with validate()
    threshold_ = THRESHOLD  # score at or above which a row is called an anomaly
    networks_ = None       # the fitted networks (a Cell), set by fit() and load()

    @classmethod
    def from_config(cls, config, **runtime_settings):
        """An unfitted detector with the settings of a config_class instance."""
        return cls(**dataclasses.asdict(config), **runtime_settings)

    @property
    def config(self):
        """The current settings as a checked, validated config_class instance."""
        return self._checked_settings()[0]

    def _checked_settings(self):
        """(config, RuntimeSettings) of the current settings, each checked with a sentence."""
        params = self.get_params(deep=False)
        config = check_types(self.config_class(
            **{f.name: params[f.name] for f in dataclasses.fields(self.config_class)}))
        if hasattr(config, "seed"):
            check_seed(config.seed)
        run = check_types(RuntimeSettings(**{name: params[name] for name in RUNTIME_FIELDS}))
        try:   # None: the process's own, which configure() checked
            runtime.check_device_settings(0 if run.device_id is None else run.device_id,
                                          1 if run.threads is None else run.threads)
        except runtime.DeviceError as err:
            raise ValueError(str(err)) from None
        if run.verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {run.verbose}")
        return config.validate(), run

    def _use_runtime(self):
        """Graph mode, device and threads for this process, as the command line sets them."""
        runtime.ensure(self.device_target, self.device_id, self.threads)

    def __sklearn_is_fitted__(self):
        return self.networks_ is not None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False   # 0 normal, 1 anomaly
        tags.target_tags.required = True           # supervised: labels choose epochs
        return tags

    def _check_scoring_input(self, X):
        """X checked against what fit saw: features, feature names, finite values."""
        check_is_fitted(self)
        # Zero rows score to an empty array (predict.py may read a header alone).
        return validate_data(self, X, reset=False, dtype=np.float32, ensure_min_samples=0)

    def _training_data(self, X, y, X_val, y_val):
        """fit()'s arrays, checked with scikit-learn's idioms; the validation pair may be None."""
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val go together: pass both, or neither to hold out "
                             "validation_fraction of (X, y)")
        X, y = validate_data(self, X, y, reset=True, dtype=np.float32)
        y = check_labels(y, len(X))
        if X_val is not None:
            X_val = validate_data(self, X_val, reset=False, dtype=np.float32)
            y_val = check_labels(y_val, len(X_val), "y_val")
        return X, y, X_val, y_val

    def fit(self, X, y, X_val=None, y_val=None, on_epoch=None):
        """Train on (X, y), choosing on (X_val, y_val).

        Without a validation part, a stratified share `validation_fraction`
        of (X, y), drawn with `seed`, is held out as one (0: none).  Sets
        decision_scores_ and labels_ on the rows of X, as PyOD does.
        on_epoch(record) is called after every epoch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), 0 normal and 1 anomaly
        X_val, y_val : array-like, optional
            The validation part that chooses epochs (EAL-GAN) or the threshold.
        on_epoch : callable, optional
            Called with each epoch's record (a dict) after the epoch.

        Returns
        -------
        self
        """
        config, run = self._checked_settings()
        X, y, X_val, y_val = self._training_data(X, y, X_val, y_val)
        self._use_runtime()
        X_train, y_train = X, y
        if X_val is None:
            X_train, y_train, X_val, y_val = hold_out_validation(
                X, y, config.validation_fraction, config.seed)
        self.config_ = config
        self.classes_ = np.array([0, 1])
        with progress.EpochProgress(run.verbose, self.label,
                                    lambda: getattr(self, "max_epochs_", None)
                                    or getattr(config, "max_epochs", None), on_epoch) as report:
            self._fit(X_train, y_train, X_val, y_val, report)
        if runtime.shard()[0] != 0:
            return self   # a data-parallel follower: worker 0 scores, selects and saves
        self.decision_scores_ = self._score(X)
        self.labels_ = (self.decision_scores_ >= self.threshold_).astype(np.int32)
        return self

    def _fit(self, X, y, X_val, y_val, on_epoch):
        """Train on checked arrays; the validation pair may be None."""
        raise NotImplementedError

    def _score(self, X):
        """Scores of a checked float32 array (no checks: the training loop calls it)."""
        raise NotImplementedError

    def decision_function(self, X):
        """Anomaly score per row of X; higher means more anomalous."""
        return self._score(self._check_scoring_input(X))

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

        A folder saved from Python records no scaling ("scaler": null):
        predict.py and export.py then score rows as given.  To ship a model
        that was fitted behind a StandardScaler, save the pipeline with
        models.save_model.  before_swap: see checkpoint.write_model_dir.
        """
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        own = {"scaler": None, "feature_names": None if names is None else list(names)}
        checkpoint.write_model_dir(directory, dict(self.networks_.name_cells()),
                                   {**own, **(meta or {}), **self.describe()},
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
        model._use_runtime()
        model.config_ = config
        model.classes_ = np.array([0, 1])
        model.n_features_in_ = int(meta["n_features"])
        if meta.get("feature_names"):
            model.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
        return meta, model

    def _load_saved(self, directory, meta):
        """Fill the built networks from the folder's checkpoints; restore the history."""
        for name, cell in self.networks_.name_cells().items():
            checkpoint.load_cell(cell, directory, name)
        self.history_ = checkpoint.read_history(directory)
        self.meta_ = meta

    # -- pickle: MindSpore cells do not pickle; their parameters do ------------
    def _rebuild(self):
        """Build networks of the fitted shapes (their values are set afterwards)."""
        raise NotImplementedError

    def __getstate__(self):
        state = super().__getstate__()
        state = {k: v for k, v in state.items() if not isinstance(v, (nn.Cell, Tensor))}
        if self.networks_ is not None:
            state["_network_parameters"] = {p.name: p.asnumpy()
                                            for p in self.networks_.get_parameters()}
        return state

    def __setstate__(self, state):
        state = dict(state)
        parameters = state.pop("_network_parameters", None)
        super().__setstate__(state)
        if parameters is None:
            return
        self._use_runtime()
        fitted = dict(self.__dict__)
        self._rebuild()
        self.__dict__.update(fitted)   # building draws fresh generators: keep the fitted values
        checkpoint.fill_cell(self.networks_, parameters, f"the pickled {self.label} model")


def document(detector_class, summary, attributes, extra=""):
    """Give detector_class a numpydoc docstring built from its settings dataclasses."""
    fields = dataclasses.fields(detector_class.config_class) + dataclasses.fields(RuntimeSettings)
    detector_class.__doc__ = numpydoc(summary, fields, {**FITTED_ATTRIBUTES, **attributes}, extra)
    return detector_class
