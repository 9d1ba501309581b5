"""Score new rows with a trained model (EAL-GAN or any detector of this repository).

    python predict.py --weights weights/cardio --input new_rows.csv [--output scores.csv]
                      [--threshold 0.5]

The input is a .mat file with X, or a CSV with or without a header row.  The
first row is a header when any cell is neither a number nor a missing-value
mark (empty, NA, NaN, null, ...), when it is exactly 0, 1, ..., n-1 (the
header pandas writes by default), or when it holds every feature name of a
model trained on a CSV.  Header names are read as in training (spaces around
them dropped; empty or repeated names refused).  With a header and a model
trained on a CSV, columns are matched by name (order and an extra label
column do not matter); otherwise the feature count must match.
Rows are scaled with the training split's statistics saved with the weights
(missing cells count as the training mean; a model saved from Python
without a StandardScaler scores rows as given) and scored in chunks, so memory
stays bounded for any number of rows.  The output CSV has one `score,label`
line per input row (label = score >= threshold; by default the model's own
threshold: 0.5 for EAL-GAN, the one chosen on validation for the others) and
appears only when complete.
"""

import signal

if __name__ == "__main__":
    # Before MindSpore starts its threads, which inherit the mask: signals then reach
    # runtime.interrupt_on_signals' waiter thread only (see there).
    signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))

import argparse
import os
import stat
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import scipy.sparse

from dataloader import (LABEL_COLUMNS, DataError, first_row, header_names, numeric_column,
                        read_mat)
from models import DETECTORS
from models.persistence import recorded_scaling
from models.utils import runtime
from models.utils.cli import run_command, str2bool
from models.utils.compile_cache import (DEFAULT_DIR as DEFAULT_CACHE_DIR, CompileCache,
                                         file_digest, network_shapes)
from models.utils.checkpoint import (META_FILE, CheckpointError, folder_problem, read_meta,
                                     errors_name, remove_stale, share_as_umask)
from models.utils.results import KEY_COLUMNS, LOCK_FILE, RUN_COLUMNS, RUNS_FILE
from models.core.scaling import ScalingError, scaling_from_dict

CHUNK_ROWS = 100_000
# Cells pandas reads as missing (its default na_values), compared in lower case.
MISSING_MARKS = {"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a", "#na", "<na>",
                 "-1.#ind", "1.#ind", "-1.#qnan", "1.#qnan", "#n/a n/a"}


class PredictError(ValueError):
    """The input cannot be scored by this model."""


def load_model(weights):
    """(model, the scaling it was trained behind, meta) of a saved model folder.

    A folder saved from Python without a StandardScaler records no scaling
    ("scaler": null): its rows are scored as given, a missing cell as 0.
    """
    meta = read_meta(weights)
    if meta.get("model") not in DETECTORS:
        raise PredictError(f"{weights}/meta.json names no known model ({meta.get('model')!r})")
    try:
        scaler = scaling_from_dict(recorded_scaling(meta, weights))
    except ScalingError as err:
        raise PredictError(f"{weights}/meta.json: {err}") from err
    return DETECTORS[meta["model"]].load(weights), scaler, meta


def _is_value(text):
    """A number or a missing-value mark: what a data row holds."""
    try:
        float(text)
    except ValueError:
        return text.strip().lower() in MISSING_MARKS
    return True


def _is_header(first, feature_names):
    """Whether the first row names columns: a cell that is no value, pandas' default
    0..n-1 (after an unnamed index column or not), or every feature name of a model
    trained on a CSV (names such as 1, 2, 3 look like data)."""
    cells = [cell.strip() for cell in first]
    if feature_names and {name.strip() for name in feature_names} <= set(cells):
        return True
    if not all(_is_value(cell) for cell in first):
        return True
    numbers = [str(i) for i in range(len(first))]
    return cells in (numbers, [""] + numbers[:-1])   # the second with pandas' index column


