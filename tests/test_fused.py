"""The fused ensemble step equals the member-by-member update of the reference."""
import numpy as np
import pytest
from mindspore import Tensor

from models import EALGAN
from models.eal_gan.trainer import DiscriminatorStep, GeneratorStep
from tests.reference.unfused import UnfusedTrainer, split_members


@pytest.mark.parametrize("active_rate,spectral",
                         [(1.0, False), pytest.param(0.4, True, marks=pytest.mark.slow)])
def test_fused_step_equals_member_by_member(active_rate, spectral):
    settings = dict(ensemble_num=3, dim_z=8, batch_size=32, active_rate=active_rate,
                    SN_used=spectral, dis_activation_func="tanh", seed=3, lr_g=0.001,
                    lr_d=0.001, init_type="N02")
    fused, reference = EALGAN(**settings), EALGAN(**settings)
    for model in (fused, reference):  # networks as fit() builds them, without training
        model.config_ = model.config
        model._build(5)
    members = split_members(reference.discriminators_, np.random.default_rng(0),
                            reference.config, 5)
    d_step = DiscriminatorStep(fused.generator_, fused.discriminators_, fused.member_lr_)
    g_step = GeneratorStep(fused.generator_, fused.discriminators_, fused.config.lr_g)
    unfused = UnfusedTrainer(reference.generator_, members, reference.member_lr_, reference.config)

    rng = np.random.default_rng(1)
    batch = 32
    for iteration in range(1, 3):
        x = Tensor(rng.standard_normal((batch, 5)).astype(np.float32))
        y = Tensor((rng.random(batch) < 0.3).astype(np.int32))
        z, y_fake = (Tensor(rng.standard_normal((batch, 8)).astype(np.float32)),
                     Tensor(rng.integers(0, 2, batch).astype(np.int32)))
        k = max(1, int(batch * active_rate))
        losses, mask = d_step(x, y, Tensor(np.ones(batch, np.float32)), Tensor(np.int32(k)),
                              Tensor(np.float32(iteration > 1)), z, y_fake)
        reference_losses = unfused.d_step(x, y, batch, z, y_fake)
        assert mask.asnumpy().sum() == k
        np.testing.assert_allclose(losses.asnumpy(), reference_losses, rtol=1e-4)
        g_noise = (Tensor(rng.standard_normal((batch, 8)).astype(np.float32)),
                   Tensor(rng.integers(0, 2, batch).astype(np.int32)))
        np.testing.assert_allclose(g_step(*g_noise).asnumpy(), unfused.g_step(*g_noise).asnumpy(),
                                   rtol=1e-4)

    for i, member in enumerate(members):
        for mine, theirs in zip(fused.discriminators_.get_parameters(), member.get_parameters()):
            np.testing.assert_allclose(mine.asnumpy()[i], theirs.asnumpy()[0], rtol=1e-4,
                                       atol=1e-6)
    for mine, theirs in zip(fused.generator_.get_parameters(),
                            reference.generator_.get_parameters()):
        np.testing.assert_allclose(mine.asnumpy(), theirs.asnumpy(), rtol=1e-4, atol=1e-6)
