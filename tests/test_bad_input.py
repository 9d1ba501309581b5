"""Bad input, one row per case: exit code 2, one `error:` line naming the problem, no
traceback, and the weights and results folders byte-identical before and after.

The command-line entry points run in this process (their `main` returns the
exit code), except where a signal or a second process is the point.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse

import export
import predict
import train_eval
from conftest import ROOT, separable_data, snapshot, write_mat
from models import EALGAN
from models.core.detector import ModelTooLarge
from models.core.scaling import scaling_from_dict
from models.eal_gan import memory
from models.eal_gan.networks import DiscriminatorEnsemble, Generator
from models.utils import checkpoint, runtime
from models.utils.results import dataset_row, record_run, run_row


def assert_refused(capsys, code, match, workspace=None, before=None):
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if line.strip()]
    assert code == 2, out.out + out.err
    assert len(lines) == 1 and lines[0].startswith("error: "), out.err
    assert match in lines[0], lines[0]
    if workspace is not None:
        assert snapshot(workspace) == before


def train_flags(ws, *extra):
    return ["--data_path", str(ws / "data"), "--weights_dir", str(ws / "weights"),
            "--results_dir", str(ws / "results"), "--max_epochs", "2", "--batch_size", "64",
            "--ensemble_num", "2", "--dim_z", "8", "--print", "False", "--plots", "False",
            *map(str, extra)]


def write_bytes(path, content):
    path.write_bytes(content)
    return path


def garbage_mat(ws, name, cut):
    """A copy of toy.mat cut to `cut` bytes (None: random bytes instead)."""
    data = (ws / "data" / "toy.mat").read_bytes()
    body = np.random.default_rng(0).bytes(400) if cut is None else data[:cut]
    return write_bytes(ws / "data" / f"{name}.mat", body)


def yaml_config(ws, text):
    return write_bytes(ws / "settings.yaml", text.encode() if isinstance(text, str) else text)


# (id, set-up(ws) -> extra flags, expected words in the error line)
TRAINING_CASES = [
    ("truncated_mat", lambda ws: ["--data_name", garbage_mat(ws, "cut", 150).stem],
     "not a readable MATLAB .mat file"),
    ("empty_mat", lambda ws: ["--data_name", garbage_mat(ws, "empty", 0).stem],
     "not a readable MATLAB .mat file"),
    ("garbage_mat", lambda ws: ["--data_name", garbage_mat(ws, "noise", None).stem],
     "not a readable MATLAB .mat file"),
    ("complex_X", lambda ws: write_mat(ws / "data" / "cplx.mat", (1 + 1j) * np.ones((40, 3)),
                                       np.r_[np.ones(8), np.zeros(32)]) or
     ["--data_name", "cplx"], "complex numbers"),
    ("string_labels", lambda ws: pd.DataFrame({"a": range(40), "label": ["yes"] * 8 + ["no"] * 32})
     .to_csv(ws / "data" / "words.csv", index=False) or ["--data_name", "words"],
     "found 'yes', 'no'"),
    ("yaml_bool", lambda ws: ["--data_name", "toy", "--config", yaml_config(ws, "plots: maybe")],
     "plots: expected True or False"),
    ("yaml_model", lambda ws: ["--data_name", "toy", "--config", yaml_config(ws, "model: foo")],
     "unknown model 'foo'"),
    ("yaml_int", lambda ws: ["--data_name", "toy", "--config", yaml_config(ws, "threads: two")],
     "threads: expected an integer"),
    ("yaml_fraction", lambda ws: ["--data_name", "toy",
                                  "--config", yaml_config(ws, "ensemble_num: 2.5")],
     "ensemble_num: expected an integer"),
    ("yaml_number_name", lambda ws: ["--config", yaml_config(ws, "data_name: 123")],
     "unknown dataset '123'"),
    ("yaml_binary", lambda ws: ["--data_name", "toy",
                                "--config", yaml_config(ws, b"\x89PNG\r\n\x1a\n\x00\xff\xfe")],
     "not a YAML text file"),
    ("threads_zero", lambda ws: ["--data_name", "toy", "--threads", "0"],
     "threads must be at least 1"),
    ("device_id_negative", lambda ws: ["--data_name", "toy", "--device_id", "-1"],
     "device_id must be 0 or more"),
    ("lr_infinite", lambda ws: ["--data_name", "toy", "--lr_d", "inf"],
     "lr_d must be a positive finite number"),
    ("select_ties_unknown", lambda ws: ["--data_name", "toy", "--select_ties", "latest"],
     "unknown select_ties 'latest'; choose one of earliest, confidence"),
    ("shuffle_not_a_boolean", lambda ws: ["--data_name", "toy", "--shuffle", "sometimes"],
     "shuffle"),
    ("seed_negative", lambda ws: ["--data_name", "toy", "--seed", "-1"],
     "seed: expected a seed in [0, 2**32 - 1]"),
    ("seed_huge", lambda ws: ["--data_name", "toy", "--seed", str(2 ** 40)],
     "expected a seed in [0, 2**32 - 1]"),
    ("plots_folder_is_a_file",
     lambda ws: write_bytes(ws / "results" / "plots", b"x") and ["--data_name", "toy",
                                                                  "--plots", "True"],
     "is a file, not a folder"),
    ("resume_meta_not_an_object",
     lambda ws: resume_with_meta(ws, [1, 2, 3]), "does not describe a model"),
    ("resume_meta_without_scaler",
     lambda ws: resume_with_meta(ws, {"model": "eal_gan", "n_features": 5, "seed": 42,
                                      "config": {}}), "lacks scaler"),
    ("second_label_column", lambda ws: csv_file(ws, "twice", "a,b,label,label\n"),
     "names column(s) 'label' more than once"),
    ("repeated_feature_name", lambda ws: csv_file(ws, "dup", "a,a,label\n"),
     "names column(s) 'a' more than once"),
    ("repeated_after_spaces", lambda ws: csv_file(ws, "spaced", "a, a ,label\n"),
     "names column(s) 'a' more than once"),
    ("pandas_index_column", lambda ws: csv_file(ws, "indexed", ",a,b,label\n", index=True),
     "header column 1 has no name"),
    ("unnamed_column", lambda ws: csv_file(ws, "unnamed", "Unnamed: 0,a,label\n"),
     "header column 1 has no name"),
    ("column_near_the_float_limit", lambda ws: big_column(ws, lambda i: f"{1e307 * (1 + i % 3)}"),
     "column 'big': values up to 3e+307 overflow the scaling"),
    # the z-score of such a cell outside the training part is beyond float32; the quantile
    # transform gives it the outermost score (tests/test_scaling.py)
    ("one_cell_of_1e308", lambda ws: big_column(ws, lambda i: "1e308" if i == 5 else str(i % 4))
     + ["--scaling", "standard"], "column 'big'"),
    ("cells_of_plus_and_minus_1e308",
     lambda ws: big_column(ws, lambda i: "1e308" if i == 5 else "-1e308" if i == 6 else "1")
     + ["--scaling", "standard"], "column 'big'"),
    ("mat_column_near_the_float_limit",
     lambda ws: write_mat(ws / "data" / "big.mat", np.c_[separable_data(240, 5)[0],
                                                           np.full(240, 1e307)],
                          separable_data(240, 5)[1]) or ["--data_name", "big"],
     "feature column 6: values up to 1e+307 overflow the scaling"),
    ("value_beyond_the_float_range", lambda ws: big_column(ws, lambda i: "1e400" if i == 9
                                                           else "1"),
     "value '1e400' beyond the float range (+-1.798e+308) in column 'big', line 11"),
    ("own_csv_against_a_shipped_style_model",
     lambda ws: saved_meta(ws, {"data_file": "data/toy.mat", "split": {"train": 144, "val": 48,
                                                                       "test": 48},
                                "n_features": 5}) or toy_csv(ws),
     "holds a model trained on other data (data/toy.mat)"),
    ("other_content_against_a_hashed_model",
     lambda ws: saved_meta(ws, {"data_file": "toy.mat", "data_sha256": "0" * 64})
     or ["--data_name", "toy"], "pass --overwrite True to replace it"),
    ("other_data_against_a_results_row",
     lambda ws: results_row(ws, samples=300) or ["--data_name", "toy"],
     "holds a EAL-GAN row for toy seed 42 made from other data (300 rows"),
    ("other_content_against_a_row_with_a_hash",
     lambda ws: hashed_row(ws) or ["--data_name", "toy"], "made from other data (another "
     "content hash)"),
    ("resume_against_a_results_row",
     lambda ws: results_row(ws, samples=300) or resume_with_meta(ws, None),
     "made from other data"),
    ("dataset_named_like_a_detector",
     lambda ws: toy_csv(ws, "ganomaly"), "the folder of the ganomaly detector's models"),
    ("weights_target_not_a_model_folder",
     lambda ws: (ws / "weights" / "toy").mkdir(parents=True) or
     write_bytes(ws / "weights" / "toy" / "notes.txt", b"mine") and ["--data_name", "toy"],
     "exists but is not a model folder"),
    ("results_inside_the_model_folder",
     lambda ws: ["--data_name", "toy", "--results_dir", ws / "weights" / "toy" / "results"],
     "lies inside the model folder"),
    ("csv_too_wide_refused_from_its_header",
     lambda ws: (ws / "data" / "wide.csv").write_text(
         ",".join(f"f{i}" for i in range(6000)) + ",label\n" + "not,parsed\n" * 60)
     and ["--data_name", "wide"], "lower select_top_k"),
    ("too_wide_for_memory", lambda ws: write_mat(ws / "data" / "wide.mat",
                                                 np.ones((60, 6000)), np.r_[np.ones(12),
                                                                            np.zeros(48)])
     or ["--data_name", "wide"], "lower select_top_k"),
]


def csv_file(ws, name, header, index=False):
    """data/NAME.csv: `header`, then 60 rows of one number per column (8 anomalies in the
    last column; an index column counts 0, 1, ... when `index`)."""
    width = header.count(",") + 1
    rows = [[str(i)] * index + [f"{(i % 7) * 0.5:.1f}"] * (width - 1 - index) + [str(int(i < 8))]
            for i in range(60)]
    (ws / "data" / f"{name}.csv").write_text(header + "".join(",".join(r) + "\n" for r in rows))
    return ["--data_name", name]


def big_column(ws, cell):
    """data/big.csv: the toy rows, a column `big` of cell(row) and the label."""
    X, y = separable_data(rows=240, features=5)
    lines = ["a,b,c,d,e,big,label"] + [",".join(f"{v:.6f}" for v in row) + f",{cell(i)},{label}"
                                       for i, (row, label) in enumerate(zip(X, y))]
    (ws / "data" / "big.csv").write_text("\n".join(lines) + "\n")
    return ["--data_name", "big"]


def resume_with_meta(ws, meta):
    """meta.json of weights/toy (None: a model trained on toy.mat as it is)."""
    if meta is None:
        assert train_eval.main(train_flags(ws, "--data_name", "toy", "--results_dir",
                                           ws / "elsewhere")) == 0
    else:
        (ws / "weights" / "toy").mkdir(parents=True)
        (ws / "weights" / "toy" / "meta.json").write_text(json.dumps(meta))
    return ["--data_name", "toy", "--resume", "True"]


def saved_meta(ws, meta):
    (ws / "weights" / "toy").mkdir(parents=True)
    (ws / "weights" / "toy" / "meta.json").write_text(json.dumps({"model": "eal_gan", **meta}))


def toy_csv(ws, name="toy"):
    """data/NAME.csv with toy.mat's rows (and toy.mat moved away)."""
    content = scipy.io.loadmat(ws / "data" / "toy.mat")
    (ws / "data" / "toy.mat").unlink()
    frame = pd.DataFrame(content["X"], columns=list("abcde")).assign(label=content["y"].ravel())
    frame.to_csv(ws / "data" / f"{name}.csv", index=False)
    return ["--data_name", name]


