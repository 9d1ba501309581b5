"""EGBAD, efficient GAN-based anomaly detection (Zenati et al. 2018; seed document 003), tabular.

A BiGAN: generator G (z -> x), encoder E (x -> z) and a discriminator on
pairs D(x, z) with dense features f(x, z).  On normal rows:

    L_D   = BCE(D(x, E(x)), real) + BCE(D(G(z), z), generated)
    L_G,E = BCE(D(G(z), z), real) + BCE(D(x, E(x)), generated)

The anomaly score combines reconstruction and discriminator features with
alpha = 0.9 as in the paper:

    score(x) = alpha |x - G(E(x))| + (1 - alpha) |f(x, E(x)) - f(G(E(x)), E(x))|   (means)
"""
import numpy as np
from mindspore import nn, ops, Tensor

from .layers import bce_with_logits, gan_steps, mlp, residual_score
from .semi_supervised import SemiSupervisedDetector, hidden_size, latent_size

ALPHA = 0.9


class _PairDiscriminator(nn.Cell):
    def __init__(self, rng, n_features):
        super().__init__()
        hidden, latent = hidden_size(n_features), latent_size(n_features)
        self.x_branch = mlp(rng, [n_features, hidden], nn.LeakyReLU(0.2))
        self.z_branch = mlp(rng, [latent, hidden], nn.LeakyReLU(0.2))
        self.joint = mlp(rng, [2 * hidden, hidden], nn.LeakyReLU(0.2))
        self.logit = mlp(rng, [hidden, 1])

    def features(self, x, z):
        return self.joint(ops.concat((self.x_branch(x), self.z_branch(z)), -1))

    def construct(self, x, z):
        return self.logit(self.features(x, z)).squeeze(-1)


class _BiGAN(nn.Cell):
    def __init__(self, rng, n_features):
        super().__init__()
        hidden, latent = hidden_size(n_features), latent_size(n_features)
        self.generator = mlp(rng, [latent, hidden, n_features])
        self.encoder = mlp(rng, [n_features, hidden, latent])


class _Loss(nn.Cell):
    """L_D (discriminator=True) or L_G,E: real pairs (x, E(x)) against fake (G(z), z)."""

    def __init__(self, bigan, discriminator, for_discriminator):
        super().__init__(auto_prefix=False)
        self.bigan, self.discriminator = bigan, discriminator
        self.real_target = 1.0 if for_discriminator else 0.0
        self.for_discriminator = for_discriminator

    def construct(self, x, z):
        encoded, generated = self.bigan.encoder(x), self.bigan.generator(z)
        if self.for_discriminator:
            encoded, generated = ops.stop_gradient(encoded), ops.stop_gradient(generated)
        return (bce_with_logits(self.discriminator(x, encoded), self.real_target)
                + bce_with_logits(self.discriminator(generated, z), 1.0 - self.real_target))


class _Score(nn.Cell):
    def __init__(self, bigan, discriminator):
        super().__init__(auto_prefix=False)
        self.bigan, self.discriminator = bigan, discriminator

    def construct(self, x):
        z = self.bigan.encoder(x)
        reconstruction = self.bigan.generator(z)
        return residual_score(x, reconstruction, self.discriminator.features(x, z),
                              self.discriminator.features(reconstruction, z), ALPHA)


class EGBAD(SemiSupervisedDetector):
    name = "egbad"
    label = "EGBAD"

    def _build(self, n_features, rng):
        nets = self._register(bigan=_BiGAN(rng, n_features),
                              discriminator=_PairDiscriminator(rng, n_features))
        bigan, discriminator = nets["bigan"], nets["discriminator"]
        self.latent_ = latent_size(n_features)
        self._d_step, self._g_step = gan_steps(
            self.config_, _Loss(bigan, discriminator, True), discriminator,
            _Loss(bigan, discriminator, False), bigan)
        self._score = _Score(bigan, discriminator)

    def _train_batch(self, x, noise_rng):
        z = Tensor(noise_rng.standard_normal((x.shape[0], self.latent_)).astype(np.float32))
        loss_d = float(self._d_step(x, z).asnumpy())
        return {"loss_d": loss_d, "loss_g": float(self._g_step(x, z).asnumpy())}

    def _score_chunk(self, x):
        return self._score(x).asnumpy()
