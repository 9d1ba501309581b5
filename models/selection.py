"""Which epochs' discriminators make the final model: chosen on validation only.

A rule is a validation metric and a count k.  The k epochs with the highest
metric are kept and their ensembles averaged (a snapshot ensemble: k x E
discriminators).  With k = 1 and the metric "auc_gmean" this is the single
argmax of validation AUC x Gmean used before, ties broken by validation AUC
and then by the earlier epoch.
"""
import numpy as np

from .metrics import auc_score, average_precision, gmean_score

SELECTION_METRICS = ("auc_gmean", "auc", "ap")
# Random stratified halvings of the validation part used by cross_fit.
HALF_SPLITS = 20


def validation_measure(metric, y, scores):
    """(primary, tie-break) of one epoch's validation scores; larger is better."""
    auc = auc_score(y, scores)
    if metric == "auc_gmean":
        return auc * gmean_score(y, scores), auc
    if metric == "auc":
        return auc, average_precision(y, scores)
    if metric == "ap":
        return average_precision(y, scores), auc
    raise ValueError(f"unknown selection metric {metric!r}; choose one of "
                     f"{', '.join(SELECTION_METRICS)}")


def rank_key(measure, epoch):
    """Sort key: best measure first, the earlier epoch first among equals; NaN last."""
    if not np.isfinite(measure).all():
        return (1, 0.0, 0.0, epoch)
    return (0, -measure[0], -measure[1], epoch)


def select_epochs(val_scores, y, metric, k):
    """Indices (0-based epochs) of the k best rows of `val_scores` (epochs x rows)."""
    keys = [rank_key(validation_measure(metric, y, s), i) for i, s in enumerate(val_scores)]
    return sorted(range(len(keys)), key=keys.__getitem__)[:k]


def _rule_on(val_scores, y, metric, k, choose, judge):
    """(AUC, Gmean) on rows `judge` of the rule's choice made on rows `choose`."""
    chosen = select_epochs(val_scores[:, choose], y[choose], metric, k)
    averaged = val_scores[chosen][:, judge].mean(0)
    return auc_score(y[judge], averaged), gmean_score(y[judge], averaged)


def stratified_halves(y, rng, splits=HALF_SPLITS):
    """`splits` random stratified halvings (a, b) of the rows of y."""
    for _ in range(splits):
        a = np.zeros(len(y), dtype=bool)
        for label in (0, 1):
            rows = np.flatnonzero(y == label)
            a[rng.permutation(rows)[:len(rows) // 2]] = True
        yield a, ~a


def cross_fit(val_scores, y, metric, k, rng, splits=HALF_SPLITS):
    """Held-out (AUC, Gmean) of a selection rule, judged on validation only.

    The rule picks its epochs on one stratified half of the validation rows
    and is scored on the other half, both ways, over `splits` halvings, so
    a rule that chases the noise of a few anomalies is not rewarded for it.
    With fewer than two anomalies (or normal rows) no halving holds both
    classes twice; the rule is then scored on the rows it chose on.
    """
    y = np.asarray(y).astype(int)
    everything = np.ones(len(y), dtype=bool)
    if np.bincount(y, minlength=2).min() < 2:
        return _rule_on(val_scores, y, metric, k, everything, everything)
    results = []
    for a, b in stratified_halves(y, rng, splits):
        results.append(_rule_on(val_scores, y, metric, k, a, b))
        results.append(_rule_on(val_scores, y, metric, k, b, a))
    return tuple(float(v) for v in np.mean(results, axis=0))


class TopK:
    """The k best items seen so far under rank_key, kept as (key, item) pairs."""

    def __init__(self, k):
        self.k = k
        self.kept = []

    def offer(self, measure, epoch, make_item):
        """Keep the epoch if it ranks among the k best; make_item() is called only then."""
        key = rank_key(measure, epoch)
        if key[0] == 1 or (len(self.kept) == self.k and key >= self.kept[-1][0]):
            return False
        self.kept = sorted(self.kept + [(key, make_item())], key=lambda pair: pair[0])[:self.k]
        return True

    def epochs(self):
        return [key[3] for key, _ in self.kept]

    def items(self):
        return [item for _, item in self.kept]
