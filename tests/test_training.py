"""Short real trainings reach stated quality; selection and seeding behave."""
import numpy as np
import pytest

from conftest import PORT_SETTINGS, odds_file, separable_data
from dataloader import load_table
from models import EALGAN
from models.core.detector import TrainingDiverged
from models.utils.metrics import auc_score, gmean_score
from preprocess import prepare


@pytest.mark.slow
def test_separable_synthetic_set():
    X, y = separable_data(rows=800, features=6, seed=1)
    X_val, y_val = separable_data(rows=300, features=6, seed=2)
    X_test, y_test = separable_data(rows=300, features=6, seed=3)
    model = EALGAN(max_epochs=10, batch_size=64, **PORT_SETTINGS).fit(X, y, X_val, y_val)
    scores = model.decision_function(X_test)
    assert auc_score(y_test, scores) >= 0.98
    assert gmean_score(y_test, scores) >= 0.9


@pytest.mark.slow
def test_cardio_ten_epochs():
    data = prepare(load_table(odds_file("cardio")), 42)
    model = EALGAN(max_epochs=10, batch_size=128, **PORT_SETTINGS)
    model.fit(data.X["train"], data.y["train"], data.X["val"], data.y["val"])
    scores = model.decision_function(data.X["test"])
    assert auc_score(data.y["test"], scores) >= 0.95
    assert gmean_score(data.y["test"], scores) >= 0.85


def test_selected_epoch_is_restored_and_chosen_on_validation():
    X, y = separable_data(rows=300, features=5, seed=4)
    X_val, y_val = separable_data(rows=200, features=5, seed=5)
    model = EALGAN(max_epochs=6, batch_size=64, ensemble_num=4, select_ties="earliest",
                   **PORT_SETTINGS).fit(X, y, X_val, y_val)
    history = model.history_
    measures = [(r["val_auc"] * r["val_gmean"], r["val_auc"]) for r in history]
    best = max(range(len(history)), key=lambda i: (measures[i], -i))
    assert model.selected_epoch_ == history[best]["epoch"]
    scores = model.decision_function(X_val)
    assert auc_score(y_val, scores) == history[best]["val_auc"]
    assert gmean_score(y_val, scores) == history[best]["val_gmean"]


@pytest.mark.slow
def test_same_seed_same_scores_other_seed_other_scores():
    X, y = separable_data(rows=300, features=5, seed=6)
    settings = dict(max_epochs=3, batch_size=64, ensemble_num=3)
    first = EALGAN(seed=11, **settings).fit(X, y).decision_function(X)
    again = EALGAN(seed=11, **settings).fit(X, y).decision_function(X)
    other = EALGAN(seed=12, **settings).fit(X, y).decision_function(X)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_shuffle_off_trains_on_the_same_contiguous_batches_every_epoch(monkeypatch):
    from mindspore import Tensor
    from models.eal_gan import trainer
    X, y = separable_data(rows=100, features=3, seed=8)
    batches = []

    def recording(array, *args):
        """The trainer's Tensor, keeping a copy of every feature batch it is given."""
        if np.ndim(array) == 2 and np.shape(array)[1] == X.shape[1]:
            batches.append(np.array(array))
        return Tensor(array, *args)
    monkeypatch.setattr(trainer, "Tensor", recording)
    settings = dict(max_epochs=2, batch_size=32, ensemble_num=2, dim_z=4, select_top_k=1,
                    validation_fraction=0)
    EALGAN(shuffle=False, **settings).fit(X, y)
    in_order = [X[start:start + 32] for start in range(0, 100, 32)]
    in_order[-1] = X[np.resize(np.arange(96, 100), 32)]   # the short last batch, padded
    assert len(batches) == 8
    for got, expected in zip(batches, in_order + in_order):
        np.testing.assert_array_equal(got, expected.astype(np.float32))
    batches.clear()
    EALGAN(shuffle=True, **settings).fit(X, y)
    assert not np.array_equal(batches[0], in_order[0].astype(np.float32))


def test_batch_larger_than_the_data_is_clamped_and_labels_are_counted():
    X, y = separable_data(rows=150, features=4, seed=7)
    model = EALGAN(max_epochs=2, batch_size=100000, ensemble_num=2, active_rate=0.1,
                   validation_fraction=0).fit(X, y)
    assert len(model.history_) == 2
    # one batch of 150 rows per epoch, 15 queried in epoch 1 (the first rows), 15 more in epoch 2
    assert 15 < model.labels_queried_ <= 30


def test_bad_hyper_parameters_are_rejected():
    with pytest.raises(ValueError, match="active_rate"):
        _ = EALGAN(active_rate=0).config
    with pytest.raises(ValueError, match="dis_activation_func"):
        _ = EALGAN(dis_activation_func="gelu").config


def test_diverged_training_is_refused_not_saved():
    X, y = separable_data(rows=120, features=4, seed=14)
    with pytest.raises(TrainingDiverged, match="diverged"):
        EALGAN(max_epochs=2, batch_size=32, ensemble_num=2, dim_z=8, lr_g=1e30,
               lr_d=1e30).fit(X, y, X, y)
