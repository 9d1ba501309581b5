"""Compiled training graphs shared by the fits of one process.

MindSpore compiles a graph for each cell instance, so a fit that builds new
cells compiles its D step, G step and scoring graphs again although an
earlier fit of the same shapes compiled the same graphs: 7-9 s of every
fit of a small table here, more than the training itself on glass.

A fit borrows from this pool a set of training cells of its shapes, loads
its own initial parameters and learning rates into them, trains, and hands
the set back; the estimator keeps cells of its own, filled with the trained
values.  Nothing that differs between such fits is compiled into the
graphs (learning rates and Adam's state are parameters), so a borrowed set
trains exactly as a fresh one, bit for bit (tests/test_graph_pool.py).

Fitted models score through pooled scoring networks in the same way
(`score`): their values are copied in before each call, so a model that
scores rows compiles nothing that an earlier model of its shapes compiled.

A set is out of the pool while a fit or a scoring call uses it, so several
threads never share one; the pool keeps the POOL_SIZE most recently
returned sets.  Sets of many shapes (a study over many tables) hold a lot
of memory: a fit that would not fit beside them drops them first.
"""
import collections
import dataclasses
import gc
import threading

import numpy as np

from ..utils.checkpoint import fill_cell
from ..utils.compile_cache import network_shapes
from .networks import EALGANNetworks
from .trainer import DiscriminatorStep, GeneratorStep, snapshot

POOL_SIZE = 16
_pool = collections.OrderedDict()
_lock = threading.Lock()


def graph_settings(config):
    """The settings that decide what is compiled: all but those declared
    `changes_graph=False` (models/eal_gan/estimator.py)."""
    return tuple((field.name, getattr(config, field.name)) for field in dataclasses.fields(config)
                 if field.metadata.get("changes_graph", True))


def graph_key(config, n_features, shard_rows, workers):
    """What fixes the compiled training graphs of a fit: its graph settings, the features,
    the rows of a step and the workers."""
    return ("train", graph_settings(config), int(n_features), int(shard_rows), int(workers))


def copy_values(target, source, what):
    """Set every parameter of `target` to the value of `source`'s parameter of that name."""
    fill_cell(target, snapshot([source]), what)


class TrainingGraphs:
    """A generator, discriminators and the compiled steps that train them."""

    def __init__(self, generator, discriminators, config, workers):
        self.generator, self.discriminators = generator, discriminators
        # Fixes the parameter names (generator.*, discriminators.*) as the estimator's own
        # networks have them, and scores rows during training.
        self.networks = EALGANNetworks(generator, discriminators)
        self.d_step = DiscriminatorStep(generator, discriminators, np.ones(config.ensemble_num),
                                        query_all=config.active_rate >= 1, workers=workers)
        self.g_step = GeneratorStep(generator, discriminators, 1.0, workers=workers)

    def load(self, networks, member_lr, lr_g):
        """Start a fit: `networks`' parameter values, these learning rates, Adam at step 0."""
        copy_values(self.networks, networks, "the fit's initial networks")
        self.d_step.optimizer.reset(member_lr)
        self.g_step.optimizer.reset(lr_g)


def score(networks, config, X, build, score_rows):
    """score_rows(scoring networks, X) with `networks`' values in pooled networks of its
    shapes and settings; build() makes such networks when the pool has none."""
    shapes = tuple((name, tuple(shape)) for name, shape in network_shapes(networks))
    key = ("score", graph_settings(config), shapes)
    scorer = borrow(key, build)
    try:
        copy_values(scorer, networks, "the model's networks")
        return score_rows(scorer, X)
    finally:
        give_back(key, scorer)


def borrow(key, build):
    """The pooled set under `key` (taken out of the pool), or a new one from build()."""
    with _lock:
        graphs = _pool.pop(key, None)
    return graphs if graphs is not None else build()


def give_back(key, graphs):
    """Return a set to the pool; the least recently returned beyond POOL_SIZE are dropped."""
    with _lock:
        _pool[key] = graphs
        _pool.move_to_end(key)
        while len(_pool) > POOL_SIZE:
            _pool.popitem(last=False)


def clear():
    """Drop every pooled set (their compiled graphs go with them); whether there was any."""
    with _lock:
        held = bool(_pool)
        _pool.clear()
    gc.collect()   # the cells' reference cycles hold the graphs' memory until collected
    return held
