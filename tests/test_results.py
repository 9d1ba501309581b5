"""runs.csv bookkeeping and the mean / std summaries derived from it."""
import csv
import os
import sys

import numpy as np
import pytest

from conftest import ROOT
from models.utils.results import (ResultsError, dataset_row, read_rows, record_run,
                                  replace_rows, run_row, write_rows)


def add(folder, data, seed, auc, gmean, model="EAL-GAN"):
    metrics = {"auc": auc, "gmean": gmean, "ap": auc, "precision_at_n": gmean}
    record_run(folder, run_row(model, dataset_row(data, 100, 5, 7.0), seed, metrics, 10, 60, 60,
                               2.5))


def read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_summaries_are_means_and_sample_stds_over_seeds(tmp_path):
    for seed, (a, b) in zip((42, 43, 44), ((0.90, 0.80), (0.94, 0.82), (0.95, 0.90))):
        add(tmp_path, "a", seed, a, a)
        add(tmp_path, "b", seed, b, b)
    add(tmp_path, "a", 43, 0.92, 0.92)           # rerun replaces the (a, 43) row
    runs = read(tmp_path / "runs.csv")
    assert len(runs) == 6 and runs[2]["AUC"] == "0.920000"
    table = read(tmp_path / "AUC_EAL_GAN.csv")
    assert [r["Data"] for r in table] == ["a", "b", "mean"]
    a, b = [0.90, 0.92, 0.95], [0.80, 0.82, 0.90]
    assert float(table[0]["EAL-GAN"]) == pytest.approx(np.mean(a), abs=5e-5)
    assert float(table[0]["EAL-GAN std"]) == pytest.approx(np.std(a, ddof=1), abs=5e-5)
    assert float(table[2]["EAL-GAN"]) == pytest.approx((np.mean(a) + np.mean(b)) / 2, abs=1e-4)
    per_seed = (np.array(a) + np.array(b)) / 2
    assert float(table[2]["EAL-GAN std"]) == pytest.approx(np.std(per_seed, ddof=1), abs=5e-5)


def test_one_seed_has_no_std_and_models_keep_their_own_tables(tmp_path):
    add(tmp_path, "a", 42, 0.9, 0.8)
    add(tmp_path, "a", 42, 0.7, 0.6, model="Other")
    table = read(tmp_path / "Gmean_EAL_GAN.csv")
    assert table[0]["EAL-GAN"] == "0.8000" and table[0]["EAL-GAN std"] == ""
    assert read(tmp_path / "Gmean_Other.csv")[0]["Other"] == "0.6000"


def test_a_foreign_table_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "AUC_EAL_GAN.csv").write_text("Data,EAL-GAN\nx,1\n")
    with pytest.raises(ResultsError, match="columns"):
        add(tmp_path, "a", 42, 0.9, 0.8)
    assert not (tmp_path / "runs.csv").exists()


def _add_many(folder, data, count):
    for seed in range(count):
        add(folder, data, seed, 0.9, 0.8)


def test_two_processes_writing_one_results_folder_keep_every_row(tmp_path):
    import multiprocessing
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_add_many, args=(tmp_path, data, 40))
               for data in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [w.exitcode for w in workers] == [0, 0]
    runs = read(tmp_path / "runs.csv")
    assert sorted((r["Data"], int(r["Seed"])) for r in runs) == \
        sorted((d, s) for d in ("a", "b") for s in range(40))
    assert [r["Data"] for r in read(tmp_path / "AUC_EAL_GAN.csv")] in (["a", "b", "mean"],
                                                                      ["b", "a", "mean"])


def test_a_label_efficiency_rerun_replaces_its_setting_where_it_stood(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import label_efficiency
    old = [{"Data": "glass", "Seed": "42", "Active rate": rate, "Model": model, "AUC": "0.5"}
           for rate in ("0.05", "1.0") for model in ("EAL-GAN", "RandomForest")]
    table = str(tmp_path / "label_efficiency.csv")
    write_rows(table, old, list(old[0]))
    new = [{"Data": "glass", "Seed": 42, "Active rate": 0.05, "Model": model, "AUC": "0.9"}
           for model in ("EAL-GAN", "RandomForest")]   # as run() builds them: int, float
    rows = replace_rows(read_rows(table, list(old[0])), new, label_efficiency.SETTING)
    assert [(r["Active rate"], r["AUC"]) for r in rows] == [(0.05, "0.9"), (0.05, "0.9"),
                                                             ("1.0", "0.5"), ("1.0", "0.5")]
    other_seed = [dict(new[0], Seed=43)]
    assert replace_rows(rows, other_seed, label_efficiency.SETTING)[-1] == other_seed[0]
