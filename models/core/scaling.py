"""Column transforms fitted on training rows: what a detector's inputs are scaled with.

    standard   z = (x - mean) / std                    (the authors' scaling)
    robust     z = (x - median) / IQR                  (std, then 1, for a column whose IQR is 0)
    quantile   z = the normal score of x's training quantile: rank-Gauss (the default)

Every transform is fitted on the training part only and sends a missing cell
(NaN) to 0: the training mean, median or middle quantile of its column.  A
constant column maps to 0.

The quantile transform is piecewise linear: each column keeps the training
values at QUANTILE_LEVELS evenly spaced probabilities p_k = (k + 1/2) / K
(K at most the training rows) and maps them to the standard normal
quantiles Phi^-1(p_k); between two of them a value is interpolated
linearly, beyond the outermost it takes the outermost score.  Values shared
by several levels (a binary flag, a column of mostly zeros) become one knot
whose score is the mean of those levels' scores.  Being piecewise linear,
it is applied by numpy (`np.interp`) and by an exported graph (export.py)
alike: the graph computes np.interp's function of the float32 rows it is
given.

A transform is recorded in a model's meta.json by `to_dict()` and rebuilt by
`scaling_from_dict()`; a record without "kind" is a standard one (the format
every model folder had before the other transforms existed).
"""
import dataclasses

import numpy as np
from scipy.special import ndtri
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

SCALINGS = ("standard", "robust", "quantile")
# What a table without a tuned config gets: over the 16 ODDS sets, judged on validation
# with each set left out in turn, quantile wins for every set (docs/accuracy.md).
DEFAULT_SCALING = "quantile"
# What a record without "kind" holds: the format of every model folder made before the
# other transforms existed.
UNNAMED_RECORD = "standard"
# Knots per column of the quantile transform (fewer when there are fewer training rows).
QUANTILE_LEVELS = 256


class ScalingError(ValueError):
    """A column cannot be scaled: its values overflow, or a new value lies beyond float32."""


def _column(names, j):
    return f"column {names[j]!r}" if names else f"feature column {j + 1}"


def _as_float64(X):
    return np.asarray(X, dtype=np.float64)


def _check_width(X, fitted):
    if X.shape[1] != fitted:
        raise ScalingError(f"{X.shape[1]} features given, the scaler was fitted on {fitted}")


@dataclasses.dataclass
class Standardizer:
    """z = (x - mean) / scale with training statistics; NaN -> training mean."""

    mean: np.ndarray
    scale: np.ndarray
    kind = "standard"

    @classmethod
    def fit(cls, X, names=None):
        """Statistics of X's columns; a column whose mean or spread overflows float64
        (values near 1e308 summed or squared) is refused, naming it (`names`: the
        feature names, else columns are numbered)."""
        X = _as_float64(X)
        mean, std = _mean_and_std(X)
        _refuse_overflow(X, names, mean, std)
        return cls(mean, np.where(std > 0, std, 1.0))

    def transform(self, X, names=None):
        """Scaled float32 rows; a value the scaling takes beyond float32 is refused (the
        network would see inf), naming its column."""
        X = _as_float64(X)
        _check_width(X, len(self.mean))
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.nan_to_num((X - self.mean) / self.scale, nan=0.0).astype(np.float32)
        beyond = np.argwhere(np.isinf(scaled) & np.isfinite(X))
        if len(beyond):
            row, j = beyond[0]
            raise ScalingError(f"{_column(names, j)}: value {X[row, j]:.4g} lies too far from "
                               f"the training values (centre {self.mean[j]:.4g}, spread "
                               f"{self.scale[j]:.4g}) to scale within the float range")
        return scaled

    @property
    def n_features(self):
        return len(self.mean)

    def affine(self):
        """(offset, scale): z = (x - offset) / scale."""
        return self.mean, self.scale

    def to_dict(self):
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, values):
        return cls(*_affine_record(values, "mean"))


