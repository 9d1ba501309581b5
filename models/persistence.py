"""Ship a model fitted in Python: one folder that predict.py, export.py and load_model read.

A fitted detector, or a fitted Pipeline of a StandardScaler or ColumnScaler
and a detector, is saved as the command line saves its models: a checkpoint
per network and meta.json.  The folder records the scaling the detector was
trained behind ("scaler": the transform's statistics, or null for a bare
detector), so predict.py and export.py apply it to raw rows and
load_model() gives the same pipeline back.  The scaling is recorded rather
than owned by the estimator so that a detector stays one step of the
user's pipeline, as scikit-learn users compose them, and a folder trained
by train_eval.py (which scales with the training part's statistics) loads
as such a pipeline too.
"""
import numpy as np
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from .core.detector import Detector
from .core.scaling import ColumnScaler
from .registry import DETECTORS
from .utils.checkpoint import CheckpointError, read_meta


def _scaler_and_detector(estimator):
    """(StandardScaler, ColumnScaler or None, detector) of a detector or a two-step
    pipeline."""
    if not isinstance(estimator, Pipeline):
        scaler, detector = None, estimator
    else:
        steps = [step for _, step in estimator.steps if step not in (None, "passthrough")]
        if len(steps) > 2 or (len(steps) == 2 and not isinstance(steps[0], (StandardScaler,
                                                                           ColumnScaler))):
            raise ValueError("save_model takes a detector or a Pipeline of a StandardScaler "
                             "or ColumnScaler and a detector; other steps cannot be applied "
                             "by predict.py")
        scaler, detector = (steps[0], steps[1]) if len(steps) == 2 else (None, steps[-1])
    if not isinstance(detector, Detector):
        raise TypeError(f"save_model saves this repository's detectors, not "
                        f"{type(detector).__name__}")
    return scaler, detector


def scaler_record(scaler):
    """The record that predict.py applies, from a fitted StandardScaler ({"mean", "scale"})
    or ColumnScaler (its transform's, always with its "kind", which load_model reads as
    "rebuild a ColumnScaler")."""
    if isinstance(scaler, ColumnScaler):
        return {"kind": scaler.transform_.kind, **scaler.transform_.to_dict()}
    features = scaler.n_features_in_
    mean = scaler.mean_ if scaler.with_mean else np.zeros(features)
    scale = scaler.scale_ if scaler.with_std else np.ones(features)
    return {"mean": np.asarray(mean, dtype=np.float64).tolist(),
            "scale": np.asarray(scale, dtype=np.float64).tolist()}


def standard_scaler(record, feature_names=None):
    """A fitted StandardScaler that applies a saved {"mean", "scale"}."""
    scaler = StandardScaler()
    scaler.mean_ = np.asarray(record["mean"], dtype=np.float64)
    scaler.scale_ = np.asarray(record["scale"], dtype=np.float64)
    scaler.var_ = scaler.scale_ ** 2
    scaler.n_features_in_ = len(scaler.mean_)
    scaler.n_samples_seen_ = 0   # unknown: the folder keeps the statistics, not the rows
    if feature_names:
        scaler.feature_names_in_ = np.asarray(feature_names, dtype=object)
    return scaler


def recorded_scaling(meta, directory):
    """The {"mean", "scale"} a model folder records; the identity for "scaler": null (a
    detector saved bare from Python); a folder without the entry is refused."""
    if "scaler" not in meta:
        raise CheckpointError(f"{directory}/meta.json has no scaler entry (the scaling the "
                              "model was trained behind, null for none); save the model again")
    if meta["scaler"]:
        return meta["scaler"]
    return {"mean": [0.0] * meta["n_features"], "scale": [1.0] * meta["n_features"]}


def save_model(estimator, directory):
    """Save a fitted detector, or a fitted StandardScaler + detector pipeline, to `directory`.

    The folder is written completely beside the old one and then swapped in.
    """
    scaler, detector = _scaler_and_detector(estimator)
    meta = {"scaler": None if scaler is None else scaler_record(scaler)}
    names = getattr(scaler, "feature_names_in_", None)
    if names is not None:
        meta["feature_names"] = list(names)
    detector.save(directory, meta)


def load_model(directory):
    """The model in `directory`: a Pipeline(scaler, detector) when the folder records a
    scaling (every folder train_eval.py writes does), else the bare detector.

    The scaler is a ColumnScaler when the record names its kind (a saved
    ColumnScaler, or a robust or quantile run of train_eval.py): like
    predict.py it turns a missing cell into 0.  A record of means and scales
    alone (a saved StandardScaler, or a standard run of train_eval.py) gives
    a StandardScaler, which refuses rows with missing values.
    """
    meta = read_meta(directory)
    if meta.get("model") not in DETECTORS:
        raise CheckpointError(f"{directory}/meta.json names no known model "
                              f"({meta.get('model')!r})")
    detector = DETECTORS[meta["model"]].load(directory)
    if not meta.get("scaler"):
        return detector
    # The names belong to the pipeline's input, which the scaler sees first.
    detector.__dict__.pop("feature_names_in_", None)
    names = meta.get("feature_names")
    if "kind" in meta["scaler"]:
        return make_pipeline(ColumnScaler.from_record(meta["scaler"], names), detector)
    return make_pipeline(standard_scaler(meta["scaler"], names), detector)
