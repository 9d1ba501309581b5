"""The scalings (models/core/scaling.py): their numbers against independent references, that
they are fitted on training rows only, and that predict.py and export.py apply them alike."""
import mindspore as ms
import numpy as np
import pandas as pd
import pytest
from mindspore import Tensor, nn
from scipy import stats
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler

import export
import predict
import train_eval
from config import ConfigError, resolve_settings
from conftest import separable_data
from dataloader import Table
from models import EALGAN, ColumnScaler, load_model, save_model
from models.core.scaling import (SCALINGS, QuantileScaling, RobustScaling, ScalingError,
                                 fit_scaling, scaling_from_dict)
from preprocess import prepare, split_indices

NAMES = ["width", "height", "depth", "mass"]


def columns(rows=200, seed=0):
    """A log-normal (skewed, heavy-tailed) column, a 0/1 flag with 70 % zeros, a normal one."""
    rng = np.random.default_rng(seed)
    flag = (np.arange(rows) >= 0.7 * rows).astype(float)
    return np.c_[rng.lognormal(0, 1.5, rows), rng.permutation(flag), rng.normal(5, 2, rows)]


def test_robust_matches_scikit_learn_and_falls_back_to_the_spread():
    X = columns()
    robust = RobustScaling.fit(X)
    reference = RobustScaler().fit(X[:, [0, 2]])
    np.testing.assert_allclose(robust.transform(X)[:, [0, 2]], reference.transform(X[:, [0, 2]]),
                               rtol=1e-5, atol=1e-5)
    # a constant column is divided by 1; a rare flag's IQR is 0: divided by its std instead
    rare = np.r_[np.zeros(9), 1.0]
    assert np.percentile(rare, 75) - np.percentile(rare, 25) == 0
    fallback = RobustScaling.fit(np.c_[np.zeros(10), rare])
    np.testing.assert_allclose(fallback.scale, [1.0, np.std(rare)])


def test_quantile_gives_training_rows_their_normal_scores():
    X = columns(rows=200)
    scaled = QuantileScaling.fit(X).transform(X)
    n = len(X)
    for j in (0, 2):   # continuous: the i-th smallest row is numpy's quantile i / (n - 1),
        # so its score is Phi^-1 of that, within the outermost levels (k + 1/2) / n
        share = (stats.rankdata(X[:, j]) - 1) / (n - 1)
        inner = (share > 0.05) & (share < 0.95)   # the tails bend more between knots
        assert np.abs(scaled[inner, j] - stats.norm.ppf(share[inner])).max() < 0.02
        np.testing.assert_allclose([scaled[:, j].min(), scaled[:, j].max()],
                                   stats.norm.ppf([0.5 / n, 1 - 0.5 / n]), rtol=1e-6)
        assert np.all(np.diff(scaled[np.argsort(X[:, j]), j]) >= 0)   # order kept
    # a flag: each value gets the mean normal score of its share, E[Z | Z < Phi^-1(0.7)]
    cut = stats.norm.ppf(0.7)
    zeros, ones = -stats.norm.pdf(cut) / 0.7, stats.norm.pdf(cut) / 0.3
    np.testing.assert_allclose(scaled[X[:, 1] == 0, 1], zeros, atol=0.01)
    np.testing.assert_allclose(scaled[X[:, 1] == 1, 1], ones, atol=0.01)


def test_quantile_clamps_new_values_and_sends_missing_cells_to_zero():
    X = columns()
    q = QuantileScaling.fit(X)
    new = np.array([[X[:, 0].max() * 100, 7.0, np.nan], [-1e6, np.nan, X[:, 2].min() - 50]])
    scaled = q.transform(new)
    assert scaled[0, 0] == pytest.approx(q.scores[0][-1])
    assert scaled[1, 0] == pytest.approx(q.scores[0][0])
    assert scaled[0, 2] == 0 and scaled[1, 1] == 0
    for rows in (20, 33, 100):   # 33 and 100 levels' scores do not sum to 0 in floating point
        assert QuantileScaling.fit(np.c_[np.full(rows, 3.0)]).transform([[3.0], [9.0]]) \
            .tolist() == [[0.0], [0.0]]


@pytest.mark.parametrize("kind", SCALINGS)
def test_records_round_trip_and_refuse_what_they_do_not_know(kind):
    X = columns()
    scaler = fit_scaling(kind, X)
    again = scaling_from_dict(scaler.to_dict())
    assert type(again) is type(scaler)
    np.testing.assert_array_equal(again.transform(X), scaler.transform(X))
    with pytest.raises(ScalingError, match="unknown scaling 'rank'"):
        scaling_from_dict({**scaler.to_dict(), "kind": "rank"})
    with pytest.raises(ScalingError, match="4 features given"):
        scaler.transform(np.zeros((2, 4)))


def damaged(record):
    """Records of the same kind that cannot be applied: a key missing, lengths that
    differ, values that are not numbers, knots out of order."""
    out = []
    for key in record:
        if key != "kind":
            out.append({k: v for k, v in record.items() if k != key})
            out.append({**record, key: record[key][:-1]})
            out.append({**record, key: "abc"})
    if "knots" in record:
        out.append({**record, "knots": [at[::-1] for at in record["knots"]]})
    else:
        out.append({**record, "scale": [0.0] * len(record["scale"])})
    return out