class RobustScaling(Standardizer):
    """z = (x - median) / IQR with training statistics; NaN -> training median.

    `mean` holds the medians (the offset, as for Standardizer).  A column
    whose interquartile range is 0 (mostly one value) is divided by its
    standard deviation instead, and a constant one by 1.
    """

    kind = "robust"

    @classmethod
    def fit(cls, X, names=None):
        X = _as_float64(X)
        mean, std = _mean_and_std(X)
        _refuse_overflow(X, names, mean, std)
        observed = ~np.isnan(X).all(0)
        median = np.zeros(X.shape[1])
        iqr = np.zeros(X.shape[1])
        if observed.any():
            q25, median[observed], q75 = np.nanpercentile(X[:, observed], (25, 50, 75), axis=0)
            iqr[observed] = q75 - q25
        return cls(median, np.where(iqr > 0, iqr, np.where(std > 0, std, 1.0)))

    def to_dict(self):
        return {"kind": self.kind, "median": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, values):
        return cls(*_affine_record(values, "median"))


@dataclasses.dataclass
class QuantileScaling:
    """Rank-Gauss: each column's training quantiles -> normal scores, linear between.

    knots[j] (increasing) and scores[j] are column j's pieces; NaN -> 0.
    """

    knots: list
    scores: list
    kind = "quantile"

    @classmethod
    def fit(cls, X, names=None):
        X = _as_float64(X)
        _refuse_overflow(X, names, *_mean_and_std(X))
        knots, scores = [], []
        for column in X.T:
            values = column[~np.isnan(column)]
            if len(values) == 0:
                knots.append(np.zeros(1))
                scores.append(np.zeros(1))
                continue
            levels = min(QUANTILE_LEVELS, len(values))
            p = (np.arange(levels) + 0.5) / levels
            at, inverse = np.unique(np.quantile(values, p), return_inverse=True)
            # a value several levels share gets the mean of their scores; one value
            # alone (a constant column) gets 0 exactly, not a sum that nearly cancels
            knots.append(at)
            scores.append(np.bincount(inverse, ndtri(p)) / np.bincount(inverse)
                          if len(at) > 1 else np.zeros(1))
        return cls(knots, scores)

    def transform(self, X, names=None):
        """Transformed float32 rows (every value lands in the knots' score range)."""
        X = _as_float64(X)
        _check_width(X, len(self.knots))
        scaled = np.empty(X.shape, dtype=np.float64)
        for j, (at, score) in enumerate(zip(self.knots, self.scores)):
            scaled[:, j] = np.interp(X[:, j], at, score)
        return np.nan_to_num(scaled, nan=0.0).astype(np.float32)

    @property
    def n_features(self):
        return len(self.knots)

    def padded(self):
        """(knots, scores) as (features, K) arrays, each row padded with its last knot and
        score: the same function, in the rectangular form a graph needs."""
        width = max(len(at) for at in self.knots)

        def pad(rows):
            return np.stack([np.pad(row, (0, width - len(row)), mode="edge") for row in rows])
        return pad(self.knots), pad(self.scores)

    def to_dict(self):
        return {"kind": self.kind, "knots": [at.tolist() for at in self.knots],
                "scores": [score.tolist() for score in self.scores]}

    @classmethod
    def from_dict(cls, values):
        knots = [_as_float64(at) for at in values["knots"]]
        scores = [_as_float64(score) for score in values["scores"]]
        if len(knots) != len(scores) or any(a.ndim != 1 or a.shape != s.shape or len(a) == 0
                                            for a, s in zip(knots, scores)):
            raise ScalingError("the quantile scaling record's knots and scores do not match")
        if not all(np.isfinite(a).all() and np.isfinite(s).all() and (np.diff(a) > 0).all()
                   for a, s in zip(knots, scores)):
            raise ScalingError("the quantile scaling record's knots are not finite and "
                               "increasing")
        return cls(knots, scores)


