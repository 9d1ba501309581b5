"""Reading labelled tables: ODDS-style .mat files and CSV files with a label column.

Any file of the same shape works the same way; the 16 ODDS names only decide
what `scripts/get_data.sh` can fetch.  Everything that makes a table unusable
is reported as a `DataError` with one sentence naming the file and the
problem.  NaN feature cells are allowed (they are filled later from the
training part); infinite values are not.
"""
import csv
import dataclasses
import hashlib
import os
import re

import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse
from scipy.io.matlab import MatReadError

ODDS_DATASETS = ("lympho", "glass", "ionosphere", "arrhythmia", "pima", "vowels", "letter",
                 "cardio", "musk", "optdigits", "satimage-2", "satellite", "pendigits",
                 "annthyroid", "mnist", "shuttle")
# Column names taken as the label when --label_column is not given (any case).
LABEL_COLUMNS = ("label", "labels", "y", "class", "outlier", "anomaly")
FORMATS = (".mat", ".csv")
# The name pandas gives a header cell that is empty (an index column it wrote).
UNNAMED = re.compile(r"Unnamed: \d+")
FLOAT_LIMIT = float(np.finfo(np.float64).max)


class DataError(ValueError):
    """The data file is missing, unreadable or not a usable labelled table."""


@dataclasses.dataclass
class Table:
    name: str
    path: str
    X: np.ndarray            # (rows, features) float64, NaN for missing cells
    y: np.ndarray            # (rows,) int, 1 = anomaly
    feature_names: list = None

    @property
    def outlier_percent(self):
        return 100.0 * float(self.y.mean())

    def digest(self):
        """SHA-256 of the rows in file order (features, then labels): what decides the
        split and the scaling, whatever the file format.  Every NaN hashes alike."""
        digest = hashlib.sha256()
        X = np.where(np.isnan(self.X), np.nan, self.X)
        digest.update(np.ascontiguousarray(X, dtype="<f8").tobytes())
        digest.update(np.ascontiguousarray(self.y, dtype="<i8").tobytes())
        return digest.hexdigest()


def resolve_data_file(data_path, data_name):
    """The file for `data_name`: a path to a .mat/.csv, or DATA_PATH/NAME.mat|.csv."""
    if os.path.splitext(data_name)[1] in FORMATS and os.path.isfile(data_name):
        return data_name
    candidates = [os.path.join(data_path, data_name + ext) for ext in FORMATS]
    for path in candidates:
        if os.path.isfile(path):
            return path
    if data_name in ODDS_DATASETS:
        raise DataError(f"{candidates[0]} not found; fetch it with "
                        f"`bash scripts/get_data.sh {data_name}`")
    raise DataError(f"unknown dataset {data_name!r}: neither {candidates[0]} nor {candidates[1]} "
                    f"exists (ODDS sets: {', '.join(ODDS_DATASETS)}; for your own data give a "
                    ".mat with X and y or a .csv with a label column)")


def dataset_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def load_table(path, label_column=None):
    """Read a .mat (X, y) or a .csv (features + label column) into a Table."""
    if not os.path.isfile(path):
        raise DataError(f"{path} not found")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".mat":
        X, y, names = _read_mat(path)
    elif ext == ".csv":
        X, y, names = _read_csv(path, label_column)
    else:
        raise DataError(f"{path}: unsupported format {ext!r}; use .mat or .csv")
    X, y = _check_features(X, path), _check_labels(y, path)
    if len(X) != len(y):
        raise DataError(f"{path}: X has {len(X)} rows but y has {len(y)} labels")
    return Table(dataset_name(path), path, X, y, names)


def read_mat(path):
    """scipy.io.loadmat(path), with every way a file can fail to be a .mat as a DataError."""
    try:
        return scipy.io.loadmat(path)
    except NotImplementedError as err:  # scipy's answer to HDF5-based files
        raise DataError(f"{path} is a MATLAB v7.3 (HDF5) file, which is not supported; "
                        "save it with `save(..., '-v7')` or export it to CSV") from err
    # truncated, empty or foreign files fail deep inside scipy's reader in many ways
    except (MatReadError, ValueError, TypeError, OSError, IndexError, KeyError, EOFError,
            UnicodeDecodeError) as err:
        raise DataError(f"{path} is not a readable MATLAB .mat file "
                        f"({type(err).__name__}: {err})") from err


