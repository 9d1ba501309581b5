"""Loading, splitting and scaling."""
import os

import numpy as np
import pytest
import scipy.io

from conftest import odds_file
from dataloader import DataError, load_table, resolve_data_file
from preprocess import Standardizer, prepare, split_indices


def labels(anomalies, normals):
    return np.r_[np.ones(anomalies, int), np.zeros(normals, int)]


def test_split_sizes_and_stratification():
    y = labels(50, 950)
    train, val, test = split_indices(y, 42)
    assert (len(train), len(val), len(test)) == (600, 200, 200)
    assert len(np.unique(np.r_[train, val, test])) == 1000
    assert [int(y[p].sum()) for p in (train, val, test)] == [30, 10, 10]


def test_split_is_deterministic_per_seed():
    y = labels(40, 460)
    first, again, other = split_indices(y, 42), split_indices(y, 42), split_indices(y, 43)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[2], other[2])


@pytest.mark.parametrize("anomalies,normals,seed", [(13, 104, 7), (9, 31, 0), (101, 2000, 3)])
def test_uneven_tables_split_6_2_2_stratified_and_disjoint(anomalies, normals, seed):
    y = labels(anomalies, normals)
    rng = np.random.default_rng(seed)
    y = y[rng.permutation(len(y))]           # anomalies anywhere in the table
    parts = split_indices(y, seed)
    rows = len(y)
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(rows))
    # test: 20 % of the rows, validation: 25 % of the rest, both rounded up
    test_rows = int(np.ceil(0.2 * rows))
    val_rows = int(np.ceil(0.25 * (rows - test_rows)))
    assert [len(p) for p in parts] == [rows - test_rows - val_rows, val_rows, test_rows]
    for part in parts:   # each part's anomaly count within one row of its share
        assert abs(y[part].sum() - len(part) * anomalies / rows) <= 1


def test_too_few_anomalies_is_a_data_error():
    with pytest.raises(DataError, match="too few rows"):
        split_indices(labels(2, 100), 0)


def test_standardizer_uses_train_statistics_and_survives_constant_columns():
    X = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, 2.0], [5.0, 5.0, 4.0]])
    scaler = Standardizer.fit(X)
    np.testing.assert_allclose(scaler.mean, [3.0, 5.0, 3.0])
    np.testing.assert_allclose(scaler.scale, [np.sqrt(8 / 3), 1.0, 1.0])
    out = scaler.transform(np.array([[3.0, 7.0, np.nan]]))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, [[0.0, 2.0, 0.0]])
    again = Standardizer.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(again.transform(X), scaler.transform(X))


def test_prepare_counts_and_fills_missing_cells(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3))
    X[[1, 5, 9], 0] = np.nan
    path = tmp_path / "holes.mat"
    scipy.io.savemat(path, {"X": X, "y": labels(10, 90).reshape(-1, 1)})
    data = prepare(load_table(str(path)), 42)
    assert data.missing_filled == 3
    assert all(np.isfinite(part).all() for part in data.X.values())


@pytest.mark.parametrize("shape", [(-1, 1), (1, -1), (-1,)])
def test_mat_label_shapes(tmp_path, shape):
    path = tmp_path / "t.mat"
    scipy.io.savemat(path, {"X": np.eye(12), "y": labels(4, 8).reshape(shape)})
    table = load_table(str(path))
    assert table.X.shape == (12, 12) and table.y.tolist() == labels(4, 8).tolist()


def test_csv_with_label_column(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("a,b,Label\n1,2,0\n3,,1\n5,6,0\n")
    table = load_table(str(path))
    assert table.name == "mine" and table.feature_names == ["a", "b"]
    assert np.isnan(table.X[1, 1]) and table.y.tolist() == [0, 1, 0]


@pytest.mark.parametrize("content,match", [
    ("a,b\n1,2\n", "no label column"),
    ("a,label\nx,1\n1,0\n", "non-numeric value 'x'"),
    ("a,label\n1,2\n1,0\n", "labels must be 0"),
    ("a,label\n1,0\n2,0\n", "all labels are 0"),
    ("a,label\ninf,0\n1,1\n", "infinite"),
    ("", "empty"),
])
def test_bad_csv(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        load_table(str(path))


def test_mat_without_y_and_hdf5_mat(tmp_path):
    path = tmp_path / "nolabels.mat"
    scipy.io.savemat(path, {"X": np.eye(3)})
    with pytest.raises(DataError, match="no variable y"):
        load_table(str(path))
    hdf5 = tmp_path / "v73.mat"
    # a v7.3 header: 116 bytes of text, 8 of subsystem offset, version 0x0200, "IM"
    hdf5.write_bytes(b"MATLAB 7.3 MAT-file, HDF5 schema 1.00 .".ljust(116, b" ")
                     + b"\x00" * 8 + b"\x00\x02IM" + b"\x00" * 512)
    with pytest.raises(DataError, match="v7.3"):
        load_table(str(hdf5))


def test_resolve_data_file(tmp_path):
    with pytest.raises(DataError, match="get_data.sh glass"):
        resolve_data_file(str(tmp_path), "glass")
    with pytest.raises(DataError, match="unknown dataset 'nosuch'"):
        resolve_data_file(str(tmp_path), "nosuch")
    (tmp_path / "own.csv").write_text("a,label\n1,0\n")
    assert resolve_data_file(str(tmp_path), "own") == os.path.join(str(tmp_path), "own.csv")


def test_real_odds_file_matches_its_description():
    table = load_table(odds_file("glass"))
    assert table.X.shape == (214, 9) and int(table.y.sum()) == 9