def _csv_columns(path, n_features, feature_names):
    """(the header's names or None, columns to read in training order or None)."""
    first = first_row(path)
    if not first:
        raise PredictError(f"{path} is empty")
    if not _is_header(first, feature_names):
        if len(first) != n_features:
            raise PredictError(f"{path} has {len(first)} columns but the model expects "
                               f"{n_features} features")
        return None, None
    header = header_names(first, path)
    if feature_names:
        wanted = [name.strip() for name in feature_names]   # older models kept the spaces
        missing = [n for n in wanted if n not in header]
        if missing:
            raise PredictError(f"{path} lacks the model's feature column(s) "
                               f"{', '.join(missing[:5])}")
        return header, wanted
    features = [c for c in header if c.lower() not in LABEL_COLUMNS]
    if len(features) != n_features:
        raise PredictError(f"{path} has {len(features)} feature columns but the model expects "
                           f"{n_features}")
    return header, features


def _numeric(frame, path, first_line):
    for column in frame.columns:
        # Without a header pandas numbers the columns from 0; messages count from 1.
        name = column + 1 if isinstance(column, (int, np.integer)) else column
        frame[column] = numeric_column(frame[column], path, name, first_line)
    return frame.to_numpy(dtype=np.float64)


def read_chunks(path, n_features, feature_names):
    """Feature arrays of at most CHUNK_ROWS rows, in input order."""
    if not os.path.isfile(path):
        raise PredictError(f"{path} not found")
    if path.lower().endswith(".mat"):
        try:
            X = read_mat(path).get("X")
        except DataError as err:
            raise PredictError(str(err)) from err
        if scipy.sparse.issparse(X):
            X = X.toarray()
        if X is None or np.ndim(X) != 2 or X.shape[1] != n_features or np.iscomplexobj(X):
            raise PredictError(f"{path} needs X of shape (rows, {n_features})")
        for start in range(0, len(X), CHUNK_ROWS):
            yield np.asarray(X[start:start + CHUNK_ROWS], dtype=np.float64)
        return
    header, columns = _csv_columns(path, n_features, feature_names)
    reader = pd.read_csv(path, header=None if header is None else 0, names=header,
                         usecols=columns, chunksize=CHUNK_ROWS, encoding="utf-8-sig")
    row = 1   # the first data row's number (1-based, the header not counted)
    try:
        for frame in reader:
            if columns is not None:
                frame = frame[columns]
            yield _numeric(frame, path, row + (header is not None))
            row += len(frame)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise PredictError(f"{path}: unreadable CSV after data row {row - 1} "
                           f"({err})".replace("\n", " ")) from err


def _is_results_table(path):
    """A runs.csv, its lock, or a table whose header is that of a results table."""
    if os.path.basename(path) in (RUNS_FILE, LOCK_FILE):
        return True
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as handle:
        first = handle.readline(4096).decode("utf-8", "replace").lstrip("\ufeff")
    return first.startswith((",".join(RUN_COLUMNS[:3]), ",".join(KEY_COLUMNS[:3])))


def output_problem(output, input_path, weights):
    """Why OUTPUT must not be written, or None.  Checked before anything is written:
    os.replace would turn the input, a model file, a results table or a device node
    into a scores file."""
    if output.endswith(os.sep):
        return "names a folder; give a file name"
    real = os.path.realpath(output)
    if os.path.exists(input_path) and os.path.exists(output) \
            and os.path.samefile(input_path, output):
        return "is the input file; choose another --output"
    model = os.path.realpath(weights)
    if real == model or real.startswith(model + os.sep) \
            or os.path.isfile(os.path.join(os.path.dirname(real), META_FILE)):
        return "lies in a model folder; choose another --output"
    if os.path.exists(real) and not stat.S_ISREG(os.stat(real).st_mode) \
            and not os.path.isdir(real):
        return "is not a regular file (a device, pipe or socket); choose a file name"
    if _is_results_table(real):
        return "is a results table; choose another --output"
    return None


def check_threshold(threshold, model_name):
    """A finite threshold, within [0, 1] for EAL-GAN, whose scores lie there (a
    threshold of 2 or NaN would label every row 0 without a word)."""
    if not np.isfinite(threshold):
        raise PredictError(f"--threshold {threshold} is not a finite number")
    if model_name == "eal_gan" and not 0 <= threshold <= 1:
        raise PredictError(f"--threshold {threshold}: EAL-GAN scores lie in [0, 1], so every "
                           "row would get the same label; give a value in [0, 1]")


