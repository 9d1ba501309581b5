"""The training figure marks every epoch the model is made of."""
import types

import numpy as np
import pytest

from models.utils import plots


def history(epochs=12, metrics=True):
    rows = []
    for epoch in range(1, epochs + 1):
        row = {"epoch": epoch, "loss_d": 1.0 / epoch, "loss_g": 2.0 / epoch}
        if metrics:
            row.update(train_auc=0.9, train_gmean=0.8, val_auc=0.85, val_gmean=0.7)
        rows.append(row)
    return rows


@pytest.fixture
def drawn(monkeypatch):
    """The figures training_curves builds, kept open instead of written to disk."""
    figures = []
    monkeypatch.setattr(plots, "_save", lambda figure, path: figures.append(figure) or path)
    yield figures
    for figure in figures:
        plots.plt.close(figure)


def marks(axis):
    return sorted(line.get_xdata()[0] for line in axis.get_lines()
                  if line.get_linestyle() == "--")


def test_every_kept_snapshot_epoch_is_marked_on_both_panels(drawn):
    kept = [9, 3, 11, 7]   # best first, as EALGAN.snapshot_epochs_ holds them
    plots.training_curves(history(), kept, "unused.png", "EAL-GAN on toy")
    (figure,) = drawn
    assert len(figure.axes) == 2
    for axis in figure.axes:
        assert marks(axis) == sorted(kept)
        labels = [text.get_text() for text in axis.get_legend().get_texts()]
        assert labels.count("kept epochs (4, averaged)") == 1


def test_one_selected_epoch_and_none_still_work(drawn):
    plots.training_curves(history(metrics=False), 5, "unused.png", "one epoch")
    plots.training_curves(history(metrics=False), np.int64(5), "unused.png", "numpy int")
    plots.training_curves(history(metrics=False), None, "unused.png", "fixed epochs")
    assert [marks(f.axes[0]) for f in drawn] == [[5], [5], []]
    assert "selected epoch 5" in [t.get_text() for t in drawn[0].axes[0].get_legend().get_texts()]


def test_the_marked_epochs_come_from_the_snapshots_else_the_selected_epoch():
    eal_gan = types.SimpleNamespace(snapshot_epochs_=[4, 2, 8], selected_epoch_=4)
    assert plots.kept_epochs(eal_gan) == [4, 2, 8]
    assert plots.kept_epochs(types.SimpleNamespace(selected_epoch_=6)) == 6
    assert plots.kept_epochs(types.SimpleNamespace(selected_epoch_=None)) is None
    assert plots.marked_epochs([None]) == []


def test_draw_figures_hands_the_snapshot_epochs_to_the_training_figure(monkeypatch, tmp_path):
    import train_eval
    seen = []
    monkeypatch.setattr(plots, "training_curves", lambda h, kept, path, title: seen.append(kept))
    monkeypatch.setattr(plots, "roc_pr_curves", lambda *args: None)
    monkeypatch.setattr(plots, "summary_bars", lambda *args: None)
    args = types.SimpleNamespace(results_dir=str(tmp_path), model=train_eval.EALGAN.name)
    model = types.SimpleNamespace(label="EAL-GAN", history_=history(), selected_epoch_=9,
                                  snapshot_epochs_=[9, 3, 11])
    data = types.SimpleNamespace(y={"test": np.array([0, 1])})
    train_eval.draw_figures(args, types.SimpleNamespace(name="toy"), model, data, None)
    assert seen == [[9, 3, 11]]
