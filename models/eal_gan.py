"""EAL-GAN as a detector: configuration, fit / score / save / load."""
import dataclasses

import numpy as np

from .base import Detector, check_features, check_training_data, score_in_chunks
from .networks import ACTIVATIONS, INIT_TYPES, DiscriminatorEnsemble, EALGANNetworks, Generator
from .runtime import seeded_generators
from .trainer import EpochLoop


@dataclasses.dataclass
class EALGANConfig:
    """Hyper-parameters, named as the reference's command-line flags."""

    max_epochs: int = 100
    batch_size: int = 128
    lr_g: float = 0.001
    lr_d: float = 0.001
    active_rate: float = 1.0
    dim_z: int = 128
    dis_layer: int = 1
    gen_layer: int = 2
    ensemble_num: int = 10
    dis_activation_func: str = "relu"
    init_type: str = "N02"
    SN_used: bool = False
    seed: int = 42

    def validate(self):
        positive = ("max_epochs", "batch_size", "ensemble_num")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("dis_layer", "gen_layer"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.dim_z < 2:
            raise ValueError(f"dim_z must be at least 2, got {self.dim_z}")
        for name in ("lr_g", "lr_d"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 < self.active_rate <= 1:
            raise ValueError(f"active_rate must be in (0, 1], got {self.active_rate}")
        if self.init_type not in INIT_TYPES:
            raise ValueError(f"unknown init_type {self.init_type!r}; choose one of "
                             f"{', '.join(INIT_TYPES)}")
        if self.dis_activation_func not in ACTIVATIONS:
            raise ValueError(f"unknown dis_activation_func {self.dis_activation_func!r}; "
                             f"choose one of {', '.join(ACTIVATIONS)}")
        return self


class EALGAN(Detector):
    """Conditional GAN with an actively trained ensemble of discriminators.

    >>> model = EALGAN(max_epochs=50, batch_size=128).fit(X, y, X_val, y_val)
    >>> scores = model.decision_function(X_test)    # mean P(anomaly) of the ensemble
    """

    name = "eal_gan"
    label = "EAL-GAN"
    config_class = EALGANConfig

    def __init__(self, config=None, **params):
        self.config = dataclasses.replace(config or EALGANConfig(), **params).validate()
        self.generator = self.discriminators = self.networks = None
        self.history_ = []

    def _build(self, n_features):
        cfg = self.config
        rngs = seeded_generators(cfg.seed, ("init", "member_lr", "shuffle", "noise"))
        self.n_features_ = int(n_features)
        self.generator = Generator(rngs["init"], n_features, cfg.dim_z, cfg.gen_layer,
                                   cfg.init_type, cfg.SN_used)
        self.discriminators = DiscriminatorEnsemble(
            rngs["init"], n_features, cfg.ensemble_num, cfg.dis_layer, cfg.dis_activation_func,
            cfg.init_type, cfg.SN_used)
        # Each member keeps one learning rate drawn from U[lr_d, 5 lr_d], as in the paper.
        self.member_lr_ = rngs["member_lr"].uniform(cfg.lr_d, 5 * cfg.lr_d, cfg.ensemble_num)
        # Fixes the parameter names (generator.*, discriminators.*) and scores rows.
        self.networks = EALGANNetworks(self.generator, self.discriminators)
        return rngs

    def fit(self, X, y, X_val=None, y_val=None, on_epoch=None):
        """Train on (X, y); select the epoch by validation AUC x Gmean when given."""
        X, y, X_val, y_val = check_training_data(X, y, X_val, y_val)
        rngs = self._build(X.shape[1])
        loop = EpochLoop(self.generator, self.discriminators, self.member_lr_, self.config, rngs)
        self.history_ = loop.run(X, y, X_val, y_val, self.decision_function, on_epoch)
        improved = [r["epoch"] for r in self.history_ if r["improved"]]
        self.selected_epoch_ = improved[-1] if improved else self.history_[-1]["epoch"]
        self.labels_queried_ = self.history_[-1]["labels_queried"]
        return self

    def decision_function(self, X):
        """Ensemble mean of the auxiliary heads' P(anomaly), one value per row."""
        if self.networks is None:
            raise RuntimeError("the model is not trained yet: call fit() or load() first")
        return score_in_chunks(lambda x: self.networks(x).asnumpy(),
                               check_features(X, self.n_features_))

    def fit_summary(self):
        return [f"member learning rates: {', '.join(f'{lr:.5f}' for lr in self.member_lr_)}",
                f"selected epoch {self.selected_epoch_} (validation AUC x Gmean), "
                f"labels queried {self.labels_queried_}"]

    def describe(self):
        """What save() records about the model itself."""
        return {"model": self.name, "n_features": self.n_features_,
                "config": dataclasses.asdict(self.config),
                "member_lr": [float(v) for v in self.member_lr_],
                "selected_epoch": getattr(self, "selected_epoch_", None),
                "labels_queried": getattr(self, "labels_queried_", None)}

    @classmethod
    def load(cls, directory):
        meta, config = cls._saved_config(directory)
        model = cls(config)
        model._build(meta["n_features"])
        model._load_saved(directory, meta)
        model.member_lr_ = np.asarray(meta["member_lr"])
        model.selected_epoch_ = meta.get("selected_epoch")
        model.labels_queried_ = meta.get("labels_queried")
        return model