@pytest.mark.parametrize("kind", SCALINGS)
def test_damaged_records_are_one_scaling_error(kind):
    record = fit_scaling(kind, columns()).to_dict()
    for bad in damaged(record) + [None, []]:
        with pytest.raises(ScalingError):
            scaling_from_dict(bad)


@pytest.mark.parametrize("kind", SCALINGS)
def test_fitted_on_the_training_part_only(kind):
    X, y = columns(rows=300), (np.arange(300) % 10 == 0).astype(int)
    table = Table("t", "t.mat", X, y)
    train, _, test = split_indices(y, 42)
    changed = X.copy()
    changed[test] *= 1000   # the test rows change; the transform must not
    for data in (prepare(table, 42, scaling=kind),
                 prepare(Table("t", "t.mat", changed, y), 42, scaling=kind)):
        np.testing.assert_array_equal(data.X["train"], fit_scaling(kind, X[train])
                                      .transform(X[train]))


def test_an_unknown_scaling_is_refused_by_the_command_line():
    assert resolve_settings(["--scaling", "quantile"]).scaling == "quantile"
    with pytest.raises(ConfigError, match="unknown scaling 'log'; choose one of standard"):
        resolve_settings(["--scaling", "log"])


def test_exported_piecewise_linear_graph_equals_numpy():
    X = columns()
    q = QuantileScaling.fit(X)
    rows = np.r_[columns(rows=50, seed=1) * [3, 1, 2], [[np.nan, -1, 1e9]], X[:5]]
    graph = export.PiecewiseLinearScaling(*q.padded())
    np.testing.assert_allclose(graph(Tensor(rows.astype(np.float32))).asnumpy(),
                               q.transform(rows.astype(np.float32)), atol=1e-6)


@pytest.fixture(scope="module")
def trained_quantile(tmp_path_factory):
    """weights/mine trained with --scaling quantile on a CSV with skewed columns."""
    root = tmp_path_factory.mktemp("quantile")
    X, y = separable_data(rows=240, features=4)
    X = np.exp(X) * [1, 10, 100, 1000]   # skewed, on different scales
    (root / "data").mkdir()
    pd.DataFrame(X, columns=NAMES).assign(label=y).to_csv(root / "data" / "mine.csv", index=False)
    code = train_eval.main(["--data_name", "mine", "--data_path", str(root / "data"),
                            "--weights_dir", str(root / "weights"), "--results_dir",
                            str(root / "results"), "--max_epochs", "2", "--batch_size", "64",
                            "--ensemble_num", "3", "--print", "False", "--plots", "False",
                            "--scaling", "quantile"])
    assert code == 0
    return root, str(root / "weights" / "mine"), X


def test_predict_and_export_apply_the_recorded_quantile_scaling(trained_quantile, tmp_path):
    root, weights, X = trained_quantile
    model = EALGAN.load(weights)
    assert model.meta_["scaler"]["kind"] == "quantile"
    train = split_indices(separable_data(rows=240, features=4)[1], 42)[0]
    want = model.decision_function(QuantileScaling.fit(X[train], NAMES).transform(X))
    pd.DataFrame(X, columns=NAMES).to_csv(tmp_path / "rows.csv", index=False)
    assert predict.main(["--weights", weights, "--input", str(tmp_path / "rows.csv"),
                         "--output", str(tmp_path / "scores.csv")]) == 0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "scores.csv")["score"], want, atol=2e-6)
    assert export.main(["--weights", weights, "--file_name", str(tmp_path / "mine")]) == 0
    graph = nn.GraphCell(ms.load(str(tmp_path / "mine.mindir")))
    np.testing.assert_allclose(graph(Tensor(X.astype(np.float32))).asnumpy(), want, atol=1e-6)


@pytest.mark.parametrize("kind", SCALINGS)
def test_a_python_pipeline_with_a_column_scaler_ships_like_the_command_line(kind, tmp_path):
    X, y = separable_data(rows=240, features=4, seed=3)
    X = pd.DataFrame(np.exp(X) * [1, 10, 100, 1000], columns=NAMES)
    pipe = make_pipeline(ColumnScaler(kind),
                         EALGAN(max_epochs=2, batch_size=64, ensemble_num=3)).fit(X, y)
    want = pipe.decision_function(X)
    save_model(pipe, tmp_path / "mine")
    loaded = load_model(tmp_path / "mine")
    assert isinstance(loaded.steps[0][1], ColumnScaler) and loaded.steps[0][1].scaling == kind
    np.testing.assert_array_equal(loaded.decision_function(X), want)
    gap = X.copy()
    gap.iloc[0, 1] = np.nan   # the saved ColumnScaler still turns a missing cell into 0
    np.testing.assert_array_equal(loaded.decision_function(gap), pipe.decision_function(gap))
    X.to_csv(tmp_path / "rows.csv", index=False)
    assert predict.main(["--weights", str(tmp_path / "mine"), "--input",
                         str(tmp_path / "rows.csv"), "--output", str(tmp_path / "s.csv")]) == 0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "s.csv")["score"], want, atol=2e-6)


def test_a_column_scaler_of_an_unknown_kind_is_refused():
    with pytest.raises(ScalingError, match="unknown scaling 'log'"):
        ColumnScaler("log").fit(columns())
