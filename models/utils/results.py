"""Results tables: every run in runs.csv, per-model summaries derived from it.

runs.csv holds one row per (Model, Data, Seed); rerunning replaces that row.
AUC_<MODEL>.csv and Gmean_<MODEL>.csv are rebuilt from it after every run:
one row per dataset with the mean and the sample standard deviation over
its seeds, then a `mean` row (the mean of the dataset means; its std is the
spread over seeds of the all-dataset average, over the seeds every dataset
has).  All files are written atomically, and one lock file per results
folder serialises the read-modify-write, so runs started together (e.g. two
sweeps sharing results/) all keep their rows.
"""
import contextlib
import csv
import fcntl
import io
import os
import re
import time

import numpy as np

from .checkpoint import atomic_write_text

KEY_COLUMNS = ["Data", "# Samples", "# Dimensions", "Outlier Perc"]
RUN_COLUMNS = ["Model", *KEY_COLUMNS, "Seed", "AUC", "Gmean", "AP", "Precision@n",
               "Selected epoch", "Labels queried", "Train rows", "Train seconds"]
# Trailing columns saying how a row was made (rows older than them leave them empty):
# the training run's threads, device, CPU and MindSpore, and the start of its data's
# SHA-256 (tells two tables of one name apart).
PROVENANCE_COLUMNS = ["Threads", "Device", "CPU", "MindSpore", "Data hash"]
HASH_CHARS = 16
RUNS_FILE = "runs.csv"
LOCK_FILE = ".runs.lock"
LOCK_POLL_S = 0.1   # how soon a run waiting for the lock sees a signal
SUMMARY_METRICS = ("AUC", "Gmean")


class ResultsError(ValueError):
    """An existing results file does not have the expected columns."""


def read_rows(path, columns=None):
    """Rows of a CSV file ([] when it does not exist); checks the header if given."""
    if not os.path.exists(path):
        return []
    accepted = [columns]
    if columns == RUN_COLUMNS:   # runs.csv with or without the provenance columns
        accepted.append(RUN_COLUMNS + PROVENANCE_COLUMNS)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if columns is not None and reader.fieldnames not in accepted:
            raise ResultsError(f"{path} has columns {reader.fieldnames}, expected {columns}; "
                               "move it away to start a new table")
        return list(reader)