def _read_mat(path):
    content = read_mat(path)
    missing = [key for key in ("X", "y") if key not in content]
    if missing:
        found = ", ".join(k for k in content if not k.startswith("__")) or "nothing"
        raise DataError(f"{path} has no variable {' or '.join(missing)} (found: {found}); "
                        "expected X (rows x features) and y (labels)")
    X, y = content["X"], content["y"]
    if scipy.sparse.issparse(X):
        X = X.toarray()
    if scipy.sparse.issparse(y):
        y = y.toarray()
    y = np.asarray(y)
    if y.ndim > 2 or (y.ndim == 2 and min(y.shape) != 1):
        raise DataError(f"{path}: y has shape {y.shape}; expected one label per row, "
                        "stored as (n, 1) or (1, n)")
    return X, y.ravel(), None


def first_row(path):
    """The cells of a CSV file's first row ([] for an empty file); a byte-order mark is
    not part of the first name."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except (UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{path} is not a UTF-8 CSV text file ({err})") from err


def header_names(cells, path):
    """Column names from a header row, for training and predict alike: spaces around a
    name are dropped, and every column needs a name of its own (pandas would call an
    empty one `Unnamed: 0` and a repeated one `a.1`, turning an index or a second label
    column into a feature)."""
    names = [cell.strip() for cell in cells]
    for number, name in enumerate(names, 1):
        if not name or UNNAMED.fullmatch(name):
            raise DataError(f"{path}: header column {number} has no name (an index column? "
                            "write the file with index=False, or name the column)")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"{path}: the header names column(s) {', '.join(map(repr, repeated))} "
                        "more than once; every column needs its own name")
    return names


def numeric_column(values, path, column, first_line):
    """A column as float64, refusing text; `first_line` numbers its first cell in the file."""
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        at = int(np.flatnonzero(bad.to_numpy())[0])
        cell = values.iloc[at]
        try:
            beyond = np.isinf(float(cell))
        except (TypeError, ValueError):
            beyond = False
        what = (f"value {cell!r} beyond the float range (+-{FLOAT_LIMIT:.4g})" if beyond
                else f"non-numeric value {cell!r}")
        raise DataError(f"{path}: {what} in column {column!r}, line {first_line + at}")
    return converted.astype(np.float64)


def _read_csv(path, label_column):
    cells = first_row(path)
    if not cells:
        raise DataError(f"{path} is empty")
    names = header_names(cells, path)
    try:
        frame = pd.read_csv(path, header=0, names=names, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as err:
        raise DataError(f"{path} is empty") from err
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{path} is not a readable CSV file ({err})".replace("\n", " ")) \
            from err
    if frame.empty:
        raise DataError(f"{path} has a header but no rows")
    label = _find_label_column(frame.columns, label_column, path)
    features = frame.drop(columns=[label])
    for column in features.columns:
        features[column] = numeric_column(features[column], path, column, 2)
    labels = pd.to_numeric(frame[label], errors="coerce")
    if (labels.isna() & frame[label].notna()).any():   # keep "yes" / "no" for the message
        return features.to_numpy(dtype=np.float64), frame[label].to_numpy(), \
            [str(c) for c in features.columns]
    return features.to_numpy(dtype=np.float64), labels.to_numpy(dtype=np.float64), \
        [str(c) for c in features.columns]


def _find_label_column(columns, label_column, path):
    if label_column is not None:
        if label_column not in columns:
            raise DataError(f"{path} has no column {label_column!r} (columns: "
                            f"{', '.join(map(str, columns))})")
        return label_column
    matches = [c for c in columns if str(c).lower() in LABEL_COLUMNS]
    if len(matches) != 1:
        problem = "no" if not matches else "more than one"
        raise DataError(f"{path} has {problem} label column among {', '.join(LABEL_COLUMNS)}; "
                        "name it with --label_column")
    return matches[0]


def _check_features(X, path):
    if np.iscomplexobj(X):
        raise DataError(f"{path}: X holds complex numbers; give real-valued features")
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"{path}: X is not numeric") from err
    if X.ndim != 2 or X.shape[1] == 0:
        raise DataError(f"{path}: X has shape {X.shape}; expected (rows, features)")
    if np.isinf(X).any():
        rows = np.unique(np.nonzero(np.isinf(X))[0])
        raise DataError(f"{path}: X has infinite values in {len(rows)} row(s), first row "
                        f"{rows[0]}; replace them (NaN cells are filled from the training part)")
    return X


def _check_labels(y, path):
    y = np.asarray(y)
    if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
        values = ", ".join(repr(v) if isinstance(v, str) else str(v)
                           for v in pd.unique(y.ravel())[:5])
        raise DataError(f"{path}: labels must be 0 (normal) or 1 (anomaly); found {values}")
    if len(np.unique(y)) < 2:
        raise DataError(f"{path}: all labels are {int(y[0])}; both normal rows and anomalies "
                        "are needed")
    return y.astype(np.int64)
