"""PNG figures of a run: training curves, test ROC / PR curves, a summary bar chart.

Every figure is written through a temporary file and renamed into place.
"""
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402


def _save(figure, path):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plot.", suffix=".png", dir=folder)
    os.close(fd)
    try:
        figure.savefig(tmp, dpi=110, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        plt.close(figure)
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


# loss keys of the history records -> legend text (others appear as their keys)
LOSS_LABELS = {"loss_d": "discriminator(s)", "loss_g": "generator", "loss": "loss"}


METRIC_STYLES = (("train_auc", "C0:"), ("train_gmean", "C1:"), ("val_auc", "C0-"),
                 ("val_gmean", "C1-"))


def kept_epochs(model):
    """The epochs a fitted detector's model is made of: EAL-GAN's snapshot epochs
    (``snapshot_epochs_``, best first), else its ``selected_epoch_`` (None for
    the detectors that train a fixed number of epochs)."""
    return getattr(model, "snapshot_epochs_", None) or getattr(model, "selected_epoch_", None)


def marked_epochs(kept):
    """The epochs to mark: a list of kept snapshot epochs (EAL-GAN), one selected
    epoch (an int), or none (None: detectors trained for a fixed number of epochs)."""
    if kept is None:
        return []
    if isinstance(kept, (int, np.integer)):
        return [int(kept)]
    return [int(e) for e in kept if e is not None]


def training_curves(history, kept_epochs, path, title):
    """Losses per epoch and, where the history has them (EAL-GAN), train / validation
    AUC and Gmean per epoch; every kept epoch marked (EAL-GAN keeps a snapshot
    ensemble of several epochs, see marked_epochs)."""
    epochs = [int(r["epoch"]) for r in history]
    marks = marked_epochs(kept_epochs)
    metric_styles = [(key, style) for key, style in METRIC_STYLES if key in history[0]]
    figure, axes = plt.subplots(1, 2 if metric_styles else 1,
                                figsize=(11, 4) if metric_styles else (5.5, 4), squeeze=False)
    losses = axes[0][0]
    for key in (key for key in history[0] if key.startswith("loss")):
        losses.plot(epochs, [float(r[key]) for r in history], label=LOSS_LABELS.get(key, key))
    losses.set(xlabel="epoch", ylabel="loss", title="losses")
    if metric_styles:
        metrics = axes[0][1]
        for key, style in metric_styles:
            metrics.plot(epochs, [float(r[key]) for r in history], style,
                         label=key.replace("_", " "))
        metrics.set(xlabel="epoch", ylabel="score", title="AUC and Gmean", ylim=(-0.02, 1.02))
    label = (f"selected epoch {marks[0]}" if len(marks) == 1
             else f"kept epochs ({len(marks)}, averaged)")
    for axis in axes[0]:
        for i, epoch in enumerate(marks):
            axis.axvline(epoch, color="grey", linestyle="--", linewidth=0.8, alpha=0.7,
                         label=label if i == 0 else None)
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
    figure.suptitle(title)
    return _save(figure, path)


def roc_pr_curves(y, scores, path, title):
    """ROC and precision-recall curves of one scored split."""
    from .metrics import auc_score, average_precision
    figure, (roc, pr) = plt.subplots(1, 2, figsize=(10, 4))
    fpr, tpr, _ = roc_curve(y, scores)
    roc.plot(fpr, tpr, label=f"AUC {auc_score(y, scores):.4f}")
    roc.plot([0, 1], [0, 1], color="grey", linestyle=":")
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    precision, recall, _ = precision_recall_curve(y, scores)
    pr.step(recall, precision, where="post", label=f"AP {average_precision(y, scores):.4f}")
    pr.axhline(np.mean(y), color="grey", linestyle=":", label="anomaly share")
    pr.set(xlabel="recall", ylabel="precision", title="precision-recall", ylim=(0, 1.02))
    for axis in (roc, pr):
        axis.legend(loc="lower right" if axis is roc else "lower left", fontsize=8)
        axis.grid(alpha=0.3)
    figure.suptitle(title)
    return _save(figure, path)


def summary_bars(runs, model, path):
    """Mean test AUC and Gmean per dataset, error bars = std over seeds."""
    mine = [r for r in runs if r["Model"] == model]
    datasets = list(dict.fromkeys(r["Data"] for r in mine))
    figure, axis = plt.subplots(figsize=(max(6, 0.7 * len(datasets) + 2), 4))
    positions = np.arange(len(datasets))
    for offset, metric in ((-0.2, "AUC"), (0.2, "Gmean")):
        values = [[float(r[metric]) for r in mine if r["Data"] == d] for d in datasets]
        spread = [np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in values]
        axis.bar(positions + offset, [np.mean(v) for v in values], 0.4, yerr=spread,
                 capsize=3, label=metric)
    seeds = sorted({len([r for r in mine if r["Data"] == d]) for d in datasets})
    axis.set_xticks(positions, datasets, rotation=45, ha="right")
    axis.set(ylim=(0, 1.05), ylabel="test score",
             title=f"{model}: mean over {'/'.join(map(str, seeds))} seed(s), bars = std")
    axis.legend(loc="lower left")
    axis.grid(axis="y", alpha=0.3)
    return _save(figure, path)
