"""Snapshot selection, the step-budget schedule and settings tuning: all on validation only."""
import csv
import dataclasses
import itertools
import os
import sys

import numpy as np
import pytest

from conftest import ROOT, separable_data
from models import EALGAN
from models.eal_gan import schedule, tuning
from models.core.detector import TrainingDiverged
from models.utils.metrics import auc_score, gmean_score
from models.utils.results import write_rows
from models.eal_gan.selection import TopK, cross_fit, select_epochs, validation_measure


def curves(epochs=12, rows=40, anomalies=5, seed=0, gain=0.4):
    """Noisy per-epoch validation scores that get better with the epoch (by `gain` in all)."""
    rng = np.random.default_rng(seed)
    y = np.zeros(rows, dtype=int)
    y[:anomalies] = 1
    signal = np.linspace(0.0, gain, epochs)[:, None] * (2 * y - 1)
    return np.clip(0.5 + signal + rng.normal(0, 0.15, (epochs, rows)), 0, 1), y


def brute_force_best(val_scores, y, metric, k, ties="earliest"):
    """The k epochs with the largest (measure, -epoch) by exhaustive sorting."""
    keyed = [(validation_measure(metric, y, s, ties), -i) for i, s in enumerate(val_scores)]
    return [-neg for _, neg in sorted(keyed, reverse=True)[:k]]


@pytest.mark.parametrize("metric,k,ties", list(itertools.product(
    ("auc_gmean", "auc", "ap"), (1, 3, 5), ("earliest", "confidence"))))
def test_select_epochs_matches_brute_force(metric, k, ties):
    scores, y = curves()
    scores[7] = scores[4] = scores[9]   # three tied epochs
    assert select_epochs(scores, y, metric, k, ties) == brute_force_best(scores, y, metric, k,
                                                                          ties)


def test_tied_epochs_go_to_the_earliest_or_to_the_most_confident():
    y = np.array([0, 0, 0, 1])
    # every epoch separates the classes at 0.5 (AUC = Gmean = 1); confidence grows, then falls
    margins = [0.05, 0.2, 0.45, 0.3]
    scores = np.array([np.where(y == 1, 0.5 + m, 0.5 - m) for m in margins])
    assert select_epochs(scores, y, "auc_gmean", 2) == [0, 1]
    assert select_epochs(scores, y, "auc_gmean", 2, "confidence") == [2, 3]
    # ties only: a better AUC x Gmean still wins over confidence
    scores[1:, 3] = 0.49                   # the anomaly under 0.5 from the second epoch on
    assert select_epochs(scores, y, "auc_gmean", 1, "confidence") == [0]
    with pytest.raises(ValueError, match="select_ties"):
        select_epochs(scores, y, "auc_gmean", 1, "latest")
    with pytest.raises(ValueError, match="select_ties"):
        _ = EALGAN(select_ties="latest").config


def test_topk_kept_online_equals_select_epochs_offline():
    scores, y = curves(epochs=15, seed=3)
    kept = TopK(4)
    for epoch, s in enumerate(scores, start=1):
        kept.offer(validation_measure("auc_gmean", y, s), epoch, lambda s=s: s)
    assert kept.epochs() == [i + 1 for i in select_epochs(scores, y, "auc_gmean", 4)]
    np.testing.assert_array_equal(kept.items()[0], scores[kept.epochs()[0] - 1])


def test_nan_epochs_are_never_kept():
    scores, y = curves(epochs=4)
    scores[2] = np.nan
    kept = TopK(4)
    for epoch, s in enumerate(scores, start=1):
        kept.offer(validation_measure("auc", y, s), epoch, lambda: None)
    assert 3 not in kept.epochs() and len(kept.epochs()) == 3


