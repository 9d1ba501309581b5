"""Detectors trained on normal rows only: shared loop, threshold, save / load.

GANomaly, EGBAD, AnoGAN, the autoencoder and the VAE learn what normal rows
look like, as in their papers: `fit` keeps only the rows with label 0 of the
training part.  Their scores are not probabilities, so the threshold for
`predict` (and for Gmean) is the one that maximises Gmean on the validation
split; without validation data it is the 95th percentile of the normal
training rows' scores.  They train for a fixed number of epochs (no epoch
selection).  A subclass builds its networks and compiled steps and says how
to score a chunk of rows; batches have a fixed size (the remainder of an
epoch's shuffled rows is left for the next epochs), so each graph compiles
once.
"""
import dataclasses
import time

import numpy as np
from mindspore import nn, Tensor

from ..core.detector import (Detector, TrainingDiverged, check_learning_rates,
                             check_validation_fraction, document, keyword_init, score_in_chunks)
from ..core.settings import setting
from ..utils.metrics import best_gmean_threshold
from ..utils.runtime import seeded_generators

NO_VALIDATION_QUANTILE = 95.0


@dataclasses.dataclass
class SemiSupervisedConfig:
    max_epochs: int = setting(100, "Training epochs.")
    batch_size: int = setting(128, "Rows per step (at most the normal training rows).")
    lr_g: float = setting(0.001, "Learning rate of the generator, encoders or autoencoder.")
    lr_d: float = setting(0.001, "Learning rate of the discriminator (GAN models).")
    validation_fraction: float = setting(0.25, "Stratified share of (X, y) that fit() holds "
                                         "out to choose the threshold when no X_val is given.")
    seed: int = setting(42, "Seeds the initial weights, shuffles, noise and the held-out part.")

    def validate(self):
        for name in ("max_epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        check_learning_rates(self)
        check_validation_fraction(self.validation_fraction)
        return self


def hidden_size(n_features):
    return 2 * n_features


def latent_size(n_features):
    return max(2, n_features // 2)


class _NamedNetworks(nn.Cell):
    """Holds the networks as attributes so that their parameters get unique
    names (generator.*, discriminator.*), which checkpoints are keyed by."""

    def __init__(self, networks):
        super().__init__()
        for name, cell in networks.items():
            setattr(self, name, cell)


class SemiSupervisedDetector(Detector):
    """Base class; subclasses define `_build`, `_train_batch` and `_score_chunk`."""

    config_class = SemiSupervisedConfig
    __init__ = keyword_init(SemiSupervisedConfig)

    # -- subclass hooks --------------------------------------------------
    def _build(self, n_features, rng):
        """Create the networks (through `_register`) and the compiled training steps."""
        raise NotImplementedError

    def _train_batch(self, x, noise_rng):
        """Update on one batch of normal rows; returns {loss name: value}."""
        raise NotImplementedError

    def _score_chunk(self, x):
        """Anomaly scores of one padded chunk (Tensor) as a NumPy array."""
        raise NotImplementedError

    def _epoch_diagnostics(self, normal_val):
        """Extra per-epoch history values measured on the validation part's normal rows."""
        return {}

    # -- shared behaviour ------------------------------------------------
    def _register(self, **networks):
        """Name the networks (name.* parameters) before steps are built on them."""
        self.networks_ = _NamedNetworks(networks)
        return networks

    def _setup(self, n_features):
        rngs = seeded_generators(self.config_.seed, ("init", "shuffle", "noise", "score"))
        self.n_features_in_ = int(n_features)
        self.score_rng_ = rngs["score"]
        self._build(n_features, rngs["init"])
        return rngs

    def _fit(self, X, y, X_val, y_val, on_epoch):
        """Train on the normal rows of (X, y); pick the threshold on (X_val, y_val)."""
        normal = X[y == 0]
        normal_val = None if X_val is None else X_val[y_val == 0]
        rngs = self._setup(X.shape[1])
        batch = min(self.config_.batch_size, len(normal))
        self.history_ = []
        for epoch in range(1, self.config_.max_epochs + 1):
            started = time.perf_counter()
            order = rngs["shuffle"].permutation(len(normal))
            losses = [self._train_batch(Tensor(normal[order[i:i + batch]]), rngs["noise"])
                      for i in range(0, len(normal) - batch + 1, batch)]
            record = {"epoch": epoch,
                      **{key: float(np.mean([step[key] for step in losses])) for key in losses[0]},
                      "seconds": time.perf_counter() - started}
            if normal_val is not None:
                record.update(self._epoch_diagnostics(normal_val))
            self.history_.append(record)
            if on_epoch is not None:
                on_epoch(record)
        self._calibrate(normal, X_val, y_val)

    def _calibrate(self, normal, X_val, y_val):
        train_scores = self._score(normal)
        if not np.isfinite(train_scores).all():
            raise TrainingDiverged(f"{self.label} training diverged: its scores of the training "
                                   f"rows are not finite (try a smaller lr_g / lr_d)")
        self.score_range_ = (float(train_scores.min()), float(train_scores.max()))
        if X_val is None:
            self.threshold_ = float(np.percentile(train_scores, NO_VALIDATION_QUANTILE))
        else:
            self.threshold_ = best_gmean_threshold(y_val, self._score(X_val))

    def _score(self, X):
        return score_in_chunks(self._score_chunk, X)

    def _rebuild(self):
        self._setup(self.n_features_in_)

    def predict_proba(self, X):
        """Scores min-max scaled by the training rows' range, as PyOD's 'linear' method."""
        scores = self.decision_function(X)
        low, high = self.score_range_
        scaled = np.clip((scores - low) / max(high - low, 1e-12), 0.0, 1.0)
        return np.stack([1.0 - scaled, scaled], axis=1)

    selected_epoch_ = None   # fixed number of epochs, no epoch selection
    labels_queried_ = None   # every normal training row is used

    def fit_summary(self):
        return [f"threshold {self.threshold_:.6g} (best Gmean on the validation part)"]

    def describe(self):
        return {"model": self.name, "n_features": self.n_features_in_,
                "config": dataclasses.asdict(self.config_), "threshold": self.threshold_,
                "score_range": list(self.score_range_), "selected_epoch": None}

    @classmethod
    def load(cls, directory):
        meta, model = cls._unfitted_from_saved(directory)
        model._setup(meta["n_features"])
        model._load_saved(directory, meta)
        model.threshold_ = meta["threshold"]
        model.score_range_ = tuple(meta["score_range"])
        return model


def document_family(detector_class, summary):
    """The numpydoc docstring of one of the comparison detectors."""
    return document(detector_class, summary + """

Trained on the normal rows (label 0) of the training part only; the
threshold of predict() maximises Gmean on the validation part.""", {
        "score_range_": ("tuple of float", "Lowest and highest score of the normal training "
                         "rows: predict_proba() scales scores by it."),
    })
