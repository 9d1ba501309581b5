"""EAL-GAN's bags and refit settings: what they train, against fits made by hand."""
import numpy as np
import pytest

from conftest import separable_data
from models import EALGAN

SMALL = dict(train_steps=120, batch_size=64, ensemble_num=3, select_top_k=3)


@pytest.fixture(scope="module")
def parts():
    X, y = separable_data(rows=400, features=5, seed=31)
    Xv, yv = separable_data(rows=120, features=5, seed=32)
    Xt, _ = separable_data(rows=50, features=5, seed=33)
    return X, y, Xv, yv, Xt


def test_bags_average_the_fits_of_consecutive_seeds(parts, tmp_path):
    X, y, Xv, yv, Xt = parts
    bagged = EALGAN(bags=2, seed=7, **SMALL).fit(X, y, Xv, yv)
    alone = [EALGAN(seed=seed, **SMALL).fit(X, y, Xv, yv) for seed in (7, 8)]
    # every bag keeps select_top_k epochs, so the mean over all members is the bags' mean
    np.testing.assert_allclose(bagged.decision_function(Xt),
                               np.mean([m.decision_function(Xt) for m in alone], axis=0),
                               atol=1e-6)
    assert bagged.snapshot_epochs_ == alone[0].snapshot_epochs_ + alone[1].snapshot_epochs_
    assert bagged.bag_seeds_ == [7, 8]
    bagged.save(tmp_path / "bagged")
    np.testing.assert_array_equal(EALGAN.load(tmp_path / "bagged").decision_function(Xt),
                                  bagged.decision_function(Xt))


def test_refit_trains_on_every_labelled_row_and_keeps_the_chosen_epochs(parts):
    X, y, Xv, yv, Xt = parts
    chosen = EALGAN(seed=5, **SMALL).fit(X, y, Xv, yv)
    refitted = EALGAN(seed=5, refit=True, **SMALL).fit(X, y, Xv, yv)
    assert refitted.snapshot_epochs_ == chosen.snapshot_epochs_
    # the refit runs up to the last chosen epoch on the training and validation rows
    assert len(refitted.refit_history_) == max(chosen.snapshot_epochs_)
    assert refitted.labels_queried_ == len(X) + len(Xv)
    scores = refitted.decision_function(Xt)
    assert not np.allclose(scores, chosen.decision_function(Xt), atol=1e-4)
    again = EALGAN(seed=5, refit=True, **SMALL).fit(X, y, Xv, yv)
    np.testing.assert_array_equal(again.decision_function(Xt), scores)


def test_a_refit_of_one_epoch_is_a_plain_fit_on_every_row_up_to_it(parts):
    X, y, Xv, yv, Xt = parts
    one = {**SMALL, "select_top_k": 1}
    refitted = EALGAN(seed=5, refit=True, **one).fit(X, y, Xv, yv)
    epoch = refitted.snapshot_epochs_[0]
    # by hand: no validation keeps the last epoch; same seed, batch and rows
    by_hand = EALGAN(seed=5, validation_fraction=0, **{**one, "max_epochs": epoch}).fit(
        np.concatenate((X, Xv)), np.concatenate((y, yv)))
    np.testing.assert_array_equal(refitted.decision_function(Xt), by_hand.decision_function(Xt))


def test_refit_needs_a_validation_part(parts):
    X, y, *_ = parts
    with pytest.raises(ValueError, match="refit needs a validation part"):
        EALGAN(refit=True, validation_fraction=0, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="bags must be at least 1"):
        EALGAN(bags=0, **SMALL).fit(X, y)
