"""AnoGAN (Schlegl et al., IPMI 2017; seed document 003), tabular, with a batched latent search.

A GAN on normal rows: generator G (z -> x) and a discriminator with dense
features f(x) (non-saturating losses).  Scoring searches, for every row at
once, the latent point whose generated row fits it best:

    L(z; x) = (1 - lambda) |x - G(z)| + lambda |f(x) - f(G(z))|    (means, lambda = 0.1)

with SEARCH_STEPS Adam steps on z, all rows of a chunk in one compiled step
(each row's loss depends only on its own z, so one gradient serves all).  The
search starts at z = 0, the prior's mean, so a row's score does not depend
on which chunk it is in.  The anomaly score is L at the final z.  This search
makes AnoGAN by far the slowest detector to score.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Tensor

from .ganomaly import Discriminator
from .layers import GAN_BETAS, bce_with_logits, gan_steps, mlp, residual_score
from .semi_supervised import SemiSupervisedDetector, document_family, hidden_size, latent_size

LAMBDA = 0.1
SEARCH_STEPS = 50
SEARCH_LR = 0.05


class _GeneratorLoss(nn.Cell):
    def __init__(self, generator, discriminator):
        super().__init__(auto_prefix=False)
        self.generator, self.discriminator = generator, discriminator

    def construct(self, z):
        return bce_with_logits(self.discriminator(self.generator(z)), 1.0)


class _DiscriminatorLoss(nn.Cell):
    def __init__(self, generator, discriminator):
        super().__init__(auto_prefix=False)
        self.generator, self.discriminator = generator, discriminator

    def construct(self, x, z):
        generated = ops.stop_gradient(self.generator(z))
        return (bce_with_logits(self.discriminator(x), 1.0)
                + bce_with_logits(self.discriminator(generated), 0.0))


class _SearchStep(nn.Cell):
    """One Adam step on z for every row; returns (z, m, v, per-row loss before the step)."""

    def __init__(self, generator, discriminator):
        super().__init__(auto_prefix=False)
        self.generator, self.discriminator = generator, discriminator
        self.grad_fn = ms.value_and_grad(self.total_loss, grad_position=1, has_aux=True)
        self.beta1, self.beta2 = GAN_BETAS

    def total_loss(self, x, z):
        generated = self.generator(z)
        # L(z; x) = (1 - lambda) residual + lambda discrimination loss, per row
        per_row = residual_score(x, generated, self.discriminator.features(x),
                                 self.discriminator.features(generated), 1.0 - LAMBDA)
        return per_row.sum(), per_row

    def construct(self, x, z, m, v, step):
        (_, per_row), grad = self.grad_fn(x, z)
        m = self.beta1 * m + (1.0 - self.beta1) * grad
        v = self.beta2 * v + (1.0 - self.beta2) * grad * grad
        m_hat = m / (1.0 - ops.pow(self.beta1, step))
        v_hat = v / (1.0 - ops.pow(self.beta2, step))
        return z - SEARCH_LR * m_hat / (ops.sqrt(v_hat) + 1e-8), m, v, per_row


class AnoGAN(SemiSupervisedDetector):
    name = "anogan"
    label = "AnoGAN"

    def _build(self, n_features, rng):
        self.latent_ = latent_size(n_features)
        nets = self._register(
            generator=mlp(rng, [self.latent_, hidden_size(n_features), n_features]),
            discriminator=Discriminator(rng, n_features))
        generator, discriminator = nets["generator"], nets["discriminator"]
        self._d_step, self._g_step = gan_steps(
            self.config_, _DiscriminatorLoss(generator, discriminator), discriminator,
            _GeneratorLoss(generator, discriminator), generator)
        self._search = _SearchStep(generator, discriminator)

    def _noise(self, rows, noise_rng):
        return Tensor(noise_rng.standard_normal((rows, self.latent_)).astype(np.float32))

    def _train_batch(self, x, noise_rng):
        loss_d = float(self._d_step(x, self._noise(x.shape[0], noise_rng)).asnumpy())
        return {"loss_d": loss_d,
                "loss_g": float(self._g_step(self._noise(x.shape[0], noise_rng)).asnumpy())}

    def _score_chunk(self, x):
        z = m = v = Tensor(np.zeros((x.shape[0], self.latent_), dtype=np.float32))
        for step in range(1, SEARCH_STEPS + 2):  # the last call only measures the final z
            moved, m, v, per_row = self._search(x, z, m, v, Tensor(np.float32(step)))
            z = moved if step <= SEARCH_STEPS else z
        return per_row.asnumpy()


document_family(AnoGAN, """\
AnoGAN (Schlegl et al. 2017), tabular: a GAN of normal rows; a row's score is
the loss of the best latent match that a batched search finds for it.""")
