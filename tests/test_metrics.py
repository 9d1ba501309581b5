"""Metrics against scikit-learn and hand-made cases."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from models.utils.metrics import (auc_score, average_precision, balanced_log_loss,
                                  best_gmean_threshold, evaluate, gmean_score, precision_at_n)


@pytest.mark.parametrize("seed", range(4))
def test_auc_and_ap_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.15).astype(int)
    y[:2] = [0, 1]
    scores = np.round(rng.random(300) + 0.3 * y, 1)  # rounding makes many ties
    assert auc_score(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert average_precision(y, scores) == pytest.approx(average_precision_score(y, scores),
                                                          abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_balanced_log_loss_is_sklearns_log_loss_with_class_weights(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(200) < 0.1).astype(int)
    y[:2] = [0, 1]
    scores = rng.random(200)
    scores[5] = 1.0                        # clipped, not infinite
    weights = np.where(y == 1, 1 / y.sum(), 1 / (1 - y).sum())
    expected = log_loss(y, np.clip(scores, 1e-7, 1 - 1e-7), sample_weight=weights)
    assert balanced_log_loss(y, scores) == pytest.approx(expected, rel=1e-9)
    assert np.isnan(balanced_log_loss(y, np.full(200, np.nan)))


def test_gmean_hand_made():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    scores = np.array([0.9, 0.5, 0.2, 0.1, 0.6, 0.0, 0.1, 0.2, 0.3, 0.4])
    # threshold 0.5 inclusive: TPR = 2/4, TNR = 5/6
    assert gmean_score(y, scores) == pytest.approx(np.sqrt(0.5 * 5 / 6))
    assert gmean_score(y, np.where(y == 1, 0.99, 0.01)) == 1.0
    assert gmean_score(y, np.full(10, 0.49)) == 0.0
    assert gmean_score(y, scores, threshold=0.15) == pytest.approx(np.sqrt(3 / 4 * 2 / 6))


def test_precision_at_n_hand_made():
    y = np.array([1, 0, 1, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 0.95])
    assert precision_at_n(y, scores) == pytest.approx(2 / 3)  # top 3: rows 5, 0, 1
    assert precision_at_n(y, scores, n=2) == 1.0


def test_nan_scores_give_nan_not_an_exception():
    y = np.array([0, 1, 0, 1])
    metrics = evaluate(y, np.array([0.1, np.nan, 0.3, 0.9]))
    assert all(np.isnan(v) for v in metrics.values())


def test_single_class_is_an_error():
    with pytest.raises(ValueError, match="both"):
        auc_score(np.zeros(5), np.arange(5))


def test_best_gmean_threshold_hand_made():
    y = np.array([0, 0, 1, 1])
    assert best_gmean_threshold(y, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(0.5)
    # unbounded scores: the best cut lies between 3.0 and 7.0, whatever the scale
    assert best_gmean_threshold(y, np.array([-40.0, 3.0, 7.0, 100.0])) == pytest.approx(5.0)


@pytest.mark.parametrize("seed", range(4))
def test_best_gmean_threshold_beats_every_other_cut(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(200) < 0.2).astype(int)
    y[:2] = [0, 1]
    scores = np.round(rng.normal(size=200) + y, 1)  # ties
    chosen = best_gmean_threshold(y, scores)
    # brute force over cuts at every score and beyond both ends
    best = max(gmean_score(y, scores, t) for t in np.r_[scores, scores.max() + 1])
    assert gmean_score(y, scores, chosen) == pytest.approx(best, abs=1e-12)
    assert not np.isin(chosen, scores)  # never on a row's own score
