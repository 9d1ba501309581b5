"""Networks against NumPy forward passes; the hand-written gradient against autodiff."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, ops, Tensor

from models.eal_gan.networks import (DiscriminatorEnsemble, Generator, StackedDense, _AffineOp,
                             init_weight)


def params(cell):
    return {p.name.split(".", 1)[-1] if p.name.startswith(("generator.", "discriminators."))
            else p.name: p.asnumpy().astype(np.float64) for p in cell.get_parameters()}


def dense(p, layer, h):
    return h @ p[f"dense_layers.{layer}.weight"] + p[f"dense_layers.{layer}.bias"]


@pytest.mark.parametrize("activation,fn", [("relu", lambda v: np.maximum(v, 0)),
                                           ("tanh", np.tanh)])
def test_discriminators_match_numpy(activation, fn):
    rng = np.random.default_rng(0)
    disc = DiscriminatorEnsemble(rng, 5, 3, 2, activation, "xavier", False)
    p = params(disc)
    x = rng.standard_normal((11, 5))
    y = rng.integers(0, 2, 11)
    adv, cls = disc(Tensor(x.astype(np.float32)), Tensor(y.astype(np.int32)))
    h = np.maximum(dense(p, 0, x), 0)
    for layer in (1, 2):
        h = fn(dense(p, layer, h))
    projection = (p["embed"][:, y, :] * h).sum(-1)
    np.testing.assert_allclose(adv.asnumpy(), dense(p, 3, h)[..., 0] + projection, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(cls.asnumpy(), dense(p, 4, h)[..., 0], rtol=1e-4, atol=1e-5)


def test_generator_matches_numpy():
    rng = np.random.default_rng(1)
    gen = Generator(rng, 4, 6, 2, "ortho", False)
    p = params(gen)
    z = rng.standard_normal((9, 6))
    y = rng.integers(0, 2, 9)
    h = np.concatenate([z, p["embed"][y]], axis=1)
    for layer in range(3):
        h = np.maximum(dense(p, layer, h), 0)
    want = dense(p, 3, h)[0]
    np.testing.assert_allclose(gen(Tensor(z.astype(np.float32)), Tensor(y.astype(np.int32)))
                               .asnumpy(), want, rtol=1e-4, atol=1e-5)


class _Loss(nn.Cell):
    def __init__(self, custom):
        super().__init__()
        self.custom = custom
        self.affine = _AffineOp()

    def construct(self, x, w, b):
        out = self.affine(x, w, b) if self.custom else ops.matmul(x, w) + b
        return (ops.tanh(out) * out).sum()


@pytest.mark.parametrize("members,x_shape", [(4, (16, 3)), (4, (4, 16, 3)), (1, (16, 3)),
                                             (1, (1, 16, 3))])
def test_affine_gradient_matches_autodiff(members, x_shape):
    rng = np.random.default_rng(2)
    x, w, b = (Tensor(rng.standard_normal(s).astype(np.float32))
               for s in (x_shape, (members, 3, 5), (members, 1, 5)))
    grads = [ms.grad(_Loss(custom), grad_position=(0, 1, 2))(x, w, b) for custom in (True, False)]
    for mine, autodiff in zip(*grads):
        np.testing.assert_allclose(mine.asnumpy(), autodiff.asnumpy(), rtol=1e-4, atol=1e-5)


def test_init_schemes():
    rng = np.random.default_rng(3)
    n02 = init_weight(rng, "N02", 4, 200, 300)
    assert abs(n02.std() - 0.02) < 0.001 and abs(n02.mean()) < 0.001
    xavier = init_weight(rng, "xavier", 2, 30, 50)
    assert np.abs(xavier).max() <= np.sqrt(6 / 80) and np.abs(xavier).max() > 0.9 * np.sqrt(6 / 80)
    for shape in ((6, 4), (4, 6)):
        ortho = init_weight(rng, "ortho", 3, *shape)
        for member in ortho:
            gram = member.T @ member if shape[0] >= shape[1] else member @ member.T
            np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-10)
    with pytest.raises(ValueError, match="init_type"):
        init_weight(rng, "he", 1, 2, 2)


def test_spectral_norm_converges_to_unit_top_singular_value():
    rng = np.random.default_rng(4)
    layer = StackedDense(rng, 3, 6, 5, "N02", True)
    for _ in range(50):
        ops.assign(layer.u, layer.next_u())
    for member in layer.effective_weight().asnumpy():
        assert abs(np.linalg.svd(member, compute_uv=False)[0] - 1.0) < 1e-3
