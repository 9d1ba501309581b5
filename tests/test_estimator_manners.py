"""scikit-learn manners of the detectors: checked settings and arrays, NotFittedError,
feature names, numpydoc, progress, and the runtime a Python user gets."""
import dataclasses
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.exceptions import NotFittedError

from conftest import ROOT, separable_data
from models import DETECTORS, EALGAN, AutoEncoder
from models.core.detector import RUNTIME_FIELDS

SMALL = dict(max_epochs=3, batch_size=32, ensemble_num=2, dim_z=8, select_top_k=1)


@pytest.fixture(scope="module")
def toy():
    return separable_data(rows=300, features=4, seed=31)


@pytest.mark.parametrize("settings,message", [
    (dict(lr_g="abc"), "lr_g must be a number, got 'abc'"),
    (dict(ensemble_num=2.5), "ensemble_num must be a whole number, got 2.5"),
    (dict(dim_z="abc"), "dim_z must be a whole number, got 'abc'"),
    (dict(SN_used="False"), "SN_used must be True or False, got 'False'"),
    (dict(shuffle="no"), "shuffle must be True or False, got 'no'"),
    (dict(seed=-1), r"seed must be in \[0, 2\*\*32 - 1\], got -1"),
    (dict(seed=2 ** 32), "seed must be in"),
    (dict(init_type="he"), "unknown init_type 'he'; choose one of N02, ortho, xavier"),
    (dict(batch_size="big"), "batch_size must be a positive integer or auto, got 'big'"),
    (dict(threads=0), "threads must be at least 1"),
    (dict(device_target="TPU"), "unknown device_target 'TPU'"),
    (dict(verbose=3), "verbose must be 0, 1 or 2"),
])
def test_bad_settings_fail_at_fit_with_a_sentence(toy, settings, message):
    X, y = toy
    model = EALGAN(**SMALL)
    model.set_params(**settings)   # set_params skips __init__'s check: fit must catch it
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    with pytest.raises(ValueError, match=message):
        _ = EALGAN(**settings).config


def test_whole_numbers_given_as_floats_are_accepted(toy):
    X, y = toy
    model = EALGAN(**{**SMALL, "ensemble_num": 2.0}).fit(X, y)
    assert model.config_.ensemble_num == 2 and isinstance(model.config_.ensemble_num, int)
    assert model.get_params()["ensemble_num"] == 2.0   # settings stay as given


@pytest.mark.parametrize("arrays,error,message", [
    (lambda X, y: (X[:, :0], y), ValueError, "0 feature"),
    (lambda X, y: (scipy.sparse.csr_matrix(X), y), TypeError, "dense data is required"),
    (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), y),
     ValueError, "Input X contains NaN"),
    (lambda X, y: (X, y[:-1]), ValueError, "inconsistent numbers of samples"),
    (lambda X, y: (X, np.where(y == 1, 2, 0)), ValueError, "only 0 .normal. and 1"),
])
def test_bad_arrays_fail_before_training_with_a_sentence(toy, arrays, error, message):
    X, y = arrays(*toy)
    with pytest.raises(error, match=message):
        EALGAN(**SMALL).fit(X, y)


def test_validation_arrays_come_in_pairs(toy):
    X, y = toy
    for extra in (dict(X_val=X[:50]), dict(y_val=y[:50])):
        with pytest.raises(ValueError, match="X_val and y_val go together"):
            EALGAN(**SMALL).fit(X, y, **extra)
    with pytest.raises(ValueError, match="X has 3 features, but EALGAN is expecting 4"):
        EALGAN(**SMALL).fit(X, y, X[:, :3], y)


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_unfitted_detectors_raise_not_fitted_error(name, tmp_path):
    model = DETECTORS[name]()
    for call in (model.decision_function, model.predict, model.predict_proba):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "m")


