"""scripts/parity.py's plumbing, without torch: splits, settings, both selection rules, report."""
import os
import sys

import numpy as np
import pytest

from conftest import ROOT, separable_data
from preprocess import PARTS, prepare
from dataloader import Table
import config

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import parity  # noqa: E402


def test_the_authors_code_gets_exactly_the_parts_this_port_trains_on(tmp_path):
    X, y = separable_data(rows=150, features=4)
    data = prepare(Table("toy", "toy.mat", X, y, None), seed=43)
    parity.write_split(data, tmp_path / "split.npz")
    with np.load(tmp_path / "split.npz") as saved:
        for part in PARTS:
            np.testing.assert_array_equal(saved[f"X_{part}"], data.X[part])
            np.testing.assert_array_equal(saved[f"y_{part}"], data.y[part])


def test_the_port_runs_with_the_authors_defaults_and_one_validation_epoch(tmp_path):
    command = parity.port_command("cardio", 44, 50, 1, str(tmp_path))
    settings = vars(config.resolve_settings(command[2:]))
    authors = {"lr_g": 0.01, "lr_d": 0.01, "batch_size": 256, "active_rate": 0.05,
               "dim_z": 128, "dis_layer": 1, "gen_layer": 2, "ensemble_num": 10,
               "init_type": "ortho", "SN_used": True, "SN_generator_hidden": False,
               "dis_activation_func": "relu"}
    assert {k: settings[k] for k in authors} == authors
    assert (settings["max_epochs"], settings["seed"], settings["data_name"]) == (50, 44, "cardio")
    assert (settings["select_top_k"], settings["select_metric"]) == (1, "auc_gmean")
    assert settings["weights_dir"].startswith(str(tmp_path))


def test_their_run_is_judged_by_their_rule_and_by_the_validation_rule():
    rng = np.random.default_rng(0)
    y_val, y_test = np.array([0] * 8 + [1] * 2), np.array([0] * 6 + [1] * 4)
    val_scores = rng.random((4, 10))
    val_scores[2] = y_val * 0.9 + 0.05        # epoch 3 is perfect on validation
    test_scores = rng.random((4, 10))
    curves = {"train_auc": np.array([0.5, 0.9, 0.6, 0.7]),
              "train_gmean": np.array([0.5, 0.9, 0.6, 0.9]),   # epoch 2 best on training
              "val_scores": val_scores, "test_scores": test_scores,
              "seconds": [3.0, 1.0, 2.0, 1.0], "peak_mb": 100.0}
    rows = {r["rule"]: r for r in parity.official_rows("toy", 42, curves, y_val, y_test)}
    assert rows["official_train"]["selected_epoch"] == 2
    assert rows["validation"]["selected_epoch"] == 3
    from sklearn.metrics import roc_auc_score
    for rule, epoch in (("official_train", 2), ("validation", 3)):
        assert float(rows[rule]["test_auc"]) == pytest.approx(
            roc_auc_score(y_test, test_scores[epoch - 1]), abs=1e-6)
    assert rows["validation"]["epoch_seconds"] == "1.0000"   # median after the first epoch
    assert rows["validation"]["fit_seconds"] == "7.00"


def fake_row(dataset, seed, implementation, rule, auc, seconds):
    return parity.row(dataset, seed, 50, implementation, rule, auc, 0.8, 1, [seconds] * 3,
                      3 * seconds, 100)


def test_report_pairs_seeds_and_marks_differences_beyond_the_seed_spread():
    rows = []
    for seed, (port, official) in zip((42, 43, 44), [(0.90, 0.91), (0.92, 0.90), (0.94, 0.93)]):
        rows += [fake_row("near", seed, "mindspore", "validation", port, 1.0),
                 fake_row("near", seed, "official", "validation", official, 4.0),
                 fake_row("near", seed, "official", "official_train", official - 0.1, 4.0),
                 fake_row("far", seed, "mindspore", "validation", 0.99, 1.0),
                 fake_row("far", seed, "official", "validation", 0.80, 2.0),
                 fake_row("far", seed, "official", "official_train", 0.80, 2.0)]
    summary = {e["dataset"]: e for e in parity.summarize(rows)}
    assert summary["near"]["auc_difference"] == pytest.approx(np.mean([-0.01, 0.02, 0.01]))
    assert summary["near"]["within_spread"] and not summary["far"]["within_spread"]
    assert summary["near"]["epoch_speedup"] == pytest.approx(4.0)
    assert summary["far"]["fit_speedup"] == pytest.approx(2.0)
    text = parity.report(rows)
    assert "1 of 2 sets within the seed spread" in text
    assert text.count("\n| far |") == 1 and text.count("\n| near |") == 1