def test_cross_fit_scores_the_other_half_and_is_deterministic():
    scores, y = curves(seed=5)
    first = cross_fit(scores, y, "auc", 3, np.random.default_rng(1), splits=4)
    again = cross_fit(scores, y, "auc", 3, np.random.default_rng(1), splits=4)
    assert first == again
    # recompute by hand: same halvings, choose on one half, judge on the other
    rng, results = np.random.default_rng(1), []
    for _ in range(4):
        a = np.zeros(len(y), dtype=bool)
        for label in (0, 1):
            rows = np.flatnonzero(y == label)
            a[rng.permutation(rows)[:len(rows) // 2]] = True
        for choose, judge in ((a, ~a), (~a, a)):
            picked = brute_force_best(scores[:, choose], y[choose], "auc", 3)
            mean = scores[picked][:, judge].mean(0)
            results.append((auc_score(y[judge], mean), gmean_score(y[judge], mean)))
    assert first == pytest.approx(tuple(np.mean(results, axis=0)))


def test_cross_fit_with_one_anomaly_scores_in_sample():
    scores, y = curves(anomalies=1)
    picked = brute_force_best(scores, y, "auc_gmean", 2)
    mean = scores[picked].mean(0)
    assert cross_fit(scores, y, "auc_gmean", 2, np.random.default_rng(0)) == \
        (auc_score(y, mean), gmean_score(y, mean))


def test_snapshot_model_scores_the_mean_of_its_epochs():
    X, y = separable_data(rows=240, features=5, seed=8)
    X_val, y_val = separable_data(rows=160, features=5, seed=9)
    settings = dict(max_epochs=6, batch_size=64, ensemble_num=3, dim_z=8)
    model = EALGAN(select_top_k=3, select_ties="earliest", **settings).fit(X, y, X_val, y_val)
    assert model.snapshot_epochs_ == [i + 1 for i in
                                      select_epochs(model.validation_scores_, y_val,
                                                    "auc_gmean", 3)]
    expected = model.validation_scores_[[e - 1 for e in model.snapshot_epochs_]].mean(0)
    np.testing.assert_allclose(model.decision_function(X_val), expected, rtol=1e-5, atol=1e-6)
    # with k = 1 the model is the single best epoch, trained identically
    single = EALGAN(select_top_k=1, select_ties="earliest", **settings).fit(X, y, X_val, y_val)
    assert single.selected_epoch_ == model.selected_epoch_
    np.testing.assert_array_equal(single.validation_scores_, model.validation_scores_)
    # the default tie-break, confidence, keeps what select_epochs picks from the same curve
    confident = EALGAN(select_top_k=3, **settings).fit(X, y, X_val, y_val)
    np.testing.assert_array_equal(confident.validation_scores_, model.validation_scores_)
    assert confident.snapshot_epochs_ == [i + 1 for i in select_epochs(
        model.validation_scores_, y_val, "auc_gmean", 3, "confidence")]


def test_snapshot_model_round_trips(tmp_path):
    X, y = separable_data(rows=200, features=4, seed=10)
    model = EALGAN(max_epochs=4, batch_size=64, ensemble_num=2, dim_z=8,
                   select_top_k=2).fit(X, y, X, y)
    model.save(tmp_path / "m")
    loaded = EALGAN.load(tmp_path / "m")
    assert loaded.snapshot_epochs_ == model.snapshot_epochs_
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))


@pytest.mark.parametrize("rows,batch", [(10, 16), (88, 16), (960, 32), (3481, 128),
                                        (4561, 128), (29457, 256)])
def test_auto_batch_size_grows_with_the_rows(rows, batch):
    assert schedule.auto_batch_size(rows) == batch


def test_auto_epochs_spend_the_step_budget_within_bounds():
    # 960 rows in batches of 32: 30 steps per epoch, 1000 steps -> 34 epochs
    assert schedule.resolve("auto", "auto", 1000, 960) == (32, 34)
    assert schedule.resolve("auto", "auto", 1000, 88) == (16, 167)
    assert schedule.resolve("auto", "auto", 10 ** 6, 88)[1] == schedule.MAX_EPOCHS
    assert schedule.resolve(256, "auto", 10, 30000)[1] == schedule.MIN_EPOCHS
    # explicit numbers are kept (the batch is clamped to the rows)
    assert schedule.resolve(512, 7, 1000, 300) == (300, 7)


