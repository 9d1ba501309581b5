"""The evaluation protocol's data side: 6:2:2 stratified split and train-only scaling.

    train+val / test = 80 / 20, then train / val = 75 / 25 of the rest,
    both stratified by label with the same seed (docs/design.md section 1).

Scaling statistics come from the training part only.  A constant column gets
scale 1 (no division by zero), and a missing cell is filled with the training
mean of its column, i.e. 0 after scaling.
"""
import dataclasses

import numpy as np
from sklearn.model_selection import train_test_split

from dataloader import DataError

TEST_SIZE = 0.2
VAL_SIZE = 0.25
PARTS = ("train", "val", "test")
# A stratified 6:2:2 split cannot put a class in all three parts with fewer.
MIN_ROWS_PER_CLASS = 3


def split_indices(y, seed):
    """Row indices of the train, validation and test parts."""
    counts = np.bincount(np.asarray(y, dtype=int), minlength=2)
    if counts.min() < MIN_ROWS_PER_CLASS:
        raise DataError(f"too few rows for a 6:2:2 stratified split: {counts[1]} anomalies and "
                        f"{counts[0]} normal rows, at least {MIN_ROWS_PER_CLASS} of each needed")
    rows = np.arange(len(y))
    try:
        rest, test = train_test_split(rows, test_size=TEST_SIZE, stratify=y, random_state=seed)
        train, val = train_test_split(rest, test_size=VAL_SIZE, stratify=y[rest],
                                      random_state=seed)
    except ValueError as err:
        raise DataError(f"too few rows for a 6:2:2 stratified split of {len(y)} rows ({err})") \
            from err
    for name, part in zip(PARTS, (train, val, test)):
        if len(np.unique(y[part])) < 2:
            raise DataError(f"too few rows: the 6:2:2 split of {len(y)} rows ({counts[1]} "
                            f"anomalies) leaves the {name} part without both classes")
    return train, val, test


@dataclasses.dataclass
class Standardizer:
    """z = (x - mean) / scale with training statistics; NaN -> training mean."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X, names=None):
        """Statistics of X's columns; a column whose mean or spread overflows float64
        (values near 1e308 summed or squared) is refused, naming it (`names`: the
        feature names, else columns are numbered)."""
        X = np.asarray(X, dtype=np.float64)
        observed = ~np.isnan(X)
        counts = observed.sum(0)
        filled = np.where(observed, X, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):   # overflow is checked below
            mean = np.divide(filled.sum(0), counts, out=np.zeros(X.shape[1]),
                             where=counts > 0)
            deviation = np.where(observed, X - mean, 0.0)
            std = np.sqrt(np.divide((deviation ** 2).sum(0), counts,
                                    out=np.zeros(X.shape[1]), where=counts > 0))
        overflow = np.flatnonzero(~(np.isfinite(mean) & np.isfinite(std)))
        if len(overflow):
            j = overflow[0]
            raise DataError(f"{_column(names, j)}: values up to "
                            f"{np.nanmax(np.abs(X[:, j])):.4g} overflow the scaling (their "
                            "mean or spread is beyond the float range); divide the column "
                            "by a power of ten")
        return cls(mean, np.where(std > 0, std, 1.0))

    def transform(self, X, names=None):
        """Scaled float32 rows; a value the scaling takes beyond float32 is refused (the
        network would see inf), naming its column."""
        X = np.asarray(X, dtype=np.float64)
        if X.shape[1] != len(self.mean):
            raise DataError(f"{X.shape[1]} features given, the scaler was fitted on "
                            f"{len(self.mean)}")
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.nan_to_num((X - self.mean) / self.scale, nan=0.0).astype(np.float32)
        beyond = np.argwhere(np.isinf(scaled) & np.isfinite(X))
        if len(beyond):
            row, j = beyond[0]
            raise DataError(f"{_column(names, j)}: value {X[row, j]:.4g} lies too far from "
                            f"the training values (mean {self.mean[j]:.4g}, spread "
                            f"{self.scale[j]:.4g}) to scale within the float range")
        return scaled

    def to_dict(self):
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, values):
        return cls(np.asarray(values["mean"], dtype=np.float64),
                   np.asarray(values["scale"], dtype=np.float64))


def _column(names, j):
    return f"column {names[j]!r}" if names else f"feature column {j + 1}"


@dataclasses.dataclass
class PreparedData:
    """Scaled parts of one table under one seed."""

    X: dict            # part -> float32 (rows, features)
    y: dict            # part -> int32 (rows,)
    scaler: Standardizer
    missing_filled: int

    @property
    def sizes(self):
        return {part: len(self.y[part]) for part in PARTS}


def prepare(table, seed, scaler=None):
    """Split `table` by `seed` and scale it (with `scaler` if given, else fit one on train)."""
    parts = dict(zip(PARTS, split_indices(table.y, seed)))
    names = table.feature_names
    try:
        scaler = scaler or Standardizer.fit(table.X[parts["train"]], names)
        scaled = {p: scaler.transform(table.X[rows], names) for p, rows in parts.items()}
    except DataError as err:
        raise DataError(f"{table.path}: {err}") from err
    return PreparedData(
        X=scaled,
        y={p: table.y[rows].astype(np.int32) for p, rows in parts.items()},
        scaler=scaler,
        missing_filled=int(np.isnan(table.X).sum()))


def summary_line(table, data):
    """One line: size, features, anomaly share, split sizes and filled cells."""
    sizes = data.sizes
    return (f"{table.name}: n={len(table.y)} d={table.X.shape[1]} "
            f"anomalies={int(table.y.sum())} ({table.outlier_percent:.2f}%) "
            f"train/val/test={sizes['train']}/{sizes['val']}/{sizes['test']} "
            f"missing cells filled={data.missing_filled}")