def test_fixed_order_runs_train_unshuffled_and_are_paired_with_theirs_separately(tmp_path):
    command = parity.port_command("cardio", 44, 50, 1, str(tmp_path), shuffle=False)
    assert vars(config.resolve_settings(command[2:]))["shuffle"] is False
    assert vars(config.resolve_settings(
        parity.port_command("cardio", 44, 50, 1, str(tmp_path))[2:]))["shuffle"] is True
    assert "--frozen_scoring" not in parity.official_command("code", "s", "o", 42, 50, 1)
    assert parity.official_command("code", "s", "o", 42, 50, 1, True)[-1] == "--frozen_scoring"
    rows = []
    for seed, (port, fixed, official, frozen) in zip((42, 43), [(0.95, 0.91, 0.90, 0.92),
                                                                (0.97, 0.92, 0.93, 0.94)]):
        rows += [fake_row("set", seed, parity.PORT, "validation", port, 1.0),
                 fake_row("set", seed, parity.PORT_FIXED, "validation", fixed, 1.0),
                 fake_row("set", seed, parity.OFFICIAL, "validation", official, 3.0),
                 fake_row("set", seed, parity.OFFICIAL, "official_train", official, 3.0),
                 fake_row("set", seed, parity.OFFICIAL_FROZEN, "validation", frozen, 3.0),
                 fake_row("set", seed, parity.OFFICIAL_FROZEN, "official_train", frozen, 3.0)]
    (main,) = parity.summarize(rows)
    (fixed,) = parity.summarize(rows, parity.PORT_FIXED)
    (both,) = parity.summarize(rows, parity.PORT_FIXED, parity.OFFICIAL_FROZEN)
    assert main["auc_difference"] == pytest.approx(0.045)
    assert fixed["auc_difference"] == pytest.approx(0.0)
    assert both["auc_difference"] == pytest.approx(-0.015)
    text = "\n".join(parity.diagnostic_sections(rows))
    assert "\n| set | 2 | 0.9150 ± 0.0050 | 0.9150 ± 0.0150 | +0.0000 | yes |" in text
    assert "\n| set | 2 | 0.9150 ± 0.0050 | 0.9300 ± 0.0100 | -0.0150 | no |" in text
    assert parity.diagnostic_sections([r for r in rows if r["implementation"]
                                       in (parity.PORT, parity.OFFICIAL)]) == []


def test_frozen_scoring_scores_in_eval_mode_and_restores_training_mode():
    import parity_official

    class Network:
        training = True

        def eval(self):
            self.training = False

        def train(self):
            self.training = True
    networks = [Network(), Network()]
    seen = []

    def predict(x):
        seen.append([n.training for n in networks])
        if x is None:
            raise ValueError("no rows")
        return x
    wrapped = parity_official.frozen(predict, networks)
    assert wrapped(3) == 3 and seen == [[False, False]]
    assert all(n.training for n in networks)
    with pytest.raises(ValueError):
        wrapped(None)
    assert all(n.training for n in networks)


def test_the_parity_doc_carries_the_parity_table_that_report_writes_now():
    from test_readme import generated_block, read
    table = parity.report_table(parity.read_table())
    assert parity.DOCS == [os.path.join(ROOT, "docs", "parity.md")]
    for name in parity.DOCS:
        assert generated_block(read(name), parity.README_BLOCK) == table, \
            f"{name}: run scripts/parity.py report"