@pytest.mark.parametrize("value", [0, -3, 2.5, "many", True, None])
def test_bad_schedule_values_are_refused(value):
    with pytest.raises(ValueError, match="batch_size must be a positive integer or auto"):
        _ = EALGAN(batch_size=value).config


def test_auto_schedule_is_what_fit_runs():
    X, y = separable_data(rows=100, features=3, seed=11)
    model = EALGAN(ensemble_num=2, dim_z=8, batch_size="auto", train_steps=14,
                   validation_fraction=0).fit(X, y)
    assert (model.batch_size_, model.max_epochs_) == (16, schedule.MIN_EPOCHS)
    assert len(model.history_) == schedule.MIN_EPOCHS


class FakeDetector:
    """Stands in for EALGAN in tune(): its validation curve is a function of its settings."""

    fitted = []

    def __init__(self, config):
        self.config = config

    def fit(self, X, y, X_val, y_val):
        FakeDetector.fitted.append((self.config.lr_d, self.config.seed))
        if self.config.lr_d == 0.01:  # the "official" candidate diverges here
            raise TrainingDiverged("nan")
        quality = {0.002: 0.3, 0.005: 0.01, 0.001: 0.2}[self.config.lr_d]
        self.validation_scores_ = np.clip(
            0.5 + quality * (2 * y_val - 1)[None, :]
            + np.random.default_rng(self.config.seed).normal(0, 0.05, (5, len(y_val))), 0, 1)
        return self


def test_tune_names_the_best_candidate_and_why():
    FakeDetector.fitted = []
    _, y_val = curves(rows=60, anomalies=8)
    config = dataclasses.replace(EALGAN().config, tune=True, tune_seeds=2, seed=7)
    name, table = tuning.tune(FakeDetector, config, None, None, None, y_val)
    assert name == "budget_lr0.002"
    assert [row["candidate"] for row in table] == list(tuning.CANDIDATES)
    best = max(table, key=lambda row: row["heldout_auc"] * row["heldout_gmean"])
    assert best["candidate"] == name
    official = next(row for row in table if row["candidate"] == "official")
    assert np.isnan(official["heldout_auc"])
    # every candidate trained with seeds 7 and 8, nothing else
    assert sorted(FakeDetector.fitted) == sorted(
        (c["lr_d"], s) for c in tuning.CANDIDATES.values() for s in (7, 8))


class PerfectDetector(FakeDetector):
    """Every candidate separates validation perfectly: validation cannot tell them apart."""

    def fit(self, X, y, X_val, y_val):
        self.validation_scores_ = np.tile(np.where(y_val == 1, 0.9, 0.1), (5, 1))
        return self


def test_candidates_tied_on_validation_go_to_the_default_settings():
    _, y_val = curves(rows=30, anomalies=1)
    config = dataclasses.replace(EALGAN().config, tune=True, tune_seeds=1)
    name, table = tuning.tune(PerfectDetector, config, None, None, None, y_val)
    assert {row["heldout_auc"] * row["heldout_gmean"] for row in table} == {1.0}
    assert name == tuning.DEFAULT_CANDIDATE == "budget_lr0.005_long"
    # ... which is what a table without a config trains with
    default = EALGAN().config
    assert all(getattr(default, key) == value for key, value in
               tuning.candidate_settings(default, name).items())


@pytest.mark.slow
def test_tuned_fit_saves_its_choice(tmp_path):
    X, y = separable_data(rows=160, features=4, seed=12)
    X_val, y_val = separable_data(rows=120, features=4, seed=13)
    model = EALGAN(ensemble_num=2, dim_z=8, train_steps=30, tune=True, tune_seeds=1)
    model.fit(X, y, X_val, y_val)
    assert model.tuned_candidate_ in tuning.CANDIDATES
    winner = tuning.candidate_settings(model.config, model.tuned_candidate_)
    assert all(getattr(model.config_, key) == value for key, value in winner.items())
    assert model.get_params()["tune"]  # the settings stay as given; config_ is what ran
    assert model.best_params_ == winner and not model.config_.tune
    assert {row["candidate"] for row in model.tuning_} == set(tuning.CANDIDATES)
    alone = EALGAN.from_config(tuning.candidate_config(
        EALGAN(ensemble_num=2, dim_z=8, train_steps=30).config, model.tuned_candidate_))
    np.testing.assert_array_equal(alone.fit(X, y, X_val, y_val).decision_function(X_val),
                                  model.decision_function(X_val))
    model.save(tmp_path / "m")
    assert EALGAN.load(tmp_path / "m").meta_["tuned_candidate"] == model.tuned_candidate_