def hashed_row(ws):
    """A toy row of runs.csv of toy.mat's size but recording another data hash."""
    results_row(ws, samples=240, outliers=12.08, made_with={"data_sha256": "f" * 64})


def results_row(ws, samples, outliers=12.0, made_with=None):
    record_run(ws / "results", run_row("EAL-GAN", dataset_row("toy", samples, 5, outliers), 42,
                                       {"auc": 0.9, "gmean": 0.9, "ap": 0.9,
                                        "precision_at_n": 0.9}, 3, 6, 6, 1.0, made_with))


@pytest.mark.parametrize("make,match", [case[1:] for case in TRAINING_CASES],
                         ids=[case[0] for case in TRAINING_CASES])
def test_training_refuses_bad_input(workspace, capsys, make, match):
    extra = make(workspace)
    before = snapshot(workspace)
    code = train_eval.main(train_flags(workspace, *extra))
    assert_refused(capsys, code, match, workspace, before)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A small EAL-GAN trained on 5 unnamed features, saved as train_eval.py saves it, with
    standard scaling (a cell too far to scale is one of the cases below)."""
    root = tmp_path_factory.mktemp("bad_input")
    (root / "data").mkdir()
    X, y = separable_data(rows=240, features=5)
    write_mat(root / "data" / "toy.mat", X, y)
    assert train_eval.main(train_flags(root, "--data_name", "toy", "--scaling", "standard")) == 0
    return root / "weights" / "toy", X


def headerless(path, X, first_cell=None):
    lines = [",".join(f"{v:.6f}" for v in row) for row in X]
    if first_cell is not None:
        lines[0] = ",".join([first_cell] + lines[0].split(",")[1:])
    path.write_text("\n".join(lines) + "\n")
    return path


def with_gap(X):
    gap = X.copy()
    gap[0, 0] = np.nan   # a missing cell counts as the training mean
    return gap


# (id, writes the input from X and returns (its path, the rows it holds))
READABLE_INPUTS = [
    ("first_row_has_NA", lambda d, X: (headerless(d / "na.csv", X, "NA"), with_gap(X))),
    ("first_row_has_empty_cell", lambda d, X: (headerless(d / "gap.csv", X, ""), with_gap(X))),
    ("byte_order_mark", lambda d, X: (write_bytes(
        d / "bom.csv", b"\xef\xbb\xbf" + headerless(d / "plain.csv", X).read_bytes()), X)),
    ("pandas_integer_header", lambda d, X: (pd.DataFrame(X).to_csv(d / "pd.csv", index=False)
                                            or d / "pd.csv", X)),
    ("sparse_mat", lambda d, X: (scipy.io.savemat(d / "sparse.mat",
                                                  {"X": scipy.sparse.csr_matrix(X)})
                                 or d / "sparse.mat", X)),
]


@pytest.mark.parametrize("make", [case[1] for case in READABLE_INPUTS],
                         ids=[case[0] for case in READABLE_INPUTS])
def test_predict_scores_every_row(model_dir, tmp_path, capsys, make):
    weights, X = model_dir
    source, rows = make(tmp_path, X[:50].astype(np.float64).round(6))
    assert predict.main(["--weights", str(weights), "--input", str(source),
                         "--output", str(tmp_path / "out.csv")]) == 0, capsys.readouterr().err
    got = pd.read_csv(tmp_path / "out.csv")["score"].to_numpy()
    model = EALGAN.load(weights)
    scaler = scaling_from_dict(model.meta_["scaler"])
    assert len(got) == 50
    np.testing.assert_allclose(got, model.decision_function(scaler.transform(rows)), atol=2e-6)


PREDICT_CASES = [
    ("ragged_row", lambda d, X: (write_bytes(d / "ragged.csv", b"1,2,3,4,5\n1,2,3,4,5,6,7\n"),
                                 d / "o.csv"), "unreadable CSV"),
    ("binary_file", lambda d, X: (write_bytes(d / "bin.csv", b"\x00\xff\xfe\x80" * 50),
                                  d / "o.csv"), "not a UTF-8 CSV text file"),
    ("garbage_mat", lambda d, X: (write_bytes(d / "g.mat", b"MATLAB 5.0" + b"\x00" * 50),
                                  d / "o.csv"), "not a readable MATLAB .mat file"),
    ("input_repeats_a_name", lambda d, X: (write_bytes(d / "dup.csv", b"a,a,b,c,d\n1,2,3,4,5\n"),
                                           d / "o.csv"), "names column(s) 'a' more than once"),
    ("input_has_an_index_column", lambda d, X: (pd.DataFrame(X).to_csv(d / "ix.csv") or
                                                d / "ix.csv", d / "o.csv"),
     "header column 1 has no name"),
    ("cell_too_far_to_scale", lambda d, X: (write_bytes(d / "far.csv", b"1,2,3,4,1e308\n"),
                                            d / "o.csv"),
     "feature column 5: value 1e+308 lies too far from the training values"),
    ("cell_beyond_the_float_range", lambda d, X: (write_bytes(d / "huge.csv",
                                                              b"1,2,3,4,5\n1,2,3,4,-1e400\n"),
                                                  d / "o.csv"),
     "value '-1e400' beyond the float range (+-1.798e+308) in column 5, line 2"),
    ("output_folder_is_a_broken_link", lambda d, X: (headerless(d / "in.csv", X),
                                                     os.symlink(d / "gone", d / "link") or
                                                     d / "link" / "o.csv"),
     "is a broken symbolic link"),
    ("output_ends_with_a_slash", lambda d, X: (headerless(d / "in.csv", X), str(d / "new") + "/"),
     "names a folder; give a file name"),
    ("output_where_no_file_can_be_made", lambda d, X: (headerless(d / "in.csv", X),
                                                       "/sys/scores.csv"),
     "/sys/scores.csv"),   # named as given, not as the temporary file behind it
    ("output_is_a_folder", lambda d, X: (headerless(d / "in.csv", X), d), "is a folder"),
    ("output_under_a_file", lambda d, X: (headerless(d / "in.csv", X),
                                          write_bytes(d / "f", b"x") / "o.csv"),
     "is a file, not a folder"),
]


@pytest.mark.parametrize("make,match", [case[1:] for case in PREDICT_CASES],
                         ids=[case[0] for case in PREDICT_CASES])
def test_predict_refuses_bad_input(model_dir, tmp_path, capsys, make, match):
    weights, X = model_dir
    source, output = make(tmp_path, X[:20])
    before = sorted(os.listdir(tmp_path))
    code = predict.main(["--weights", str(weights), "--input", str(source),
                         "--output", str(output)])
    assert_refused(capsys, code, match)
    assert sorted(os.listdir(tmp_path)) == before   # no output, no temporary file


def tree(*folders):
    """path -> (mode, bytes of a regular file) for everything under the folders."""
    found = {}
    for folder in folders:
        for dirpath, dirs, files in os.walk(folder):
            for name in dirs + files:
                path = os.path.join(dirpath, name)
                info = os.lstat(path)
                content = open(path, "rb").read() if os.path.isfile(path) else None
                found[path] = (info.st_mode, content)
    return found


def fifo(path):
    os.mkfifo(path)
    return path


# (id, output(input, weights, results) -> path): outputs predict must never replace
FORBIDDEN_OUTPUTS = [
    ("the_input", lambda src, w, r: src),
    ("the_input_by_another_name", lambda src, w, r: os.path.join(os.path.dirname(src), ".",
                                                                  os.path.basename(src))),
    ("a_model_file", lambda src, w, r: w / "meta.json"),
    ("a_new_file_in_the_model_folder", lambda src, w, r: w / "scores.csv"),
    ("a_file_of_another_model_folder", lambda src, w, r: copy_model(w) / "generator.ckpt"),
    ("the_runs_table", lambda src, w, r: r / "runs.csv"),
    ("a_summary_table", lambda src, w, r: r / "AUC_EAL_GAN.csv"),
    ("a_pipe", lambda src, w, r: fifo(os.path.join(os.path.dirname(src), "pipe"))),
    ("dev_null", lambda src, w, r: "/dev/null"),
]


def copy_model(weights):
    other = weights.parent.parent / "other_model"
    if not other.exists():
        other.mkdir()
        for name in os.listdir(weights):
            (other / name).write_bytes((weights / name).read_bytes())
    return other


@pytest.mark.parametrize("make", [case[1] for case in FORBIDDEN_OUTPUTS],
                         ids=[case[0] for case in FORBIDDEN_OUTPUTS])
def test_predict_never_replaces_what_it_must_not(model_dir, tmp_path, capsys, make):
    weights, X = model_dir
    results = weights.parent.parent / "results"
    source = headerless(tmp_path / "in.csv", X[:20])
    output = make(str(source), weights, results)
    folders = (tmp_path, weights.parent.parent)
    before, device = tree(*folders), os.stat("/dev/null").st_mode
    code = predict.main(["--weights", str(weights), "--input", str(source),
                         "--output", str(output)])
    assert_refused(capsys, code, str(output))
    assert tree(*folders) == before
    assert os.stat("/dev/null").st_mode == device


@pytest.mark.parametrize("threshold,match", [
    ("nan", "--threshold nan is not a finite number"),
    ("inf", "--threshold inf is not a finite number"),
    ("2", "--threshold 2.0: EAL-GAN scores lie in [0, 1]"),
    ("-0.5", "--threshold -0.5: EAL-GAN scores lie in [0, 1]"),
])
def test_predict_refuses_a_threshold_no_score_can_meet(model_dir, tmp_path, capsys, threshold,
                                                       match):
    weights, X = model_dir
    source = headerless(tmp_path / "in.csv", X[:5])
    code = predict.main(["--weights", str(weights), "--input", str(source), "--output",
                         str(tmp_path / "o.csv"), "--threshold", threshold])
    assert_refused(capsys, code, match)
    assert sorted(os.listdir(tmp_path)) == ["in.csv"]


def full_disk(module, monkeypatch):
    """Every file `module` opens with os.fdopen writes to /dev/full (ENOSPC on flush)."""
    real = os.fdopen

    def to_full_disk(fd, mode="r", *args, **kwargs):
        os.close(fd)
        return real(os.open("/dev/full", os.O_WRONLY), mode, *args, **kwargs)

    monkeypatch.setattr(module.os, "fdopen", to_full_disk)


def test_a_full_disk_names_the_output_and_leaves_nothing(model_dir, tmp_path, capsys,
                                                         monkeypatch):
    weights, X = model_dir
    source = headerless(tmp_path / "in.csv", X[:5])
    full_disk(predict, monkeypatch)
    code = predict.main(["--weights", str(weights), "--input", str(source), "--output",
                         str(tmp_path / "o.csv")])
    assert_refused(capsys, code, f"error: {tmp_path / 'o.csv'}: No space left on device")
    assert sorted(os.listdir(tmp_path)) == ["in.csv"]


def test_a_full_disk_while_recording_results_names_the_table(workspace, capsys, monkeypatch):
    before = snapshot(workspace)
    full_disk(checkpoint, monkeypatch)
    code = train_eval.main(train_flags(workspace, "--data_name", "toy"))
    runs = workspace / "results" / "runs.csv"
    assert_refused(capsys, code, f"error: {runs}: No space left on device", workspace, before)
    assert sorted(os.listdir(workspace / "weights")) == []


def test_export_into_a_folder_with_a_space(model_dir, tmp_path, capsys):
    weights, _ = model_dir
    (tmp_path / "my models").mkdir()
    assert export.main(["--weights", str(weights), "--file_name",
                        str(tmp_path / "my models" / "toy model")]) == 0, capsys.readouterr().err
    assert os.listdir(tmp_path / "my models") == ["toy model.mindir"]
    assert os.path.getsize(tmp_path / "my models" / "toy model.mindir") > 1000


# (id, script and arguments, words of the error line): bad arguments exit 2, as in Python
SCRIPT_CASES = [
    ("train_1p_without_dataset", ["train_1p.sh"], "the first argument must be a DATASET"),
    ("train_1p_flag_first", ["train_1p.sh", "--seed", "1"], "the first argument must be a"),
    ("run_all_unknown_word", ["run_all.sh", "glas"], "'glas' is neither a seed nor one of"),
    ("distributed_without_workers", ["run_distributed_train.sh", "glass"],
     "DATASET and WORKERS are needed"),
    ("distributed_bad_workers", ["run_distributed_train.sh", "glass", "two"],
     "WORKERS must be a positive whole number"),
    ("eval_1p_looks_in_the_weights_dir_given", ["eval_1p.sh", "--", "--weights_dir", "{tmp}"],
     "no weights found under {tmp}/"),
    ("eval_1p_weights_dir_with_equals", ["eval_1p.sh", "vae", "--", "--weights_dir={tmp}"],
     "no weights found under {tmp}/vae/"),
]


@pytest.mark.parametrize("command,match", [case[1:] for case in SCRIPT_CASES],
                         ids=[case[0] for case in SCRIPT_CASES])
def test_scripts_refuse_bad_arguments_with_exit_2(tmp_path, command, match):
    script, *args = command
    done = subprocess.run(["bash", os.path.join(ROOT, "scripts", script),
                           *(a.format(tmp=tmp_path) for a in args)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert match.format(tmp=tmp_path) in lines[0]


@pytest.mark.parametrize("target,match", [("under_a_file", "is a file, not a folder"),
                                          ("a_folder", "is a folder")])
def test_export_refuses_a_target_it_cannot_write(model_dir, tmp_path, capsys, target, match):
    weights, _ = model_dir
    write_bytes(tmp_path / "f", b"x")
    (tmp_path / "d.mindir").mkdir()
    name = tmp_path / "f" / "model" if target == "under_a_file" else tmp_path / "d"
    before = sorted(os.listdir(tmp_path))
    code = export.main(["--weights", str(weights), "--file_name", str(name)])
    assert_refused(capsys, code, match)
    assert sorted(os.listdir(tmp_path)) == before


def entries(ws):
    """Every file and folder under weights/ and results/, hidden ones included."""
    return sorted(os.path.join(dirpath, name) for folder in ("weights", "results")
                  for dirpath, dirs, files in os.walk(ws / folder) for name in dirs + files)


@pytest.mark.slow
def test_sigterm_during_training_leaves_nothing_behind(workspace):
    before, listed = snapshot(workspace), entries(workspace)
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train_eval.py"),
         *train_flags(workspace, "--data_name", "toy", "--max_epochs", "200", "--print",
                      "True")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    for line in process.stdout:   # wait until training is under way
        if line.startswith("epoch"):
            break
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == ["error: interrupted by SIGTERM; the previous weights and results are "
                     "unchanged"]
    assert snapshot(workspace) == before and entries(workspace) == listed


def test_sigterm_while_predict_writes_leaves_no_temporary_file(model_dir, tmp_path):
    weights, X = model_dir
    rows = np.repeat(X, 2000, axis=0)[:400_000]
    pd.DataFrame(rows).to_csv(tmp_path / "big.csv", index=False, header=False,
                              float_format="%.4f")
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "predict.py"), "--weights",
                                str(weights), "--input", str(tmp_path / "big.csv"),
                                "--output", str(out / "scores.csv")],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not os.listdir(out) and process.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    assert os.listdir(out), "predict.py never started writing"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert os.listdir(out) == []


def test_an_interrupted_save_keeps_the_old_model_and_leaves_no_staging(tmp_path):
    folder = tmp_path / "weights" / "toy"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text('{"model": "old"}')

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        checkpoint.write_model_dir(folder, {}, {"model": "new"}, before_swap=interrupted)
    assert os.listdir(tmp_path / "weights") == ["toy"]
    assert json.loads((folder / "meta.json").read_text()) == {"model": "old"}
    checkpoint.write_model_dir(folder, {}, {"model": "new"})
    assert os.listdir(tmp_path / "weights") == ["toy"]   # swapped, old copy removed
    assert json.loads((folder / "meta.json").read_text()) == {"model": "new"}


@pytest.mark.parametrize("features,dis_layer,gen_layer", [(5, 1, 2), (12, 0, 1), (7, 2, 0)])
def test_memory_estimate_counts_the_networks_parameters(features, dis_layer, gen_layer):
    config = EALGAN(dim_z=10, ensemble_num=3, dis_layer=dis_layer, gen_layer=gen_layer).config
    rng = np.random.default_rng(0)
    generator = Generator(rng, features, config.dim_z, gen_layer, "N02", False)
    ensemble = DiscriminatorEnsemble(rng, features, 3, dis_layer, "relu", "N02", False)

    def size(cell):   # trainable weights only: spectral-norm vectors are not trained
        return sum(int(np.prod(p.shape)) for p in cell.trainable_params())

    assert memory.parameter_counts(config, features) == (size(generator), size(ensemble))


def test_memory_check_refuses_with_the_settings_that_shrink_it():
    config = EALGAN().config
    needed = memory.estimated_bytes(config, 2000, 256)
    assert needed > 20 * 2 ** 30   # top-10 snapshots of a 2000-wide ensemble
    with pytest.raises(ModelTooLarge, match="lower select_top_k"):
        memory.check_fits(config, 2000, 256, available=needed - 1)
    memory.check_fits(config, 2000, 256, available=needed)
    single = EALGAN(select_top_k=1).config
    assert memory.estimated_bytes(single, 2000, 256) < needed / 3
    # every bag's kept epochs are held until they are merged: refused before the first bag
    bagged = EALGAN(bags=3).config
    assert memory.estimated_bytes(bagged, 2000, 256) > 2 * needed
    with pytest.raises(ModelTooLarge, match="bags 3"):
        memory.check_fits(bagged, 2000, 256, available=needed)


@pytest.fixture(scope="module")
def numbered_model(tmp_path_factory):
    """A model trained on a CSV whose header is ` 1, 2,3,4,5 ,label` (numbers, spaces)."""
    root = tmp_path_factory.mktemp("numbered")
    (root / "data").mkdir()
    X, y = separable_data(rows=240, features=5)
    body = "".join(",".join(f"{v:.6f}" for v in row) + f",{label}\n" for row, label in zip(X, y))
    (root / "data" / "num.csv").write_text(" 1, 2,3,4,5 ,label\n" + body)
    assert train_eval.main(train_flags(root, "--data_name", "num")) == 0
    return root / "weights" / "num", X.astype(np.float64).round(6)


# (id, header row of the input or None, column order of its rows)
HEADERS = [
    ("same_header", "1,2,3,4,5", [0, 1, 2, 3, 4]),
    ("spaces_and_another_order", " 5 ,4, 3,2,1", [4, 3, 2, 1, 0]),
    ("extra_label_column", "label,1,2,3,4,5", [None, 0, 1, 2, 3, 4]),
    ("no_header", None, [0, 1, 2, 3, 4]),
]


@pytest.mark.parametrize("header,order", [case[1:] for case in HEADERS],
                         ids=[case[0] for case in HEADERS])
def test_predict_reads_a_header_as_training_did(numbered_model, tmp_path, capsys, header,
                                                order):
    weights, X = numbered_model
    rows = X[:20]
    lines = [header] if header is not None else []
    lines += [",".join("0" if i is None else f"{row[i]:.6f}" for i in order) for row in rows]
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n")
    assert json.loads((weights / "meta.json").read_text())["feature_names"] == \
        ["1", "2", "3", "4", "5"]
    assert predict.main(["--weights", str(weights), "--input", str(tmp_path / "in.csv"),
                         "--output", str(tmp_path / "out.csv")]) == 0, capsys.readouterr().err
    model = EALGAN.load(weights)
    scaler = scaling_from_dict(model.meta_["scaler"])
    got = pd.read_csv(tmp_path / "out.csv")["score"].to_numpy()
    np.testing.assert_allclose(got, model.decision_function(scaler.transform(rows)), atol=2e-6)


def shuffled_rows(ws):
    content = scipy.io.loadmat(ws / "data" / "toy.mat")
    order = np.random.default_rng(1).permutation(len(content["y"]))
    write_mat(ws / "data" / "toy.mat", content["X"][order], content["y"][order])


def one_value_changed(ws):
    content = scipy.io.loadmat(ws / "data" / "toy.mat")
    content["X"][7, 2] += 0.5
    write_mat(ws / "data" / "toy.mat", content["X"], content["y"])


def without_data_hash(ws):
    path = ws / "weights" / "toy" / "meta.json"
    meta = json.loads(path.read_text())
    del meta["data_sha256"]   # as in weights (and rows) saved before the hash was recorded
    path.write_text(json.dumps(meta))
    runs = ws / "results" / "runs.csv"
    rows = pd.read_csv(runs, dtype=str, keep_default_na=False).assign(**{"Data hash": ""})
    rows.to_csv(runs, index=False, lineterminator="\n")


# (id, changes to the trained workspace, expected words)
RESUME_CASES = [
    ("rows_shuffled", [shuffled_rows], "content hash differs"),
    ("one_value_changed", [one_value_changed], "content hash differs"),
    ("rows_shuffled_weights_without_hash", [without_data_hash, shuffled_rows],
     "does not reproduce the scores recorded in"),
]


@pytest.mark.parametrize("changes,match", [case[1:] for case in RESUME_CASES],
                         ids=[case[0] for case in RESUME_CASES])
def test_resume_refuses_data_other_than_the_training_data(workspace, capsys, changes, match):
    rng = np.random.default_rng(3)   # overlapping classes: another split scores otherwise
    y = np.r_[np.ones(40), np.zeros(200)]
    write_mat(workspace / "data" / "toy.mat", rng.standard_normal((240, 5)) + 0.8 * y[:, None],
              y)
    assert train_eval.main(train_flags(workspace, "--data_name", "toy")) == 0
    capsys.readouterr()
    for change in changes:
        change(workspace)
    before = snapshot(workspace)
    code = train_eval.main(train_flags(workspace, "--data_name", "toy", "--resume", "True"))
    assert_refused(capsys, code, match, workspace, before)


def test_resume_on_the_training_data_needs_no_hash(workspace, capsys):
    assert train_eval.main(train_flags(workspace, "--data_name", "toy")) == 0
    without_data_hash(workspace)
    assert train_eval.main(train_flags(workspace, "--data_name", "toy", "--resume", "True")) == 0


@pytest.mark.slow
def test_overwrite_replaces_a_model_trained_on_other_data(workspace, capsys):
    saved_meta(workspace, {"data_file": "toy.mat", "data_sha256": "0" * 64})
    results_row(workspace, samples=300)
    assert train_eval.main(train_flags(workspace, "--data_name", "toy")) == 2
    assert train_eval.main(train_flags(workspace, "--data_name", "toy", "--overwrite",
                                       "True")) == 0, capsys.readouterr().err
    meta = json.loads((workspace / "weights" / "toy" / "meta.json").read_text())
    assert meta["data_sha256"] != "0" * 64
    rows = [r for r in pd.read_csv(workspace / "results" / "runs.csv").to_dict("records")
            if r["Data"] == "toy"]
    assert [r["# Samples"] for r in rows] == [240]
    # the same data again needs no --overwrite
    assert train_eval.main(train_flags(workspace, "--data_name", "toy", "--seed", 7)) == 0


def damaged_copy(weights, tmp_path, name):
    """A copy of the model folder with one byte of NAME flipped (in its middle)."""
    copy = tmp_path / "damaged"
    copy.mkdir()
    for entry in os.listdir(weights):
        (copy / entry).write_bytes((weights / entry).read_bytes())
    content = bytearray((copy / name).read_bytes())
    content[len(content) // 2] ^= 0x01
    (copy / name).write_bytes(bytes(content))
    return copy


# (id, the entry point run on the damaged copy w of a model trained on data/toy.mat in root)
DAMAGED_LOADS = [
    ("predict", lambda w, d, root: predict.main(["--weights", str(w), "--input", str(d / "in.csv"),
                                                 "--output", str(d / "out.csv")])),
    ("export", lambda w, d, root: export.main(["--weights", str(w), "--file_name", str(d / "m")])),
    ("resume", lambda w, d, root: train_eval.main(train_flags(
        d, "--data_name", "toy", "--data_path", root / "data", "--weights_dir", w.parent,
        "--resume", "True"))),
]


@pytest.mark.parametrize("name", ["generator.ckpt", "discriminators.ckpt", "history.csv"])
@pytest.mark.parametrize("run", [case[1] for case in DAMAGED_LOADS],
                         ids=[case[0] for case in DAMAGED_LOADS])
def test_a_flipped_byte_in_a_saved_file_is_refused(model_dir, tmp_path, capsys, name, run):
    weights, X = model_dir
    meta = json.loads((weights / "meta.json").read_text())
    assert sorted(meta["checksums"]) == sorted(set(os.listdir(weights)) - {"meta.json"})
    headerless(tmp_path / "in.csv", X[:3])
    copy = damaged_copy(weights, tmp_path, name)
    folder = tmp_path / "w" / "toy"   # the copy where --resume looks for weights/toy
    folder.parent.mkdir()
    os.rename(copy, folder)
    before = sorted(os.listdir(tmp_path))
    code = run(folder, tmp_path, weights.parent.parent)
    assert_refused(capsys, code, f"{name} does not match the checksum recorded in meta.json")
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.slow
def test_a_save_removes_staging_left_by_a_killed_process(workspace):
    weights, results = workspace / "weights", workspace / "results"
    weights.mkdir()
    stale = [weights / ".toy.k1ll3d.tmp", weights / ".toy.k1ll3d.tmp.old",
             results / ".runs.csv.k1ll3d.tmp"]
    fresh = weights / ".toy.running.tmp"   # may belong to a save under way
    for path in stale[:2] + [fresh]:
        path.mkdir()
        (path / "meta.json").write_text("{}")
    stale[2].write_text("Model,Data\n")
    day_ago = time.time() - checkpoint.STALE_S - 60
    for path in stale:
        os.utime(path, (day_ago, day_ago))
    assert train_eval.main(train_flags(workspace, "--data_name", "toy")) == 0
    assert [path for path in stale if os.path.exists(path)] == []
    assert fresh.is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_follow_the_umask(workspace, tmp_path, capsys, umask):
    """tempfile's 0600 / 0700 and MindSpore's 0400 used to reach the user's folders."""
    previous = os.umask(umask)
    try:
        assert train_eval.main(train_flags(workspace, "--data_name", "toy")) == 0
        weights = workspace / "weights" / "toy"
        headerless(tmp_path / "in.csv", np.ones((3, 5)))
        assert predict.main(["--weights", str(weights), "--input", str(tmp_path / "in.csv"),
                             "--output", str(tmp_path / "out.csv")]) == 0
        assert export.main(["--weights", str(weights), "--file_name", str(tmp_path / "m")]) == 0
    finally:
        os.umask(previous)
    written = [weights / name for name in os.listdir(weights)] + [
        workspace / "results" / "runs.csv", workspace / "results" / "AUC_EAL_GAN.csv",
        tmp_path / "out.csv", tmp_path / "m.mindir"]
    modes = {str(path): oct(os.stat(path).st_mode & 0o777) for path in written + [weights]}
    want = {str(path): oct(0o666 & ~umask) for path in written}
    want[str(weights)] = oct(0o777 & ~umask)
    assert modes == want


