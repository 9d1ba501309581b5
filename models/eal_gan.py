"""EAL-GAN as a detector: configuration, fit / score / save / load."""
import csv
import dataclasses
import io

import numpy as np
from mindspore import Tensor

from . import checkpoint
from .base import Detector, check_features, check_labels
from .networks import ACTIVATIONS, INIT_TYPES, DiscriminatorEnsemble, EALGANNetworks, Generator
from .runtime import seeded_generators
from .trainer import EpochLoop

# Rows scored per graph call; smaller inputs use the next power of two, so
# scoring compiles for a handful of shapes only.
SCORE_CHUNK = 4096
HISTORY_FILE = "history.csv"


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

    def __init__(self, config=None, **params):
        self.config = dataclasses.replace(config or EALGANConfig(), **params).validate()
        self.generator = self.discriminators = None
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
        self._scorer = EALGANNetworks(self.generator, self.discriminators)
        return rngs

    def fit(self, X, y, X_val=None, y_val=None, on_epoch=None):
        """Train on (X, y); select the epoch by validation AUC x Gmean when given."""
        X = check_features(X)
        y = check_labels(y, len(X))
        if X_val is not None:
            X_val = check_features(X_val, X.shape[1], "X_val")
            y_val = check_labels(y_val, len(X_val), "y_val")
        rngs = self._build(X.shape[1])
        loop = EpochLoop(self.generator, self.discriminators, self.member_lr_, self.config, rngs)
        self.history_ = loop.run(X, y, X_val, y_val, self.decision_function, on_epoch)
        improved = [r["epoch"] for r in self.history_ if r["improved"]]
        self.selected_epoch_ = improved[-1] if improved else self.history_[-1]["epoch"]
        self.labels_queried_ = self.history_[-1]["labels_queried"]
        return self

    def decision_function(self, X):
        """Ensemble mean of the auxiliary heads' P(anomaly), one value per row."""
        if self.discriminators is None:
            raise RuntimeError("the model is not trained yet: call fit() or load() first")
        X = check_features(X, self.n_features_)
        if len(X) == 0:
            return np.zeros(0, dtype=np.float32)
        chunk = min(SCORE_CHUNK, 1 << (len(X) - 1).bit_length())
        scores = []
        for start in range(0, len(X), chunk):
            part = X[start:start + chunk]
            padded = np.zeros((chunk, X.shape[1]), dtype=np.float32)
            padded[:len(part)] = part
            scores.append(self._scorer(Tensor(padded)).asnumpy()[:len(part)])
        return np.concatenate(scores)

    def describe(self):
        """What save() records about the model itself."""
        return {"model": self.name, "n_features": self.n_features_,
                "config": dataclasses.asdict(self.config),
                "member_lr": [float(v) for v in self.member_lr_],
                "selected_epoch": getattr(self, "selected_epoch_", None),
                "labels_queried": getattr(self, "labels_queried_", None)}

    def save(self, directory, meta=None):
        """Write generator.ckpt, discriminators.ckpt, meta.json and history.csv."""
        texts = {HISTORY_FILE: _history_csv(self.history_)} if self.history_ else None
        checkpoint.write_model_dir(
            directory, {"generator": self.generator, "discriminators": self.discriminators},
            {**(meta or {}), **self.describe()}, texts)

    @classmethod
    def load(cls, directory):
        meta = checkpoint.read_meta(directory)
        if meta.get("model") != cls.name:
            raise checkpoint.CheckpointError(
                f"{directory} holds a {meta.get('model')!r} model, not {cls.name!r}")
        fields = {f.name for f in dataclasses.fields(EALGANConfig)}
        model = cls(EALGANConfig(**{k: v for k, v in meta["config"].items() if k in fields}))
        model._build(meta["n_features"])
        checkpoint.load_cell(model.generator, directory, "generator")
        checkpoint.load_cell(model.discriminators, directory, "discriminators")
        model.member_lr_ = np.asarray(meta["member_lr"])
        model.selected_epoch_ = meta.get("selected_epoch")
        model.labels_queried_ = meta.get("labels_queried")
        model.meta_ = meta
        return model


def _history_csv(history):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(history[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()
