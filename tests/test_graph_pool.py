"""Fits of the same shapes share compiled training graphs (models/eal_gan/graphs.py) and
train exactly as fits on fresh graphs."""
import dataclasses

import numpy as np
import pytest

from conftest import separable_data
from models import EALGAN
from models.eal_gan import graphs
from models.eal_gan.estimator import score_rows

SETTINGS = dict(max_epochs=3, batch_size=32, ensemble_num=3, dim_z=8, select_top_k=2)


def fitted_scores(X, y, **settings):
    model = EALGAN(**{**SETTINGS, **settings}).fit(X[:150], y[:150], X[150:], y[150:])
    return model.decision_function(X), model


def training_sets():
    return [(key, value) for key, value in graphs._pool.items()
            if key[0] == "train"]


def test_a_borrowed_set_trains_bit_for_bit_as_fresh_graphs():
    X, y = separable_data(rows=200, features=4, seed=31)
    graphs.clear()
    fresh, _ = fitted_scores(X, y, seed=1)
    (key, first_set), = training_sets()
    # another seed, learning rate and initialisation: the same graphs, other values
    other, _ = fitted_scores(X, y, seed=2, lr_d=0.01, init_type="xavier")
    assert training_sets() == [(key, first_set)]
    again, model = fitted_scores(X, y, seed=1)
    assert graphs._pool[key] is first_set
    # the fit reset the weights, the spectral state, Adam's moments and step, and the rates
    np.testing.assert_array_equal(again, fresh)
    assert not np.array_equal(other, fresh)
    # the model owns its cells: the pooled set training on does not change them
    fitted_scores(X, y, seed=3)
    np.testing.assert_array_equal(model.decision_function(X), fresh)


def test_models_of_the_same_shapes_score_through_one_pooled_scorer_with_their_own_values():
    X, y = separable_data(rows=200, features=4, seed=32)
    graphs.clear()
    _, first = fitted_scores(X, y, seed=1)
    _, second = fitted_scores(X, y, seed=2)
    scorers = [value for key, value in graphs._pool.items() if key[0] == "score"]
    assert len(scorers) == 1
    for model in (first, second, first):   # each call loads that model's values
        # the model's own networks, compiled separately, are the reference
        np.testing.assert_array_equal(model.decision_function(X),
                                      score_rows(model.networks_, X))
    assert not np.array_equal(first.decision_function(X), second.decision_function(X))


def test_fits_that_compile_other_graphs_get_sets_of_their_own():
    config = EALGAN(**SETTINGS).config
    key = graphs.graph_key(config, 4, 32, 1)
    for values_only in (dict(seed=9), dict(lr_g=0.1, lr_d=0.2), dict(init_type="ortho"),
                        dict(max_epochs=7, train_steps=5, batch_size=64), dict(shuffle=False)):
        assert graphs.graph_key(dataclasses.replace(config, **values_only), 4, 32, 1) == key
    for shapes in (dict(SN_used=True), dict(dis_activation_func="tanh"), dict(dim_z=16),
                   dict(active_rate=0.5), dict(ensemble_num=4), dict(gen_layer=1)):
        assert graphs.graph_key(dataclasses.replace(config, **shapes), 4, 32, 1) != key
    assert graphs.graph_key(config, 5, 32, 1) != key      # features
    assert graphs.graph_key(config, 4, 16, 1) != key      # rows of a step
    assert graphs.graph_key(config, 4, 32, 2) != key      # workers


def test_the_pool_keeps_the_most_recently_returned_sets():
    graphs.clear()
    for index in range(graphs.POOL_SIZE + 2):
        graphs.give_back(f"key {index}", object())
    assert list(graphs._pool) == [f"key {index}" for index in range(2, graphs.POOL_SIZE + 2)]
    taken = graphs.borrow("key 5", lambda: None)
    assert taken is not None and "key 5" not in graphs._pool   # out while a fit uses it
    assert graphs.borrow("key 5", lambda: "built") == "built"
    graphs.clear()


def test_a_fit_short_of_memory_drops_the_pooled_graphs_first(monkeypatch):
    from models.core.detector import ModelTooLarge
    from models.eal_gan import memory
    X, y = separable_data(rows=120, features=4)
    graphs.clear()
    EALGAN(max_epochs=1, batch_size=32, ensemble_num=2).fit(X, y)
    assert graphs._pool   # its training and scoring sets
    needed = memory.estimated_bytes(EALGAN(ensemble_num=2).config, 4, 32)
    # memory is short while the pool holds graphs, enough once it is empty
    monkeypatch.setattr(memory, "available_bytes",
                        lambda: needed - 1 if graphs._pool else needed)
    EALGAN(max_epochs=1, batch_size=32, ensemble_num=2, seed=5).fit(X, y)
    monkeypatch.setattr(memory, "available_bytes", lambda: needed - 1)   # short either way
    with pytest.raises(ModelTooLarge):
        EALGAN(max_epochs=1, batch_size=32, ensemble_num=2, seed=6).fit(X, y)
    assert not graphs._pool
