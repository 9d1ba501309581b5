"""StackedAdam against PyTorch's Adam formula written in NumPy."""
import numpy as np
import pytest
from mindspore import Parameter, Tensor

from models.core.optim import StackedAdam


def torch_adam(param, grads, lr, betas, eps=1e-8):
    m = np.zeros_like(param)
    v = np.zeros_like(param)
    for t, g in enumerate(grads, start=1):
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        denom = np.sqrt(v) / np.sqrt(1 - betas[1] ** t) + eps
        param = param - lr / (1 - betas[0] ** t) * m / denom
    return param


@pytest.mark.parametrize("betas", [(0.0, 0.99), (0.9, 0.999)])
def test_per_member_learning_rates(betas):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 4, 2)).astype(np.float32)
    lr = np.array([0.001, 0.003, 0.005])
    grads = [rng.standard_normal(start.shape).astype(np.float32) for _ in range(4)]
    weight = Parameter(Tensor(start.copy()), name="w")
    optimizer = StackedAdam([weight], lr, name="test_adam", betas=betas)
    for g in grads:
        optimizer((Tensor(g),))
    want = torch_adam(start.astype(np.float64), grads, lr.reshape(-1, 1, 1), betas)
    np.testing.assert_allclose(weight.asnumpy(), want, rtol=1e-5, atol=1e-7)
    # members really moved by different amounts
    moved = np.abs(weight.asnumpy() - start).mean(axis=(1, 2))
    assert moved[0] < moved[1] < moved[2]


def test_several_parameters_of_different_shapes():
    rng = np.random.default_rng(1)
    shapes = [(2, 3, 4), (2, 1, 4), (2, 5)]
    starts = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    params = [Parameter(Tensor(s.copy()), name=f"p{i}") for i, s in enumerate(starts)]
    optimizer = StackedAdam(params, [0.01, 0.02], name="shapes_adam")
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]
    for step in grads:
        optimizer(tuple(Tensor(g) for g in step))
    for i, (param, start) in enumerate(zip(params, starts)):
        lr = np.array([0.01, 0.02]).reshape((2,) + (1,) * (start.ndim - 1))
        want = torch_adam(start.astype(np.float64), [step[i] for step in grads], lr, (0.0, 0.99))
        np.testing.assert_allclose(param.asnumpy(), want, rtol=1e-5, atol=1e-7)