TRANSFORMS = {cls.kind: cls for cls in (Standardizer, RobustScaling, QuantileScaling)}


def fit_scaling(kind, X, names=None):
    """The `kind` transform (one of SCALINGS) fitted on the rows X."""
    if kind not in TRANSFORMS:
        raise ScalingError(f"unknown scaling {kind!r}; choose one of {', '.join(SCALINGS)}")
    return TRANSFORMS[kind].fit(X, names)


def scaling_from_dict(record):
    """The transform a model folder records ({"kind": ..., ...}; no kind: standard); a
    record that is not one is a ScalingError."""
    if not isinstance(record, dict):
        raise ScalingError(f"the scaling record is {type(record).__name__}, not a mapping")
    kind = record.get("kind", UNNAMED_RECORD)
    if kind not in TRANSFORMS:
        raise ScalingError(f"unknown scaling {kind!r} recorded; this version applies "
                           f"{', '.join(SCALINGS)}")
    try:
        return TRANSFORMS[kind].from_dict(record)
    except ScalingError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise ScalingError(f"the {kind} scaling record is incomplete or malformed "
                           f"({type(err).__name__}: {err})") from err


def _affine_record(values, offset_key):
    """(offset, scale) of a standard or robust record, checked: equal lengths, finite,
    positive scales."""
    offset, scale = _as_float64(values[offset_key]), _as_float64(values["scale"])
    if offset.ndim != 1 or offset.shape != scale.shape:
        raise ScalingError(f"the scaling record's {offset_key} and scale do not match")
    if not (np.isfinite(offset).all() and np.isfinite(scale).all() and (scale > 0).all()):
        raise ScalingError(f"the scaling record's {offset_key} and scale are not finite with "
                           "positive scales")
    return offset, scale


def _mean_and_std(X):
    """Column means and standard deviations over the observed cells (inf on overflow)."""
    observed = ~np.isnan(X)
    counts = observed.sum(0)
    filled = np.where(observed, X, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):   # overflow is checked by the caller
        mean = np.divide(filled.sum(0), counts, out=np.zeros(X.shape[1]), where=counts > 0)
        deviation = np.where(observed, X - mean, 0.0)
        std = np.sqrt(np.divide((deviation ** 2).sum(0), counts, out=np.zeros(X.shape[1]),
                                where=counts > 0))
    return mean, std


def _refuse_overflow(X, names, mean, std):
    overflow = np.flatnonzero(~(np.isfinite(mean) & np.isfinite(std)))
    if len(overflow):
        j = overflow[0]
        raise ScalingError(f"{_column(names, j)}: values up to {np.nanmax(np.abs(X[:, j])):.4g} "
                           "overflow the scaling (their mean or spread is beyond the float "
                           "range); divide the column by a power of ten")


class ColumnScaler(TransformerMixin, BaseEstimator):
    """One of SCALINGS as a scikit-learn transformer: the first step of a pipeline that
    `save_model` records, so predict.py and export.py apply it to raw rows.

    Parameters
    ----------
    scaling : str, default="quantile"
        standard, robust or quantile (the command line's default).  Missing cells (NaN)
        are allowed and become 0.

    Attributes
    ----------
    transform_ : Standardizer, RobustScaling or QuantileScaling
        The transform fitted on the rows passed to fit.
    n_features_in_ : int
    """

    def __init__(self, scaling=DEFAULT_SCALING):
        self.scaling = scaling

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        self.transform_ = fit_scaling(self.scaling, X)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        return self.transform_.transform(X)

    @classmethod
    def from_record(cls, record, feature_names=None):
        """A fitted ColumnScaler that applies a saved transform."""
        scaler = cls(record.get("kind", UNNAMED_RECORD))
        scaler.transform_ = scaling_from_dict(record)
        scaler.n_features_in_ = scaler.transform_.n_features
        if feature_names:
            scaler.feature_names_in_ = np.asarray(feature_names, dtype=object)
        return scaler
