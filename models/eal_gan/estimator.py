"""EAL-GAN as a detector: configuration, fit / score / save / load."""
import dataclasses
import functools

import numpy as np
from mindspore import Tensor

from ..core.detector import (Detector, ModelTooLarge, TrainingDiverged, check_learning_rates,
                             check_validation_fraction, document, keyword_init, score_in_chunks)
from ..core.settings import IntOrAuto, setting
from ..utils import runtime
from . import graphs, memory, schedule, tuning
from .networks import ACTIVATIONS, INIT_TYPES, DiscriminatorEnsemble, EALGANNetworks, Generator
from .selection import SELECTION_METRICS, SELECTION_TIES
from .trainer import EpochLoop


@dataclasses.dataclass
class EALGANConfig:
    """Hyper-parameters, named as the reference's command-line flags.

    The defaults are tuning.DEFAULT_CANDIDATE's settings (configs/default.yaml
    says why); configs/default.yaml repeats them for the command line, and a
    test holds the two equal.  Settings marked changes_graph=False set only values
    or the training loop, never what is compiled: fits that differ only in
    them share compiled graphs (graphs.py).
    """

    max_epochs: IntOrAuto = setting(
        schedule.AUTO, 'Training epochs; "auto": the epochs that spend train_steps optimiser '
        "steps (20-200).", changes_graph=False)
    batch_size: IntOrAuto = setting(
        schedule.AUTO, 'Rows per step, at most the training rows; "auto": about 32 batches '
        "per epoch, a power of two in [16, 256].", changes_graph=False)
    train_steps: int = setting(3000, 'Step budget behind max_epochs="auto".', changes_graph=False)
    lr_g: float = setting(0.005, "Generator learning rate (Adam).", changes_graph=False)
    lr_d: float = setting(0.005, "Discriminator learning rate: member i draws its own from "
                          "U[lr_d, 5 lr_d].", changes_graph=False)
    active_rate: float = setting(1.0, "Share of each batch whose labels the discriminators "
                                 "query (active learning), in (0, 1].")
    shuffle: bool = setting(True, "Reshuffle the training rows every epoch; False: one fixed "
                            "order, as the authors' loop trains.", changes_graph=False)
    dim_z: int = setting(128, "Size of the generator's noise input.")
    dis_layer: int = setting(1, "Extra hidden layers of each discriminator.")
    gen_layer: int = setting(2, "Hidden layers of the generator.")
    ensemble_num: int = setting(10, "Discriminators in the ensemble.")
    dis_activation_func: str = setting("relu", "Activation after the discriminators' extra "
                                       "layers.", choices=tuple(ACTIVATIONS))
    init_type: str = setting("N02", "Weight initialisation: N(0, 0.02), orthogonal or Xavier.",
                             choices=INIT_TYPES, changes_graph=False)
    SN_used: bool = setting(False, "Spectral normalisation of every Dense weight.")
    SN_generator_hidden: bool = setting(True, "With SN_used, also the generator's middle "
                                        "layers (False: the authors' plain middle layers).")
    select_metric: str = setting("auc_gmean", "How epochs are ranked on validation.",
                                 choices=SELECTION_METRICS, changes_graph=False)
    select_top_k: int = setting(10, "The k best epochs on validation are kept; their "
                                "ensembles are averaged.", changes_graph=False)
    select_ties: str = setting("confidence", "Epochs still tied go to the lower validation "
                               "balanced log-loss (confidence) or to the earlier epoch.",
                               choices=SELECTION_TIES, changes_graph=False)
    refit: bool = setting(False, "After choosing epochs on validation, train again on the "
                          "training and validation rows together (same seed, batch size and "
                          "steps per row) and keep the chosen epochs.", changes_graph=False)
    bags: int = setting(1, "Fits seeded seed, seed + 1, ... on the same rows, each choosing its "
                        "own epochs; the model averages all their kept ensembles.",
                        changes_graph=False)
    tune: bool = setting(False, "Choose the settings among tuning.CANDIDATES on validation, "
                         "then refit with the winner.", changes_graph=False)
    tune_seeds: int = setting(2, "Training seeds per candidate when tuning.", changes_graph=False)
    validation_fraction: float = setting(0.25, "Stratified share of (X, y) that fit() holds "
                                         "out to choose epochs when no X_val is given; 0: "
                                         "none.", changes_graph=False)
    seed: int = setting(42, "Seeds everything random: initial weights, member learning rates, "
                        "shuffles, noise, the held-out validation part.", changes_graph=False)

    def validate(self):
        positive = ("train_steps", "ensemble_num", "select_top_k", "tune_seeds", "bags")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("max_epochs", "batch_size"):
            setattr(self, name, schedule.check_setting(name, getattr(self, name)))
        for name in ("dis_layer", "gen_layer"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        check_validation_fraction(self.validation_fraction)
        if self.dim_z < 2:
            raise ValueError(f"dim_z must be at least 2, got {self.dim_z}")
        check_learning_rates(self)
        if not 0 < self.active_rate <= 1:
            raise ValueError(f"active_rate must be in (0, 1], got {self.active_rate}")
        return self


class EALGAN(Detector):
    name = "eal_gan"
    label = "EAL-GAN"
    config_class = EALGANConfig
    __init__ = keyword_init(EALGANConfig)

    def _build(self, n_features, snapshots=1):
        """Fresh networks; the discriminators hold `snapshots` copies of the ensemble."""
        cfg = self.config_
        rngs = runtime.seeded_generators(cfg.seed, ("init", "member_lr", "shuffle", "noise"))
        self.n_features_in_ = int(n_features)
        self.generator_ = self._generator(rngs["init"])
        self.discriminators_ = self._discriminators(rngs["init"], snapshots)
        # Each member keeps one learning rate drawn from U[lr_d, 5 lr_d], as in the paper.
        self.member_lr_ = rngs["member_lr"].uniform(cfg.lr_d, 5 * cfg.lr_d, cfg.ensemble_num)
        # Fixes the parameter names (generator.*, discriminators.*) and scores rows.
        self.networks_ = EALGANNetworks(self.generator_, self.discriminators_)
        return rngs

    def _generator(self, rng):
        cfg = self.config_
        return Generator(rng, self.n_features_in_, cfg.dim_z, cfg.gen_layer, cfg.init_type,
                         cfg.SN_used, cfg.SN_generator_hidden)

    def _discriminators(self, rng, snapshots):
        cfg = self.config_
        return DiscriminatorEnsemble(rng, self.n_features_in_, cfg.ensemble_num * snapshots,
                                     cfg.dis_layer, cfg.dis_activation_func, cfg.init_type,
                                     cfg.SN_used)

    def _fit(self, X, y, X_val, y_val, on_epoch):
        """Train on (X, y); keep the select_top_k best epochs on validation when given.

        With bags > 1, further fits seeded seed + 1, ... run on the same rows and
        the model averages every fit's kept ensembles.
        """
        self.__dict__.pop("refit_history_", None)   # an earlier fit's, if it refitted
        if self.config_.tune:  # candidates train quietly; fit_summary() shows their scores
            return self._fit_tuned(X, y, X_val, y_val, on_epoch)
        self._check_refit(X_val)
        states = self._fit_bag(X, y, X_val, y_val, on_epoch)
        kept_epochs = [self.snapshot_epochs_] if states is not None else []
        for bag in range(1, self.config_.bags):
            member = type(self).from_config(dataclasses.replace(
                self.config_, seed=self.config_.seed + bag, bags=1))
            member.config_ = member.config
            extra = member._fit_bag(X, y, X_val, y_val, None)
            if states is not None:
                states += extra
                kept_epochs.append(member.snapshot_epochs_)
        if states is None:   # a data-parallel follower: worker 0 selects and saves
            return self
        self.bag_seeds_ = [self.config_.seed + bag for bag in range(self.config_.bags)]
        self.snapshot_epochs_ = [epoch for epochs in kept_epochs for epoch in epochs]
        if len(states) > 1:
            self._merge_snapshots(states)
        return self

    def _check_refit(self, X_val):
        if not self.config_.refit:
            return
        if X_val is None:
            raise ValueError("refit needs a validation part to choose its epochs: pass X_val "
                             "and y_val, or a validation_fraction above 0")
        if runtime.shard()[1] > 1:
            raise ValueError("refit trains one process's choice of epochs again; data-parallel "
                             "training does not refit: set refit=False")

    def _fit_bag(self, X, y, X_val, y_val, on_epoch):
        """One seeded fit (and, with refit, its refit); the kept epochs' parameters, best
        first, or None on a data-parallel follower."""
        self.batch_size_, self.max_epochs_ = schedule.resolve(
            self.config_.batch_size, self.config_.max_epochs, self.config_.train_steps, len(X))
        self._check_memory(X.shape[1])
        run_config = dataclasses.replace(self.config_, batch_size=self.batch_size_,
                                         max_epochs=self.max_epochs_)
        self.history_, kept, loop = self._train(run_config, (X, y, X_val, y_val), on_epoch)
        if runtime.shard()[0] != 0:  # a follower's parameters equal worker 0's
            return None
        # epochs x validation rows: what the selection rules are compared on
        self.validation_scores_ = np.array(loop.val_scores) if X_val is not None else None
        self.snapshot_epochs_ = kept.epochs()
        self._check_finite(self.history_)
        self.selected_epoch_ = self.snapshot_epochs_[0]
        self.labels_queried_ = self.history_[-1]["labels_queried"]
        if not self.config_.refit:
            return kept.items()
        return self._refit(np.concatenate((X, X_val)), np.concatenate((y, y_val)), run_config)

    def _check_memory(self, n_features):
        """Refuse a fit that would not fit in memory, counting the memory the pooled graphs
        of earlier fits hold (graphs.py) as free: they are dropped to make room."""
        try:
            memory.check_fits(self.config_, n_features, self.batch_size_)
        except ModelTooLarge:
            if not graphs.clear():
                raise
            memory.check_fits(self.config_, n_features, self.batch_size_)

    def _refit(self, X, y, run_config):
        """Train again from the same initial values on every labelled row, with the same
        batch size, up to the last chosen epoch; keep the chosen epochs (their
        validation order).  The parameters of those epochs, best first."""
        refit_config = dataclasses.replace(run_config, max_epochs=max(self.snapshot_epochs_))
        self.refit_history_, kept, _ = self._train(refit_config, (X, y, None, None), None,
                                                   keep_epochs=self.snapshot_epochs_)
        self._check_finite(self.refit_history_)
        self.labels_queried_ = self.refit_history_[-1]["labels_queried"]
        return kept.items()

    def _check_finite(self, history):
        """Refuse a fit whose kept epochs scored NaN or infinity (or that kept none)."""
        diverged = [r["epoch"] for r in history
                    if r["epoch"] in self.snapshot_epochs_ and not np.isfinite(r["train_auc"])]
        if not self.snapshot_epochs_ or diverged:
            raise TrainingDiverged("EAL-GAN training diverged: its scores are not finite "
                                   "(try a smaller lr_g / lr_d)")

    def _train(self, run_config, parts, on_epoch, keep_epochs=None):
        """Build this model's networks from its seed, run the epoch loop on pooled training
        graphs of these shapes (graphs.py), then fill the networks with the best epoch's
        values.  keep_epochs: keep these epochs instead of choosing on validation."""
        rngs = self._build(parts[0].shape[1])
        shard = runtime.shard()
        if shard[1] > 1:  # each worker draws its own noise; the shuffle is shared
            rngs["noise"] = np.random.default_rng([self.config_.seed, *shard])
        key, training = self._borrow_graphs(run_config, len(parts[0]), shard[1])
        loop = EpochLoop(training, run_config, rngs, shard)
        score = functools.partial(score_rows, training.networks)
        try:
            history, kept = loop.run(*parts, score, on_epoch, keep_epochs)
        finally:  # a failed fit's graphs are still good: load() resets every value
            graphs.give_back(key, training)
        graphs.copy_values(self.networks_, training.networks, "the trained networks")
        return history, kept, loop

    def _borrow_graphs(self, run_config, rows, workers):
        """(pool key, training graphs) of this model's shapes for `rows` training rows,
        loaded with its initial values and learning rates (graphs.py)."""
        shard_rows = -(-min(run_config.batch_size, rows) // workers)
        key = graphs.graph_key(run_config, self.n_features_in_, shard_rows, workers)
        training = graphs.borrow(key, lambda: graphs.TrainingGraphs(
            self._generator(np.random.default_rng(0)),
            self._discriminators(np.random.default_rng(0), 1), run_config, workers))
        training.load(self.networks_, self.member_lr_, run_config.lr_g)
        return key, training

    def _fit_tuned(self, X, y, X_val, y_val, on_epoch):
        """Choose the candidate settings that validate best (tuning.py), then refit with them."""
        if X_val is None:
            raise ValueError("tune needs a validation part: pass X_val and y_val, or a "
                             "validation_fraction above 0")
        name, table = tuning.tune(type(self).from_config, self.config_, X, y, X_val, y_val,
                                  verbose=self.verbose)
        self.tuned_candidate_, self.tuning_ = name, table
        self.best_params_ = tuning.candidate_settings(self.config_, name)
        # The refit repeats the winner's fit with this run's seed: the same numbers,
        # one fit more, and the model's own attributes describe it.
        self.config_ = tuning.candidate_config(self.config_, name)
        return self._fit(X, y, X_val, y_val, on_epoch)

    def _merge_snapshots(self, states):
        """Score with every kept epoch: one ensemble of len(states) x E discriminators.

        Members are stacked on the leading axis of every discriminator
        parameter, so the ensemble mean of the merged model is the mean of
        the kept epochs' scores.
        """
        self.discriminators_ = self._discriminators(np.random.default_rng(0), len(states))
        self.networks_ = EALGANNetworks(self.generator_, self.discriminators_)
        for param in self.discriminators_.get_parameters():
            param.set_data(Tensor(np.concatenate([state[param.name] for state in states])))

    def _score(self, X):
        """Ensemble mean of the auxiliary heads' P(anomaly), one value per row."""
        return graphs.score(self.networks_, self.config_, X, lambda: EALGANNetworks(
            self._generator(np.random.default_rng(0)),
            self._discriminators(np.random.default_rng(0), len(self.snapshot_epochs_))),
            score_rows)

    def _rebuild(self):
        self._build(self.n_features_in_, len(self.snapshot_epochs_))

    def fit_summary(self):
        epochs = ", ".join(str(e) for e in self.snapshot_epochs_)
        bags = getattr(self, "bag_seeds_", [self.config_.seed])
        trained = [f"{len(bags)} bags (seeds {', '.join(map(str, bags))}), kept epochs per "
                   "bag in order"] if len(bags) > 1 else []
        if self.config_.refit:
            trained.append("refitted on the training and validation rows, keeping the "
                           "epochs chosen on validation")
        tuned = [] if getattr(self, "tuned_candidate_", None) is None else \
            [f"tuning candidate {row['candidate']}: held-out validation AUC "
             f"{row['heldout_auc']:.4f} Gmean {row['heldout_gmean']:.4f}"
             for row in self.tuning_] + [f"tuned settings: {self.tuned_candidate_}"]
        rates = ", ".join(f"{lr:.5f}" for lr in self.member_lr_)
        return tuned + trained + [f"member learning rates: {rates}",
                f"batch size {self.batch_size_}, {self.max_epochs_} epochs",
                f"selected epochs {epochs} (best {self.config_.select_top_k} on validation "
                f"{self.config_.select_metric}, ties {self.config_.select_ties}), "
                f"labels queried {self.labels_queried_}"]

    def describe(self):
        """What save() records about the model itself."""
        return {"model": self.name, "n_features": self.n_features_in_,
                "config": dataclasses.asdict(self.config_),
                "member_lr": [float(v) for v in self.member_lr_],
                "batch_size": getattr(self, "batch_size_", None),
                "max_epochs": getattr(self, "max_epochs_", None),
                "selected_epoch": getattr(self, "selected_epoch_", None),
                "snapshot_epochs": getattr(self, "snapshot_epochs_", None),
                "labels_queried": getattr(self, "labels_queried_", None),
                "bag_seeds": getattr(self, "bag_seeds_", None),
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
        model.bag_seeds_ = meta.get("bag_seeds") or [config.seed]
        return model


def score_rows(networks, X):
    """Ensemble scores of the rows X by `networks` (an EALGANNetworks)."""
    return score_in_chunks(lambda x: networks(x).asnumpy(), X)


document(EALGAN, """Conditional GAN with an actively trained ensemble of discriminators.

One generator makes rows of either class; an ensemble of discriminators,
each with an adversarial head and an auxiliary "is this an anomaly?" head,
learns from real rows (labels queried by active learning) and generated
ones, with an ensemble focal loss.  The score of a row is the ensemble mean
of the auxiliary heads' P(anomaly), averaged over the `select_top_k` epochs
that score best on the validation part.""", {
    "generator_": ("Generator", "The conditional generator (mindspore.nn.Cell)."),
    "discriminators_": ("DiscriminatorEnsemble", "The discriminators, stacked: ensemble_num "
                        "members per kept epoch."),
    "batch_size_": ("int", "Batch size the fit used ('auto' resolved)."),
    "max_epochs_": ("int", "Epochs the fit ran ('auto' resolved)."),
    "member_lr_": ("ndarray of shape (ensemble_num,)", "Each discriminator's learning rate."),
    "snapshot_epochs_": ("list of int", "The kept epochs, best on validation first (with "
                         "bags, each bag's in turn); the model averages their ensembles."),
    "bag_seeds_": ("list of int", "The seed of each bag's fit (one: seed)."),
    "refit_history_": ("list of dict", "With refit=True: the refit's epoch records (the "
                       "first bag's)."),
    "selected_epoch_": ("int", "The best epoch on validation (snapshot_epochs_[0])."),
    "validation_scores_": ("ndarray of shape (epochs, n_val) or None", "Every epoch's "
                           "scores of the validation rows: what the selection rule ranked."),
    "labels_queried_": ("int", "Training rows whose label active learning queried."),
    "tuned_candidate_": ("str", "With tune=True: the winning candidate of tuning.CANDIDATES."),
    "best_params_": ("dict", "With tune=True: the settings the winner set (the refit's)."),
    "tuning_": ("list of dict", "With tune=True: every candidate's held-out validation AUC "
                "and Gmean, why the winner won."),
}, """Examples
--------
>>> model = EALGAN(train_steps=300, verbose=1).fit(X, y)   # holds out 25 % to choose epochs
>>> scores = model.decision_function(X_test)               # in [0, 1]; predict(): >= 0.5""")