def predict(weights, input_path, output, threshold=None, cache_dir=None):
    """Write OUTPUT (score,label per row); returns (rows, seconds).

    threshold None: the model's own (threshold_).  cache_dir: the compile
    cache's root (models/utils/compile_cache.py), None for no cache."""
    problem = output_problem(output, input_path, weights)
    if problem:
        raise PredictError(f"--output {output} {problem}")
    model, scaler, meta = load_model(weights)
    if threshold is not None:
        check_threshold(threshold, meta["model"])
    threshold = model.threshold_ if threshold is None else threshold
    started, rows = time.perf_counter(), 0
    if os.path.isdir(output):
        raise PredictError(f"--output {output} is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(output))
    problem = folder_problem(folder)
    if problem:
        raise PredictError(f"--output {output}: {problem}")
    # The input's rows decide the chunk shapes that are compiled: its bytes are in the key.
    readable = os.path.isfile(input_path)   # else read_chunks says what is wrong
    cache = CompileCache(cache_dir if readable else None,
                         {"command": "predict", "model": meta["model"], "config": meta["config"],
                          "features": meta["n_features"],
                          "shapes": network_shapes(model.networks_),
                          "input": file_digest(input_path) if readable else None})
    os.makedirs(folder, exist_ok=True)
    remove_stale(folder, ".predict.*.csv")   # left by a killed run
    internal = os.path.join(folder, ".predict.")   # messages name OUTPUT, not these files
    with errors_name(output, internal):
        fd, tmp = tempfile.mkstemp(prefix=".predict.", suffix=".csv", dir=folder)
    try:
        with errors_name(output, internal), cache, \
                os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("score,label\n")
            for chunk in read_chunks(input_path, meta["n_features"], meta.get("feature_names")):
                if np.isinf(chunk).any():
                    raise PredictError(f"{input_path}: infinite value in data row "
                                       f"{rows + 1 + int(np.nonzero(np.isinf(chunk))[0][0])}")
                try:
                    scaled = scaler.transform(chunk, meta.get("feature_names"))
                except ScalingError as err:
                    raise PredictError(f"{input_path}: {err}") from err
                scores = model.decision_function(scaled)
                labels = (scores >= threshold).astype(np.int8)
                handle.write("".join(f"{s:.6f},{label}\n" for s, label in zip(scores, labels)))
                rows += len(chunk)
        if rows == 0:
            raise PredictError(f"{input_path} has no data rows")
        runtime.stop_listening()   # every row is scored: the output appears, signal or not
        with errors_name(output, internal):
            share_as_umask(tmp)
            os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return rows, time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", required=True,
                        help="a trained model folder, e.g. weights/cardio")
    parser.add_argument("--input", required=True, help="rows to score: .csv or .mat")
    parser.add_argument("--output", help="scores CSV (default: INPUT_scores.csv)")
    parser.add_argument("--threshold", type=float,
                        help="score at or above which a row is labelled 1 (default: the "
                        "model's own: 0.5 for EAL-GAN, chosen on validation for the others)")
    parser.add_argument("--device_target", default="CPU")
    parser.add_argument("--compile_cache", type=str2bool, default=True,
                        help="reuse the compiled graphs of an identical earlier run (default True)")
    parser.add_argument("--compile_cache_dir", default=DEFAULT_CACHE_DIR,
                        help="the compile cache's folder (default ./.compile_cache/)")
    args = parser.parse_args(argv)
    output = args.output or f"{os.path.splitext(args.input)[0]}_scores.csv"

    def score():
        runtime.configure(args.device_target)
        rows, seconds = predict(args.weights, args.input, output, args.threshold,
                                args.compile_cache_dir if args.compile_cache else None)
        print(f"scored {rows} rows in {seconds:.1f}s ({rows / seconds:,.0f} rows/s) -> {output}")

    return run_command(score, (PredictError, DataError, CheckpointError, runtime.DeviceError),
                       "no output written")


if __name__ == "__main__":
    sys.exit(main())
