"""The evaluation protocol's data side: 6:2:2 stratified split and train-only scaling.

    train+val / test = 80 / 20, then train / val = 75 / 25 of the rest,
    both stratified by label with the same seed (docs/design.md section 1).

The scaling (`scaling`: standard, robust or quantile; models/core/scaling.py)
is fitted on the training part only.  A constant column maps to 0, and a
missing cell to 0 as well: the training mean, median or middle rank of its
column.
"""
import dataclasses

import numpy as np
from sklearn.model_selection import train_test_split

from dataloader import DataError
from models.core.scaling import (DEFAULT_SCALING, ScalingError, Standardizer,  # noqa: F401
                                 fit_scaling)

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
class PreparedData:
    """Scaled parts of one table under one seed."""

    X: dict            # part -> float32 (rows, features)
    y: dict            # part -> int32 (rows,)
    scaler: object     # the fitted transform (models/core/scaling.py)
    missing_filled: int

    @property
    def sizes(self):
        return {part: len(self.y[part]) for part in PARTS}


def prepare(table, seed, scaler=None, scaling=DEFAULT_SCALING):
    """Split `table` by `seed` and scale it: with `scaler` if given, else with the
    `scaling` transform fitted on the training part."""
    parts = dict(zip(PARTS, split_indices(table.y, seed)))
    names = table.feature_names
    try:
        scaler = scaler or fit_scaling(scaling, table.X[parts["train"]], names)
        scaled = {p: scaler.transform(table.X[rows], names) for p, rows in parts.items()}
    except ScalingError as err:
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
