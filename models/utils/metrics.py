"""Detection metrics (docs/design.md section 5), written out so tests can check them
against scikit-learn.

Scores are "higher = more anomalous"; labels are 1 for anomalies.  A score
vector containing NaN (a diverged model) gets NaN metrics rather than an
exception, so a bad epoch is simply never selected.
"""
import numpy as np
from scipy.stats import rankdata

THRESHOLD = 0.5


def _checked(y, scores):
    y = np.asarray(y).ravel().astype(int)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != scores.shape:
        raise ValueError(f"{len(y)} labels but {len(scores)} scores")
    return y, scores


def auc_score(y, scores):
    """ROC AUC as the Mann-Whitney statistic, ties counted as one half."""
    y, scores = _checked(y, scores)
    positives, negatives = (y == 1).sum(), (y == 0).sum()
    if positives == 0 or negatives == 0:
        raise ValueError("AUC needs both anomalies and normal rows")
    if np.isnan(scores).any():
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def gmean_score(y, scores, threshold=THRESHOLD):
    """sqrt(TPR * TNR) with rows labelled anomalous where score >= threshold."""
    y, scores = _checked(y, scores)
    if np.isnan(scores).any():
        return float("nan")
    predicted = scores >= threshold
    tpr = predicted[y == 1].mean()
    tnr = (~predicted[y == 0]).mean()
    return float(np.sqrt(tpr * tnr))


def balanced_log_loss(y, scores, eps=1e-7):
    """Mean over the two classes of the mean -log P(true class), scores as P(anomaly).

    A proper score, so it keeps ranking epochs once AUC and Gmean saturate:
    it is lower the further each row's score is on its class's side of 0.5.
    """
    y, scores = _checked(y, scores)
    if np.isnan(scores).any():
        return float("nan")
    p = np.clip(scores, eps, 1.0 - eps)
    return float((-np.log(p[y == 1]).mean() - np.log1p(-p[y == 0]).mean()) / 2)


def average_precision(y, scores):
    """sum_n (R_n - R_{n-1}) P_n over the distinct score thresholds, high to low."""
    y, scores = _checked(y, scores)
    if np.isnan(scores).any():
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    y_sorted, s_sorted = y[order], scores[order]
    # the last row of each group of tied scores closes a threshold
    last_of_group = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    hits = np.cumsum(y_sorted)[last_of_group]
    seen = np.arange(1, len(y) + 1)[last_of_group]
    precision = hits / seen
    recall_gain = np.diff(np.r_[0, hits]) / y.sum()
    return float((precision * recall_gain).sum())


def precision_at_n(y, scores, n=None):
    """Share of anomalies among the n highest scores; n defaults to the number of anomalies."""
    y, scores = _checked(y, scores)
    if np.isnan(scores).any():
        return float("nan")
    n = int(y.sum()) if n is None else int(n)
    top = np.argsort(-scores, kind="stable")[:n]
    return float(y[top].mean())


def evaluate(y, scores, threshold=THRESHOLD):
    """All four metrics as a dict: auc, gmean, ap, precision_at_n."""
    return {"auc": auc_score(y, scores), "gmean": gmean_score(y, scores, threshold),
            "ap": average_precision(y, scores), "precision_at_n": precision_at_n(y, scores)}


def best_gmean_threshold(y, scores):
    """The threshold t maximising Gmean of (score >= t) on labelled rows.

    Detectors whose scores are not probabilities choose their threshold this
    way on the validation split.  Candidates are the midpoints between
    consecutive distinct scores (and the ends), so the choice does not sit on
    a validation row's own score; the lowest best threshold wins ties.
    """
    y, scores = _checked(y, scores)
    distinct = np.unique(scores)
    candidates = np.r_[distinct[0] - 1.0, (distinct[1:] + distinct[:-1]) / 2, distinct[-1] + 1.0]
    order = np.argsort(scores)
    sorted_y, sorted_scores = y[order], scores[order]
    positives, negatives = (y == 1).sum(), (y == 0).sum()
    below = np.searchsorted(sorted_scores, candidates, side="left")  # rows with score < t
    anomalies_below = np.r_[0, np.cumsum(sorted_y)][below]
    tpr = (positives - anomalies_below) / positives
    tnr = (below - anomalies_below) / negatives
    return float(candidates[int(np.argmax(np.sqrt(tpr * tnr)))])
