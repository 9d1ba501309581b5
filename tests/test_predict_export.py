"""predict.py and export.py on a small model trained from a named-column CSV."""
import os

import mindspore as ms
import numpy as np
import pandas as pd
import pytest
import scipy.io
from mindspore import Tensor, nn

import export
import predict
import train_eval
from conftest import separable_data
from models import EALGAN, AutoEncoder
from preprocess import Standardizer

NAMES = ["width", "height", "depth", "mass"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """weights/mine trained on data/mine.csv (columns width..mass, label)."""
    root = tmp_path_factory.mktemp("predict")
    X, y = separable_data(rows=240, features=4)
    X = X * [1, 10, 100, 1000] + [0, 5, -5, 50]   # columns on different scales
    (root / "data").mkdir()
    pd.DataFrame(X, columns=NAMES).assign(label=y).to_csv(root / "data" / "mine.csv", index=False)
    code = train_eval.main(["--data_name", "mine", "--data_path", str(root / "data"),
                            "--weights_dir", str(root / "weights"), "--results_dir",
                            str(root / "results"), "--max_epochs", "2", "--batch_size", "64",
                            "--ensemble_num", "3", "--print", "False", "--plots", "False",
                            "--scaling", "standard"])   # Standardizer is the reference below
    assert code == 0
    weights = str(root / "weights" / "mine")
    model = EALGAN.load(weights)
    scaler = Standardizer.from_dict(model.meta_["scaler"])
    return root, weights, X, model.decision_function(scaler.transform(X))


def scores_of(path):
    return pd.read_csv(path)


def test_csv_with_header_in_any_order_and_a_label_column(trained, tmp_path):
    root, weights, X, want = trained
    frame = pd.DataFrame(X, columns=NAMES)[["mass", "width", "depth", "height"]]
    frame.insert(2, "label", 0)
    frame.to_csv(tmp_path / "new.csv", index=False)
    assert predict.main(["--weights", weights, "--input", str(tmp_path / "new.csv"),
                         "--threshold", "0.3"]) == 0
    out = scores_of(tmp_path / "new_scores.csv")
    np.testing.assert_allclose(out["score"], want, atol=1e-6)
    np.testing.assert_array_equal(out["label"], (out["score"] >= 0.3).astype(int))


def test_other_detectors_use_their_own_threshold(trained, tmp_path):
    root, _, X, _ = trained
    assert train_eval.main(["--model", "ae", "--data_name", "mine", "--data_path",
                            str(root / "data"), "--weights_dir", str(tmp_path / "weights"),
                            "--results_dir", str(tmp_path / "results"), "--max_epochs", "2",
                            "--print", "False", "--plots", "False", "--scaling", "standard"]) == 0
    weights = str(tmp_path / "weights" / "ae" / "mine")
    model = AutoEncoder.load(weights)
    want = model.decision_function(Standardizer.from_dict(model.meta_["scaler"]).transform(X))
    np.savetxt(tmp_path / "plain.csv", X, delimiter=",")
    assert predict.main(["--weights", weights, "--input", str(tmp_path / "plain.csv")]) == 0
    out = scores_of(tmp_path / "plain_scores.csv")
    np.testing.assert_allclose(out["score"], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out["label"], (want >= model.threshold_).astype(int))
    assert 0 < out["label"].sum() < len(X)   # the validation threshold, not 0.5 on raw errors
    assert export.main(["--weights", weights, "--file_name", str(tmp_path / "ae")]) == 2


def test_csv_without_header_and_mat_input(trained, tmp_path):
    root, weights, X, want = trained
    np.savetxt(tmp_path / "plain.csv", X, delimiter=",")
    scipy.io.savemat(tmp_path / "rows.mat", {"X": X})
    for name in ("plain.csv", "rows.mat"):
        output = tmp_path / f"{name}.out.csv"
        assert predict.main(["--weights", weights, "--input", str(tmp_path / name),
                             "--output", str(output)]) == 0
        np.testing.assert_allclose(scores_of(output)["score"], want, atol=1e-6)


@pytest.mark.parametrize("content,match", [
    ("width,height,depth\n1,2,3\n", "lacks the model's feature column(s) mass"),
    ("1,2,3\n", "has 3 columns but the model expects 4"),
    ("width,height,depth,mass\n1,2,3,4\n1,x,3,4\n", "non-numeric value 'x' in column 'height'"),
    ("width,height,depth,mass\n1,2,3,inf\n", "infinite value in data row 1"),
    ("", "is empty"),
    ("width,height,depth,mass\n", "no data rows"),
])
def test_bad_input_leaves_no_output(trained, tmp_path, capsys, content, match):
    _, weights, _, _ = trained
    (tmp_path / "bad.csv").write_text(content)
    code = predict.main(["--weights", weights, "--input", str(tmp_path / "bad.csv")])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(error) == 1 and match in error[0], error
    assert sorted(os.listdir(tmp_path)) == ["bad.csv"]


def test_broken_weights_folders(trained, tmp_path, capsys):
    _, weights, X, _ = trained
    np.savetxt(tmp_path / "plain.csv", X, delimiter=",")
    assert predict.main(["--weights", str(tmp_path / "nothing"), "--input",
                         str(tmp_path / "plain.csv")]) == 2
    assert "no model directory" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("meta.json", "generator.ckpt"):
        (broken / name).write_bytes(open(os.path.join(weights, name), "rb").read())
    assert predict.main(["--weights", str(broken), "--input", str(tmp_path / "plain.csv")]) == 2
    assert "incomplete" in capsys.readouterr().err
    meta = (broken / "meta.json").read_text().replace('"scaler"', '"scaler_gone"')
    (broken / "meta.json").write_text(meta)
    assert predict.main(["--weights", str(broken), "--input", str(tmp_path / "plain.csv")]) == 2
    assert "no scaler" in capsys.readouterr().err
    assert not (tmp_path / "plain_scores.csv").exists()


def test_mindir_round_trip(trained, tmp_path):
    _, weights, X, want = trained
    assert export.main(["--weights", weights, "--file_format", "MINDIR", "--file_name",
                        str(tmp_path / "mine")]) == 0
    graph = nn.GraphCell(ms.load(str(tmp_path / "mine.mindir")))
    rows = X.astype(np.float32)
    np.testing.assert_allclose(graph(Tensor(rows)).asnumpy(), want, atol=1e-6)
    np.testing.assert_allclose(graph(Tensor(rows[:5])).asnumpy(), want[:5], atol=1e-6)


def test_export_errors(trained, tmp_path, capsys):
    _, weights, _, _ = trained
    assert export.main(["--weights", weights, "--file_format", "ONNX", "--file_name",
                        str(tmp_path / "x")]) == 2
    assert "file_format 'ONNX' is not supported" in capsys.readouterr().err
    assert export.main(["--weights", str(tmp_path / "none")]) == 2
    assert os.listdir(tmp_path) == []