@pytest.mark.slow
def test_rows_and_weights_record_how_they_were_made(workspace):
    """runs.csv of the shipped shape (no provenance columns) is read, extended, and its
    old rows keep their values with empty provenance."""
    from models.utils.results import PROVENANCE_COLUMNS, RUN_COLUMNS, read_rows
    runs = workspace / "results" / "runs.csv"
    old = pd.read_csv(runs, dtype=str, keep_default_na=False)[RUN_COLUMNS]
    old.to_csv(runs, index=False, lineterminator="\n")
    assert runs.read_text().splitlines()[0] == ",".join(RUN_COLUMNS)
    threads = runtime.DEFAULT_CPU_THREADS   # the one count this test process can run with
    assert train_eval.main(train_flags(workspace, "--data_name", "toy", "--threads",
                                       threads)) == 0
    rows = read_rows(runs, RUN_COLUMNS)
    assert runs.read_text().splitlines()[0] == ",".join(RUN_COLUMNS + PROVENANCE_COLUMNS)
    assert [{k: r[k] for k in RUN_COLUMNS} for r in rows[:1]] == old.to_dict("records")
    assert [r[c] for r in rows[:1] for c in PROVENANCE_COLUMNS] == [""] * 5
    meta = json.loads((workspace / "weights" / "toy" / "meta.json").read_text())
    made = meta["provenance"]
    assert made["threads"] == threads and made["device"] == "CPU" and made["cpu"]
    assert made["mindspore"] == __import__("mindspore").__version__
    assert [rows[1][c] for c in PROVENANCE_COLUMNS] == [str(threads), "CPU", made["cpu"],
                                                        made["mindspore"],
                                                        meta["data_sha256"][:16]]