def test_feature_names_of_a_dataframe_are_kept_and_checked(toy, tmp_path):
    X, y = toy
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = EALGAN(**SMALL).fit(frame, y)
    assert model.n_features_in_ == 4 and list(model.feature_names_in_) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(model.decision_function(frame), model.decision_scores_)
    with pytest.raises(ValueError, match="Feature names unseen at fit time:\n- e"):
        model.decision_function(frame.rename(columns={"d": "e"}))
    with pytest.raises(ValueError, match="X has 3 features, but EALGAN is expecting 4"):
        model.decision_function(X[:, :3])
    model.save(tmp_path / "m")
    loaded = EALGAN.load(tmp_path / "m")
    assert list(loaded.feature_names_in_) == ["a", "b", "c", "d"] and loaded.n_features_in_ == 4
    np.testing.assert_array_equal(loaded.decision_function(frame), model.decision_scores_)


def test_docstrings_list_every_setting_and_fitted_attribute():
    for cls in DETECTORS.values():
        doc = cls.__doc__
        assert "Parameters\n----------" in doc and "Attributes\n----------" in doc
        for field in dataclasses.fields(cls.config_class):
            assert f"\n{field.name} : " in doc, (cls.__name__, field.name)
        for name in RUNTIME_FIELDS:
            assert f"\n{name} : " in doc
    fitted = EALGAN(**SMALL).fit(*separable_data(rows=200, features=3, seed=4))
    public = {name for name in vars(fitted) if name.endswith("_") and not name.startswith("_")}
    missing = sorted(name for name in public if f"\n{name} : " not in EALGAN.__doc__)
    assert missing == [], f"fitted attributes without documentation: {missing}"


def test_verbose_reports_every_epoch(toy, capsys):
    X, y = toy
    EALGAN(**SMALL, verbose=2).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all("val_auc" in line for line in lines)
    AutoEncoder(max_epochs=2, batch_size=32, verbose=1).fit(X, y)
    bar = capsys.readouterr().err
    assert "AutoEncoder epochs" in bar and "2/2" in bar
    EALGAN(**SMALL).fit(X, y)
    assert capsys.readouterr() == ("", "")   # silent by default


def run_fresh(code):
    """Run `code` in a new interpreter outside the repository: only the installed package."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=os.path.dirname(ROOT),
                          capture_output=True, text=True, timeout=600)


def test_a_process_configured_otherwise_is_said_and_kept():
    result = run_fresh("""
        import warnings
        import numpy as np
        from ealgan import AutoEncoder, configure
        from ealgan.utils import runtime
        configure("CPU", 0, 1)
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(120, 3)), np.r_[np.ones(12), np.zeros(108)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            AutoEncoder(max_epochs=1, batch_size=32).fit(X, y)      # follows the process
            AutoEncoder(max_epochs=1, batch_size=32, threads=2).fit(X, y)
        print([str(w.message) for w in caught if w.category is RuntimeWarning])
        print(runtime.configured())
    """)
    assert result.returncode == 0, result.stderr
    warned, settings = result.stdout.strip().splitlines()[-2:]
    assert warned.count("already runs MindSpore on CPU 0 with 1 CPU threads") == 1
    assert "threads=2 cannot take effect" in warned
    assert settings == "('CPU', 0, 1)"


def test_mindspore_used_before_the_estimator_is_said():
    result = run_fresh("""
        import warnings
        import numpy as np
        import ealgan
        import mindspore as ms
        ms.ops.add(ms.Tensor(np.ones(2)), 1).asnumpy()   # MindSpore runs with its defaults
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(120, 3)), np.r_[np.ones(12), np.zeros(108)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ealgan.AutoEncoder(max_epochs=1, batch_size=32).fit(X, y)
        print([str(w.message) for w in caught if w.category is RuntimeWarning])
    """)
    assert result.returncode == 0, result.stderr
    assert "MindSpore already ran in this process" in result.stdout.splitlines()[-1]
