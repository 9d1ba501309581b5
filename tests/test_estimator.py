"""The detectors as scikit-learn estimators: clone, Pipeline, cross_val_score, PyOD's attributes."""
import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import flags, run_cli, separable_data
from dataloader import load_table
from models import EALGAN, AutoEncoder
from models.core.detector import RUNTIME_FIELDS
from models.utils.metrics import auc_score
from preprocess import prepare

# select_top_k=1: one epoch, no merged snapshot ensemble to compile a second scorer for
SMALL = dict(max_epochs=3, batch_size=32, ensemble_num=2, dim_z=8, select_top_k=1)


@pytest.mark.parametrize("detector,settings", [(EALGAN, SMALL),
                                               (AutoEncoder, dict(max_epochs=2, batch_size=32))])
def test_settings_are_constructor_keywords_and_clone_round_trips(detector, settings):
    model = detector(seed=5, **settings)
    params = model.get_params()
    assert params["seed"] == 5 and all(params[k] == v for k, v in settings.items())
    assert set(params) == {f for f in model.config_class.__dataclass_fields__} | set(RUNTIME_FIELDS)
    copy = clone(model)
    assert copy is not model and copy.get_params() == params
    assert copy.set_params(seed=6).get_params()["seed"] == 6 and model.seed == 5
    with pytest.raises(TypeError, match="no setting lr"):
        detector(lr=0.1)
    with pytest.raises(ValueError, match="validation_fraction"):
        _ = detector(validation_fraction=1.0).config   # checked when used, as in scikit-learn


def test_fit_holds_out_its_own_validation_part_and_sets_pyod_attributes():
    X, y = separable_data(rows=400, features=5, seed=21)
    model = EALGAN(**SMALL).fit(X, y)
    # the validation part is a stratified quarter of (X, y): it chose the epochs
    assert model.validation_scores_.shape == (SMALL["max_epochs"], 100)
    assert model.decision_scores_.shape == (400,)
    np.testing.assert_array_equal(model.decision_scores_, model.decision_function(X))
    np.testing.assert_array_equal(model.labels_, (model.decision_scores_ >= 0.5).astype(int))
    np.testing.assert_array_equal(model.labels_, model.predict(X))
    proba = model.predict_proba(X)
    assert proba.shape == (400, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(proba[:, 1], model.decision_scores_)
    assert model.threshold_ == 0.5 and list(model.classes_) == [0, 1]


def test_family_predict_proba_is_the_training_range_scaled_score():
    X, y = separable_data(rows=300, features=4, seed=22)
    model = AutoEncoder(max_epochs=2, batch_size=32).fit(X, y)
    low, high = model.score_range_
    want = np.clip((model.decision_function(X) - low) / (high - low), 0, 1)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], want, rtol=1e-6)
    np.testing.assert_allclose(proba[:, 0], 1 - want, rtol=1e-6)
    np.testing.assert_array_equal(model.labels_, model.decision_scores_ >= model.threshold_)


@pytest.mark.slow
def test_pipeline_fits_and_scores_in_cross_validation():
    X, y = separable_data(rows=450, features=5, seed=23)
    X = 100.0 * X + 7.0   # far from standard scale: the scaler matters
    # each fold fits the pipeline on two thirds and scores the rest by decision_function
    scores = cross_val_score(make_pipeline(StandardScaler(), EALGAN(**SMALL)), X, y,
                             scoring="roc_auc", cv=3)
    assert scores.shape == (3,) and scores.min() >= 0.9


@pytest.mark.slow
def test_estimator_reproduces_train_eval_bit_for_bit(workspace):
    trained = run_cli(*flags(workspace, "--data_name", "toy", "--seed", 44))
    assert trained.returncode == 0, trained.stderr
    meta = json.loads((workspace / "weights" / "toy" / "meta.json").read_text())
    data = prepare(load_table(str(workspace / "data" / "toy.mat")), 44)
    model = EALGAN(**meta["config"]).fit(data.X["train"], data.y["train"], data.X["val"],
                                         data.y["val"])
    saved = EALGAN.load(workspace / "weights" / "toy")
    np.testing.assert_array_equal(model.decision_function(data.X["test"]),
                                  saved.decision_function(data.X["test"]))
    assert auc_score(data.y["test"], model.decision_function(data.X["test"])) == \
        meta["test_auc"]
