"""EAL-GAN as a detector: configuration, fit / score / save / load."""
import dataclasses

import numpy as np
from mindspore import Tensor

from ..core.detector import (Detector, TrainingDiverged, check_features, check_learning_rates,
                             check_validation_fraction, keyword_init, score_in_chunks)
from ..utils import runtime
from . import memory, schedule, tuning
from .networks import ACTIVATIONS, INIT_TYPES, DiscriminatorEnsemble, EALGANNetworks, Generator
from .selection import SELECTION_METRICS, SELECTION_TIES
from .trainer import EpochLoop


@dataclasses.dataclass
class EALGANConfig:
    """Hyper-parameters, named as the reference's command-line flags."""

    # tuning.DEFAULT_CANDIDATE's settings (configs/default.yaml says why).
    max_epochs: object = schedule.AUTO   # int, or "auto": from train_steps (schedule.py)
    batch_size: object = schedule.AUTO   # int, or "auto": from the training rows
    train_steps: int = 3000
    lr_g: float = 0.005
    lr_d: float = 0.005
    active_rate: float = 1.0
    shuffle: bool = True    # False: the same row order every epoch, as the authors' loop
    dim_z: int = 128
    dis_layer: int = 1
    gen_layer: int = 2
    ensemble_num: int = 10
    dis_activation_func: str = "relu"
    init_type: str = "N02"
    SN_used: bool = False
    SN_generator_hidden: bool = True   # False: the authors' plain generator middle layers
    select_metric: str = "auc_gmean"
    select_top_k: int = 10
    select_ties: str = "confidence"   # or "earliest" (the rule before it, configs/default.yaml)
    tune: bool = False      # choose the settings among tuning.CANDIDATES on validation
    tune_seeds: int = 2     # training seeds per candidate when tuning
    validation_fraction: float = 0.25  # held out by fit() when no validation part is given
    seed: int = 42

    def validate(self):
        for name in ("max_epochs", "batch_size"):
            setattr(self, name, schedule.check_setting(name, getattr(self, name)))
        positive = ("train_steps", "ensemble_num", "select_top_k", "tune_seeds")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("dis_layer", "gen_layer"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        check_validation_fraction(self.validation_fraction)
        if self.dim_z < 2:
            raise ValueError(f"dim_z must be at least 2, got {self.dim_z}")
        check_learning_rates(self)
        if not 0 < self.active_rate <= 1:
            raise ValueError(f"active_rate must be in (0, 1], got {self.active_rate}")
        if self.init_type not in INIT_TYPES:
            raise ValueError(f"unknown init_type {self.init_type!r}; choose one of "
                             f"{', '.join(INIT_TYPES)}")
        if self.select_metric not in SELECTION_METRICS:
            raise ValueError(f"unknown select_metric {self.select_metric!r}; choose one of "
                             f"{', '.join(SELECTION_METRICS)}")
        if self.select_ties not in SELECTION_TIES:
            raise ValueError(f"unknown select_ties {self.select_ties!r}; choose one of "
                             f"{', '.join(SELECTION_TIES)}")
        if self.dis_activation_func not in ACTIVATIONS:
            raise ValueError(f"unknown dis_activation_func {self.dis_activation_func!r}; "
                             f"choose one of {', '.join(ACTIVATIONS)}")
        return self


class EALGAN(Detector):
    """Conditional GAN with an actively trained ensemble of discriminators.

    >>> model = EALGAN(max_epochs=50, batch_size=128).fit(X, y, X_val, y_val)
    >>> scores = model.decision_function(X_test)    # mean P(anomaly) of the ensemble

    Settings are EALGANConfig's fields; the settings a fitted model used are
    in `config_` (with tune=True, the winning candidate's).
    """

    name = "eal_gan"
    label = "EAL-GAN"
    config_class = EALGANConfig
    __init__ = keyword_init(EALGANConfig)
    networks = None   # set by fit() and load()

    def _build(self, n_features, snapshots=1):
        """Fresh networks; the discriminators hold `snapshots` copies of the ensemble."""
        cfg = self.config_
        rngs = runtime.seeded_generators(cfg.seed, ("init", "member_lr", "shuffle", "noise"))
        self.n_features_ = int(n_features)
        self.generator = Generator(rngs["init"], n_features, cfg.dim_z, cfg.gen_layer,
                                   cfg.init_type, cfg.SN_used, cfg.SN_generator_hidden)
        self.discriminators = self._discriminators(rngs["init"], snapshots)
        # Each member keeps one learning rate drawn from U[lr_d, 5 lr_d], as in the paper.
        self.member_lr_ = rngs["member_lr"].uniform(cfg.lr_d, 5 * cfg.lr_d, cfg.ensemble_num)
        # Fixes the parameter names (generator.*, discriminators.*) and scores rows.
        self.networks = EALGANNetworks(self.generator, self.discriminators)
        return rngs

    def _discriminators(self, rng, snapshots):
        cfg = self.config_
        return DiscriminatorEnsemble(rng, self.n_features_, cfg.ensemble_num * snapshots,
                                     cfg.dis_layer, cfg.dis_activation_func, cfg.init_type,
                                     cfg.SN_used)

    def _fit(self, X, y, X_val, y_val, on_epoch):
        """Train on (X, y); keep the select_top_k best epochs on validation when given."""
        if self.config_.tune:  # candidates train quietly; fit_summary() shows their scores
            return self._fit_tuned(X, y, X_val, y_val)
        self.batch_size_, self.max_epochs_ = schedule.resolve(
            self.config_.batch_size, self.config_.max_epochs, self.config_.train_steps, len(X))
        memory.check_fits(self.config_, X.shape[1], self.batch_size_)
        rngs = self._build(X.shape[1])
        rank, workers = runtime.shard()
        if workers > 1:  # each worker draws its own noise; the shuffle is shared
            rngs["noise"] = np.random.default_rng([self.config_.seed, rank, workers])
        run_config = dataclasses.replace(self.config_, batch_size=self.batch_size_,
                                         max_epochs=self.max_epochs_)
        loop = EpochLoop(self.generator, self.discriminators, self.member_lr_, run_config, rngs,
                         (rank, workers))
        self.history_, kept = loop.run(X, y, X_val, y_val, self.decision_function, on_epoch)
        if rank != 0:   # a follower's parameters equal worker 0's, which selects and saves
            return self
        # epochs x validation rows: what the selection rules are compared on
        self.validation_scores_ = np.array(loop.val_scores) if X_val is not None else None
        self.snapshot_epochs_ = kept.epochs()
        diverged = [r["epoch"] for r in self.history_
                    if r["epoch"] in self.snapshot_epochs_ and not np.isfinite(r["train_auc"])]
        if not self.snapshot_epochs_ or diverged:
            raise TrainingDiverged("EAL-GAN training diverged: its scores are not finite "
                                   "(try a smaller lr_g / lr_d)")
        self.selected_epoch_ = self.snapshot_epochs_[0]
        self.labels_queried_ = self.history_[-1]["labels_queried"]
        if len(kept.items()) > 1:
            self._merge_snapshots(kept.items())
        return self

    def _fit_tuned(self, X, y, X_val, y_val):
        """Become the fit of the candidate settings that validate best (tuning.py)."""
        if X_val is None:
            raise ValueError("tune needs a validation part: pass X_val and y_val, or a "
                             "validation_fraction above 0")
        name, winner, table = tuning.tune(type(self).from_config, self.config_, X, y, X_val,
                                          y_val)
        # Become the winner's fit (networks, history, config_); keep this model's settings.
        settings = self.get_params(deep=False)
        self.__dict__.update({k: v for k, v in vars(winner).items() if k not in settings})
        self.tuned_candidate_, self.tuning_ = name, table
        return self

    def _merge_snapshots(self, states):
        """Score with every kept epoch: one ensemble of len(states) x E discriminators.

        Members are stacked on the leading axis of every discriminator
        parameter, so the ensemble mean of the merged model is the mean of
        the kept epochs' scores.
        """
        self.discriminators = self._discriminators(np.random.default_rng(0), len(states))
        self.networks = EALGANNetworks(self.generator, self.discriminators)
        for param in self.discriminators.get_parameters():
            param.set_data(Tensor(np.concatenate([state[param.name] for state in states])))

    def decision_function(self, X):
        """Ensemble mean of the auxiliary heads' P(anomaly), one value per row."""
        if self.networks is None:
            raise RuntimeError("the model is not trained yet: call fit() or load() first")
        return score_in_chunks(lambda x: self.networks(x).asnumpy(),
                               check_features(X, self.n_features_))

    def fit_summary(self):
        epochs = ", ".join(str(e) for e in self.snapshot_epochs_)
        tuned = [] if getattr(self, "tuned_candidate_", None) is None else \
            [f"tuning candidate {row['candidate']}: held-out validation AUC "
             f"{row['heldout_auc']:.4f} Gmean {row['heldout_gmean']:.4f}"
             for row in self.tuning_] + [f"tuned settings: {self.tuned_candidate_}"]
        rates = ", ".join(f"{lr:.5f}" for lr in self.member_lr_)
        return tuned + [f"member learning rates: {rates}",
                f"batch size {self.batch_size_}, {self.max_epochs_} epochs",
                f"selected epochs {epochs} (best {self.config_.select_top_k} on validation "
                f"{self.config_.select_metric}, ties {self.config_.select_ties}), "
                f"labels queried {self.labels_queried_}"]

    def describe(self):
        """What save() records about the model itself."""
        return {"model": self.name, "n_features": self.n_features_,
                "config": dataclasses.asdict(self.config_),
                "member_lr": [float(v) for v in self.member_lr_],
                "batch_size": getattr(self, "batch_size_", None),
                "max_epochs": getattr(self, "max_epochs_", None),
                "selected_epoch": getattr(self, "selected_epoch_", None),
                "snapshot_epochs": getattr(self, "snapshot_epochs_", None),
                "labels_queried": getattr(self, "labels_queried_", None),
                "tuned_candidate": getattr(self, "tuned_candidate_", None),
                "tuning": getattr(self, "tuning_", None)}

    @classmethod
    def load(cls, directory):
        meta, model = cls._unfitted_from_saved(directory)
        config = model.config_
        # Weights saved before snapshot ensembles hold one epoch.
        model.snapshot_epochs_ = meta.get("snapshot_epochs") or [meta.get("selected_epoch")]
        model._build(meta["n_features"], len(model.snapshot_epochs_))
        model._load_saved(directory, meta)
        model.member_lr_ = np.asarray(meta["member_lr"])
        model.selected_epoch_ = meta.get("selected_epoch")
        model.batch_size_ = meta.get("batch_size", config.batch_size)
        model.max_epochs_ = meta.get("max_epochs", config.max_epochs)
        model.labels_queried_ = meta.get("labels_queried")
        return model