def write_rows(path, rows, columns):
    """Write `rows` with the header `columns` (other keys of a row, all empty, are left out)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, out.getvalue())


def run_row(model, table_row, seed, metrics, selected_epoch, labels_queried, train_rows,
            train_seconds, made_with=None):
    """A runs.csv row from test metrics (keys auc, gmean, ap, precision_at_n).

    A selected epoch or label count of None (detectors without them) is left empty.
    made_with: runtime.provenance() of the training run and its "data_sha256", for the
    provenance columns (None: no such columns, e.g. for baselines.csv).
    """
    extra = {} if made_with is None else dict(zip(PROVENANCE_COLUMNS, (
        made_with.get("threads", ""), made_with.get("device", ""), made_with.get("cpu", ""),
        made_with.get("mindspore", ""), made_with.get("data_sha256", "")[:HASH_CHARS])))
    return {"Model": model, **table_row, "Seed": seed, **extra,
            "AUC": f"{metrics['auc']:.6f}", "Gmean": f"{metrics['gmean']:.6f}",
            "AP": f"{metrics['ap']:.6f}", "Precision@n": f"{metrics['precision_at_n']:.6f}",
            "Selected epoch": "" if selected_epoch is None else selected_epoch,
            "Labels queried": "" if labels_queried is None else labels_queried,
            "Train rows": train_rows, "Train seconds": f"{train_seconds:.1f}"}


def dataset_row(name, samples, dimensions, outlier_percent):
    """The leading columns shared by every results table."""
    return {"Data": name, "# Samples": samples, "# Dimensions": dimensions,
            "Outlier Perc": f"{outlier_percent:.2f}"}


@contextlib.contextmanager
def results_lock(results_dir, poll_s=LOCK_POLL_S):
    """Exclusive lock on a results folder (an flock on its lock file; released on exit).

    Polled, not blocking: a blocked flock() would hold back SIGINT until the other run
    is done, and a run that waits says so."""
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, LOCK_FILE)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for {path}: another run is writing results there", flush=True)
            while True:
                time.sleep(poll_s)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    continue
        yield


def record_run(results_dir, row, on_locked=None):
    """Put `row` into runs.csv (replacing its Model/Data/Seed) and rebuild that model's tables.

    on_locked(), if given, runs once the lock is held, before anything is written (the
    command line stops listening to signals there: waiting can be interrupted, writing not)."""
    with results_lock(results_dir):
        if on_locked is not None:
            on_locked()
        _record_run_locked(results_dir, row)


def row_key(row, columns):
    """The values of `columns` as the file stores them (text), for read and new rows alike."""
    return tuple(str(row[column]) for column in columns)


def replace_rows(rows, new, columns):
    """`rows` with those sharing `new`'s key (its values of `columns`) swapped for `new`, where
    the first of them stood (appended when there are none), so a rerun keeps the order."""
    key = row_key(new[0], columns)
    kept = [r for r in rows if row_key(r, columns) != key]
    at = next((i for i, r in enumerate(rows) if row_key(r, columns) == key), len(rows))
    return kept[:at] + new + kept[at:]


def _record_run_locked(results_dir, row):
    path = os.path.join(results_dir, RUNS_FILE)
    row = {column: str(value) for column, value in row.items()}  # as read back from the file
    rows = replace_rows(read_rows(path, RUN_COLUMNS), [row], ("Model", "Data", "Seed"))
    summary_paths = {metric: summary_path(results_dir, metric, row["Model"])
                     for metric in SUMMARY_METRICS}
    for summary in summary_paths.values():
        read_rows(summary, summary_columns(row["Model"]))  # refuse foreign tables up front
    # The provenance columns appear once a row has values for them, so that
    # evaluating weights that record none rewrites the file byte for byte.
    with_provenance = any(r.get(column) for r in rows for column in PROVENANCE_COLUMNS)
    write_rows(path, rows, RUN_COLUMNS + PROVENANCE_COLUMNS if with_provenance else RUN_COLUMNS)
    for metric, summary in summary_paths.items():
        write_rows(summary, summarise(rows, row["Model"], metric), summary_columns(row["Model"]))


def summary_path(results_dir, metric, model):
    return os.path.join(results_dir, f"{metric}_{model.replace('-', '_')}.csv")


def summary_columns(model):
    return [*KEY_COLUMNS, model, f"{model} std"]


def summarise(rows, model, metric):
    """Per-dataset mean and std over seeds of `metric`, then the `mean` row."""
    mine = [r for r in rows if r["Model"] == model]
    datasets = list(dict.fromkeys(r["Data"] for r in mine))
    values = {d: {r["Seed"]: float(r[metric]) for r in mine if r["Data"] == d} for d in datasets}
    table = []
    for dataset in datasets:
        first = next(r for r in mine if r["Data"] == dataset)
        seeds = list(values[dataset].values())
        table.append({**{c: first[c] for c in KEY_COLUMNS}, model: f"{np.mean(seeds):.4f}",
                      f"{model} std": _std(seeds)})
    shared = set.intersection(*(set(v) for v in values.values())) if values else set()
    per_seed = [np.mean([values[d][s] for d in datasets]) for s in sorted(shared)]
    table.append({"Data": "mean", "# Samples": "", "# Dimensions": "", "Outlier Perc": "",
                  model: f"{np.mean([float(r[model]) for r in table]):.4f}",
                  f"{model} std": _std(per_seed)})
    return table


def _std(values):
    return f"{np.std(values, ddof=1):.4f}" if len(values) > 1 else ""


def fill_block(path, name, text):
    """Replace what lies between <!-- NAME:begin --> and <!-- NAME:end --> in the file at path.

    Generated tables live between such markers in the READMEs, so the prose
    around them stays hand-written.  ValueError when the markers are missing.
    """
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    with open(path, encoding="utf-8") as handle:
        content = handle.read()
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(content):
        raise ValueError(f"{path} has no {begin} ... {end} block to fill")
    atomic_write_text(path, pattern.sub(lambda _: f"{begin}\n{text}\n{end}", content))
