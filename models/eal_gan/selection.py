"""Which epochs' discriminators make the final model: chosen on validation only.

A rule is a validation metric, a count k and a way to break ties.  The k
epochs with the highest metric are kept and their ensembles averaged (a
snapshot ensemble: k x E discriminators).  Each metric has a second one
that breaks its ties (AUC for AUC x Gmean); epochs still equal then go
to the earlier epoch ("earliest") or to the lower balanced log-loss
("confidence").  Small validation parts make such ties common: with one
or two anomalies, dozens of epochs score AUC = Gmean = 1, and the earliest
of them are the least trained.  With k = 1, the metric "auc_gmean" and
"earliest" this is the single argmax of validation AUC x Gmean used before.
"""
import numpy as np

from ..utils.metrics import auc_score, average_precision, balanced_log_loss, gmean_score

SELECTION_METRICS = ("auc_gmean", "auc", "ap")
SELECTION_TIES = ("earliest", "confidence")
# Random stratified halvings of the validation part used by cross_fit.
HALF_SPLITS = 10


def epoch_metrics(y, scores):
    """(AUC, Gmean, AP, balanced log-loss) of one epoch's validation scores."""
    return (auc_score(y, scores), gmean_score(y, scores), average_precision(y, scores),
            balanced_log_loss(y, scores))


def measure_of(metric, auc, gmean, ap, log_loss, ties="earliest"):
    """(primary, tie-break[, confidence]) of a validation metric; larger is better."""
    if metric == "auc_gmean":
        measure = (auc * gmean, auc)
    elif metric == "auc":
        measure = (auc, ap)
    elif metric == "ap":
        measure = (ap, auc)
    else:
        raise ValueError(f"unknown selection metric {metric!r}; choose one of "
                         f"{', '.join(SELECTION_METRICS)}")
    if ties == "earliest":
        return measure
    if ties == "confidence":
        return measure + (-log_loss,)
    raise ValueError(f"unknown select_ties {ties!r}; choose one of {', '.join(SELECTION_TIES)}")


def validation_measure(metric, y, scores, ties="earliest"):
    """measure_of one epoch's validation scores."""
    return measure_of(metric, *epoch_metrics(y, scores), ties)


def rank_key(measure, epoch):
    """Sort key: best measure first, the earlier epoch first among equals; NaN last."""
    if not np.isfinite(measure).all():
        return (1, epoch)
    return (0, *(-m for m in measure), epoch)


def best_epochs(table, metric, k, ties="earliest"):
    """Indices of the k best rows of `table` (epochs x epoch_metrics)."""
    keys = [rank_key(measure_of(metric, *row, ties), i) for i, row in enumerate(table)]
    return sorted(range(len(keys)), key=keys.__getitem__)[:k]


def select_epochs(val_scores, y, metric, k, ties="earliest"):
    """Indices (0-based epochs) of the k best rows of `val_scores` (epochs x rows)."""
    return best_epochs([epoch_metrics(y, s) for s in val_scores], metric, k, ties)


def stratified_halves(y, rng, splits=HALF_SPLITS):
    """`splits` random stratified halvings (a, b) of the rows of y."""
    for _ in range(splits):
        a = np.zeros(len(y), dtype=bool)
        for label in (0, 1):
            rows = np.flatnonzero(y == label)
            a[rng.permutation(rows)[:len(rows) // 2]] = True
        yield a, ~a


def _rules_on(val_scores, y, rules, choose, judge):
    """{rule: (AUC, Gmean) on rows `judge` of the epochs the rule picks on rows `choose`}."""
    table = [epoch_metrics(y[choose], s) for s in val_scores[:, choose]]
    results = {}
    for rule in rules:
        averaged = val_scores[best_epochs(table, *rule)][:, judge].mean(0)
        results[rule] = (auc_score(y[judge], averaged), gmean_score(y[judge], averaged))
    return results


def cross_fit_rules(val_scores, y, rules, rng, splits=HALF_SPLITS):
    """Held-out (AUC, Gmean) of each selection rule (metric, k, ties), judged on validation only.

    A rule picks its epochs on one stratified half of the validation rows
    and is scored on the other half, both ways, over `splits` halvings, so
    a rule that chases the noise of a few anomalies is not rewarded for it.
    With fewer than two anomalies (or normal rows) no halving holds both
    classes twice; the rules are then scored on the rows they chose on.
    """
    y = np.asarray(y).astype(int)
    if np.bincount(y, minlength=2).min() < 2:
        everything = np.ones(len(y), dtype=bool)
        return _rules_on(val_scores, y, rules, everything, everything)
    per_half = []
    for a, b in stratified_halves(y, rng, splits):
        per_half += [_rules_on(val_scores, y, rules, a, b), _rules_on(val_scores, y, rules, b, a)]
    return {rule: tuple(float(v) for v in np.mean([h[rule] for h in per_half], axis=0))
            for rule in rules}


def cross_fit(val_scores, y, metric, k, rng, splits=HALF_SPLITS, ties="earliest"):
    """cross_fit_rules for one rule: its held-out (AUC, Gmean)."""
    return cross_fit_rules(val_scores, y, [(metric, k, ties)], rng, splits)[metric, k, ties]


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
        return [key[-1] for key, _ in self.kept]

    def items(self):
        return [item for _, item in self.kept]