def start_training(ws, *extra):
    return subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train_eval.py"),
         *train_flags(ws, "--data_name", "toy", "--print", "True", *extra)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(process, start):
    for line in process.stdout:
        if line.startswith(start):
            return
    raise AssertionError(f"the run ended before printing {start!r}")


# (id, signals sent, when: "imports" right after the start, or the start of a stdout line)
SIGNAL_CASES = [
    ("sigint_during_training", [signal.SIGINT], "epoch"),
    ("sigint_twice", [signal.SIGINT, signal.SIGINT], "epoch"),
    ("sigterm_twice", [signal.SIGTERM, signal.SIGTERM], "epoch"),
    ("sigint_then_sigterm", [signal.SIGINT, signal.SIGTERM], "epoch"),
    ("sigint_during_the_imports", [signal.SIGINT], "imports"),
]


@pytest.mark.parametrize("signals,when", [case[1:] for case in SIGNAL_CASES],
                         ids=[case[0] for case in SIGNAL_CASES])
@pytest.mark.slow
def test_signals_exit_128_plus_the_first_with_one_line(workspace, signals, when):
    """MindSpore answered SIGINT with a SIGTERM to itself (exit 143), and a second signal,
    or one during the imports, gave a traceback."""
    before, listed = snapshot(workspace), entries(workspace)
    process = start_training(workspace, "--max_epochs", "300")
    if when == "imports":
        time.sleep(0.3)
    else:
        wait_for_line(process, when)
    for signum in signals:
        process.send_signal(signum)
        time.sleep(0.05)
    _, err = process.communicate(timeout=120)
    name = signal.Signals(signals[0]).name
    assert process.returncode == 128 + signals[0], err
    assert [line for line in err.splitlines() if line.strip()] == [
        f"error: interrupted by {name}; the previous weights and results are unchanged"]
    assert snapshot(workspace) == before and entries(workspace) == listed


def test_a_signal_as_the_run_ends_changes_nothing_it_wrote(workspace):
    process = start_training(workspace, "--max_epochs", "2")
    wait_for_line(process, "results ->")   # the run's last line: everything is written
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0 and err.strip() == "", err
    assert os.path.isfile(workspace / "weights" / "toy" / "meta.json")


@pytest.mark.slow
def test_a_run_waiting_for_the_results_lock_says_so_and_can_be_interrupted(workspace):
    import fcntl
    before = snapshot(workspace)
    with open(workspace / "results" / ".runs.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # another run is writing results
        process = start_training(workspace)
        wait_for_line(process, "waiting for ")
        started = time.time()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert time.time() - started < 5
    assert process.returncode == 130, err
    assert [line for line in err.splitlines() if line.strip()] == [
        "error: interrupted by SIGINT; the previous weights and results are unchanged"]
    assert snapshot(workspace) == before
    assert [name for name in os.listdir(workspace / "weights")] == []
