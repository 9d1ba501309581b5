"""Results tables: one row per dataset, replaced in place, written atomically."""
import csv
import io
import os

from .checkpoint import atomic_write_text

KEY_COLUMNS = ["Data", "# Samples", "# Dimensions", "Outlier Perc"]


class ResultsError(ValueError):
    """An existing results file does not have the expected columns."""


def read_rows(path):
    """(header, rows) of a CSV file, or (None, []) when it does not exist."""
    if not os.path.exists(path):
        return None, []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def upsert_rows(updates):
    """Put each (path, row, columns) row into its file, replacing the row with the same Data.

    Every file is checked before any is written, so a bad table leaves all
    of them as they were.
    """
    tables = []
    for path, row, columns in updates:
        header, rows = read_rows(path)
        if header is not None and header != columns:
            raise ResultsError(f"{path} has columns {header}, expected {columns}; move it "
                               "away to start a new table")
        tables.append((path, _replace_row(rows, {c: row[c] for c in columns}), columns))
    for path, rows, columns in tables:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(path, out.getvalue())


def _replace_row(rows, new_row):
    kept = [r for r in rows if r["Data"] != str(new_row["Data"])]
    if len(kept) == len(rows):
        return rows + [new_row]
    position = next(i for i, r in enumerate(rows) if r["Data"] == str(new_row["Data"]))
    return rows[:position] + [new_row] + rows[position + 1:]


def dataset_row(name, samples, dimensions, outlier_percent):
    """The leading columns shared by every results table."""
    return {"Data": name, "# Samples": samples, "# Dimensions": dimensions,
            "Outlier Perc": f"{outlier_percent:.2f}"}