def test_candidates_scale_the_configured_step_budget():
    assert EALGAN().config.train_steps == 3000
    config = dataclasses.replace(EALGAN().config, train_steps=60)
    steps = {name: tuning.candidate_config(config, name).train_steps
             for name in tuning.CANDIDATES}
    assert steps.pop(tuning.DEFAULT_CANDIDATE) == 60
    assert set(steps.values()) == {20}   # the others spend a third of the default's budget
    assert tuning.candidate_config(EALGAN().config, "official").train_steps == 1000
    assert all(set(tuning.candidate_settings(config, name)) == set(tuning.TUNED_KEYS)
               for name in tuning.CANDIDATES)


def test_tuning_needs_validation_data():
    X, y = separable_data(rows=100, features=3)
    with pytest.raises(ValueError, match="tune needs a validation part"):
        EALGAN(tune=True, validation_fraction=0).fit(X, y)


def test_tune_compare_keeps_rows_of_fits_recorded_elsewhere(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import tune
    table = tmp_path / "tuning.csv"
    write_rows(str(table), [
        {"Data": "glass", "Seed": 42, "Candidate": "port", "Held-out AUC": 0.9, "Batch": 16},
        {"Data": "glass", "Seed": 43, "Candidate": "port", "Held-out AUC": 0.8, "Batch": 16}],
        ["Data", "Seed", "Candidate", "Held-out AUC", "Batch"])
    kept = tune.earlier_rows(str(table), [("glass", 43, "port", {})])
    assert kept == [{"Data": "glass", "Seed": 42, "Candidate": "port", "Held-out AUC": 0.9,
                     "Batch": 16}]
    assert tune.earlier_rows(str(tmp_path / "absent.csv"), []) == []


def test_tune_compare_judges_every_rule_and_pairs_the_fits_every_rule_judged(tmp_path, capsys,
                                                                               monkeypatch):
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import tune
    table = tmp_path / "selection.csv"
    monkeypatch.setattr(tune, "SELECTION_TABLE", str(table))
    # a row judged elsewhere, before the tie-break existed (no Ties column)
    earlier = {"Data": "lympho", "Seed": 42, "Candidate": "port", "Metric": "auc", "Top k": 1,
               "Held-out AUC": 0.5, "Held-out Gmean": 0.5}
    write_rows(str(table), [earlier], list(earlier))
    scores, y = curves(epochs=12, rows=40, anomalies=6)
    tune.compare_rules([("glass", 42, "official", {"val_scores": scores, "y_val": y})])
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 + len(tune.RULES)
    assert rows[0]["Ties"] == "earliest"
    judged = {(r["Metric"], int(r["Top k"]), r["Ties"]): float(r["Held-out AUC"])
              for r in rows[1:]}
    assert set(judged) == set(tune.RULES)
    auc, _ = cross_fit(scores, y, "auc_gmean", 10, np.random.default_rng(42), ties="confidence")
    assert judged["auc_gmean", 10, "confidence"] == round(auc, 4)
    assert "paired, over the 1 fits that every rule judged" in capsys.readouterr().out


def test_tune_compare_judges_candidates_by_the_configured_rule(tmp_path, monkeypatch):
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import tune
    monkeypatch.setattr(tune, "SELECTION_TABLE", str(tmp_path / "selection.csv"))
    monkeypatch.setattr(tune, "TUNING_TABLE", str(tmp_path / "tuning.csv"))
    scores, y = curves(epochs=30, rows=40, anomalies=6, gain=0.1)  # top 1 and 10 differ
    saved = {"val_scores": scores, "y_val": y, "batch_size": 16, "epochs": 30, "seconds": 2.5}
    tune.compare_candidates([("glass", 42, "port", saved)],
                            tune.compare_rules([("glass", 42, "port", saved)]))
    with open(tmp_path / "tuning.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    config = tune.base_config("glass", 42)
    assert config.select_top_k == 10  # the shipped model's rule, not the single best epoch
    auc, gmean = tuning.judge_fit(scores, y, config, 42)  # what `--tune True` maximises
    assert (float(row["Held-out AUC"]), float(row["Held-out Gmean"])) == (round(auc, 4),
                                                                          round(gmean, 4))
    assert (row["Batch"], row["Epochs"], row["Seconds"]) == ("16", "30", "2.5")
    # a fit judged elsewhere whose cost row is missing cannot be tabled
    orphan = {"Data": "glass", "Seed": 43, "Candidate": "port", "Metric": "auc_gmean",
              "Top k": 10, "Ties": "confidence", "Held-out AUC": 0.9, "Held-out Gmean": 0.8}
    with pytest.raises(SystemExit, match="neither a file"):
        tune.compare_candidates([], [orphan])
    # a fit judged elsewhere only by a rule its config does not use
    with pytest.raises(SystemExit, match="not by their config's rule"):
        tune.compare_candidates([], [{**orphan, "Ties": "earliest"}])


def test_tune_configs_winner_counts_the_candidates_tied_with_it():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import tune
    rows = [{"Data": "lympho", "Seed": seed, "Candidate": name, "Held-out AUC": 1.0,
             "Held-out Gmean": gmean}
            for seed in (42, 43) for name, gmean in (("port", 1.0), ("budget_lr0.005", 1.0),
                                                     ("official", 1.0), ("budget_lr0.002", 0.9))]
    assert tune.winners(rows) == {"lympho": ("official", 1.0, 1.0, 2)}
    rows[2]["Held-out Gmean"] = 0.5  # official falls behind on seed 42
    assert tune.winners(rows) == {"lympho": ("budget_lr0.005", 1.0, 1.0, 1)}


def test_default_choice_scores_each_criterion_on_the_set_it_left_out():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import tune
    long, official = tuning.DEFAULT_CANDIDATE, "official"
    scores = {(long, d): (0.9, 1.0) for d in ("d1", "d2")} | {(long, "d3"): (0.9, 0.0)}
    scores |= {(official, d): (0.8, 0.9) for d in ("d1", "d2", "d3")}
    rows = [{"Data": d, "Seed": seed, "Candidate": c, "Held-out AUC": auc,
             "Held-out Gmean": gmean}
            for d in ("d1", "d2", "d3") for seed in (1, 2) for c in tuning.CANDIDATES
            for auc, gmean in [scores.get((c, d), (0.5, 0.0))]]
    # a dataset some candidate was not recorded on is left out of the study
    rows.append({"Data": "d4", "Seed": 1, "Candidate": long, "Held-out AUC": 0.1,
                 "Held-out Gmean": 0.1})
    lines = tune.default_choice(rows).splitlines()
    assert f"| {long} | 0.9000 | 0.6667 | 0.6000 | 0.0000 (d3) |" in lines
    assert f"| {official} | 0.8000 | 0.9000 | 0.7200 | 0.7200 (d1) |" in lines
    # mean AUC always picks the long candidate, which scores 0 on d3; mean Gmean
    # and AUC x Gmean pick it only when d3 is left out, the authors' settings otherwise
    assert f"| AUC | {long} x3 | 0.6000 |" in lines
    assert f"| Gmean | {official} x2, {long} x1 | 0.4800 |" in lines
    assert f"| AUC x Gmean | {official} x2, {long} x1 | 0.4800 |" in lines
    # tuning picks long on d1 and d2, the authors' settings on d3
    assert lines[-1].endswith("| | 0.8400 |")


def test_the_default_candidate_is_what_mean_auc_picks_from_the_recorded_fits():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import tune
    means = tune.candidate_means(tune.typed_rows(tune.TUNING_TABLE))
    datasets = sorted({d for d, _ in means})
    assert len(datasets) >= 12
    assert tune.pick(means, datasets, "AUC") == tuning.DEFAULT_CANDIDATE
