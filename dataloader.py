"""Reading labelled tables: ODDS-style .mat files and CSV files with a label column.

Any file of the same shape works the same way; the 16 ODDS names only decide
what `scripts/get_data.sh` can fetch.  Everything that makes a table unusable
is reported as a `DataError` with one sentence naming the file and the
problem.  NaN feature cells are allowed (they are filled later from the
training part); infinite values are not.
"""
import dataclasses
import os

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


def _read_csv(path, label_column):
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig")   # a byte-order mark is not a name
    except pd.errors.EmptyDataError as err:
        raise DataError(f"{path} is empty") from err
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path} is not a readable CSV file ({err})".replace("\n", " ")) \
            from err
    if frame.empty:
        raise DataError(f"{path} has a header but no rows")
    label = _find_label_column(frame.columns, label_column, path)
    features = frame.drop(columns=[label])
    for column in features.columns:
        converted = pd.to_numeric(features[column], errors="coerce")
        bad = converted.isna() & features[column].notna()
        if bad.any():
            raise DataError(f"{path}: column {column!r} has a non-numeric value "
                            f"{features[column][bad].iloc[0]!r} in row {bad.idxmax() + 2}")
        features[column] = converted
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
