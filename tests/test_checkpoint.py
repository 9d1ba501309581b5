"""Save -> load round trips, incomplete directories, atomic replacement."""
import json
import os

import numpy as np
import pytest

from conftest import separable_data
from models import EALGAN
from models.utils import checkpoint
from models.utils.checkpoint import CheckpointError


@pytest.fixture(scope="module")
def trained():
    X, y = separable_data(rows=200, features=4)
    return EALGAN(max_epochs=2, batch_size=64, ensemble_num=3, dim_z=8).fit(X, y, X, y), X


def test_round_trip_gives_bit_identical_scores(trained, tmp_path):
    model, X = trained
    model.save(tmp_path / "m", {"seed": 42})
    loaded = EALGAN.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    np.testing.assert_array_equal(loaded.member_lr_, model.member_lr_)
    assert loaded.selected_epoch_ == model.selected_epoch_
    assert loaded.meta_["seed"] == 42 and loaded.config == model.config
    assert len(loaded.history_) == len(model.history_) == 2
    for saved, kept in zip(loaded.history_, model.history_):
        assert saved.keys() == kept.keys()
        for key, value in kept.items():
            assert saved[key] == pytest.approx(value), key
    assert sorted(os.listdir(tmp_path / "m")) == ["discriminators.ckpt", "generator.ckpt",
                                                  "history.csv", "meta.json"]


def test_wrong_feature_count_is_a_clear_error(trained):
    model, X = trained
    with pytest.raises(ValueError, match="X has 5 features, but EALGAN is expecting 4 features"):
        model.decision_function(np.zeros((3, 5)))


def test_incomplete_or_foreign_directories(trained, tmp_path):
    model, _ = trained
    with pytest.raises(CheckpointError, match="no model directory"):
        EALGAN.load(tmp_path / "absent")
    model.save(tmp_path / "m")
    os.remove(tmp_path / "m" / "discriminators.ckpt")
    with pytest.raises(CheckpointError, match="incomplete"):
        EALGAN.load(tmp_path / "m")
    model.save(tmp_path / "other")
    meta = json.loads((tmp_path / "other" / "meta.json").read_text())
    meta["n_features"] = 7
    (tmp_path / "other" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="shape"):
        EALGAN.load(tmp_path / "other")


def test_failed_save_keeps_the_previous_model(trained, tmp_path, monkeypatch):
    model, X = trained
    model.save(tmp_path / "m", {"version": 1})
    calls = []

    def failing_save(cell, path):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        open(path, "wb").close()

    monkeypatch.setattr(checkpoint.ms, "save_checkpoint", failing_save)
    with pytest.raises(OSError):
        model.save(tmp_path / "m", {"version": 2})
    assert json.loads((tmp_path / "m" / "meta.json").read_text())["version"] == 1
    assert os.listdir(tmp_path) == ["m"]  # no staging folder left behind
    monkeypatch.undo()
    np.testing.assert_array_equal(EALGAN.load(tmp_path / "m").decision_function(X),
                                  model.decision_function(X))
