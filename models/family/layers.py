"""Small building blocks for the GAN / autoencoder detectors of models/*.

Weights are drawn with NumPy from the caller's generator, as PyTorch's
nn.Linear draws them (U(-1/sqrt(in), 1/sqrt(in)) for weight and bias), so a
seed fixes a model independently of MindSpore's random state.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Tensor

from ..core.optim import StackedAdam

GAN_BETAS = (0.5, 0.999)          # DCGAN's Adam setting, used by GANomaly, EGBAD, AnoGAN
AUTOENCODER_BETAS = (0.9, 0.999)  # Adam's defaults


def dense(rng, fan_in, fan_out):
    bound = 1.0 / np.sqrt(fan_in)
    return nn.Dense(fan_in, fan_out,
                    weight_init=Tensor(rng.uniform(-bound, bound, (fan_out, fan_in)), ms.float32),
                    bias_init=Tensor(rng.uniform(-bound, bound, fan_out), ms.float32))


def mlp(rng, sizes, final_activation=None):
    """Dense layers through `sizes` with LeakyReLU(0.2) between them."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(dense(rng, fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    if final_activation is not None:
        layers.append(final_activation)
    return nn.SequentialCell(layers)


def bce_with_logits(logits, target):
    """Mean binary cross-entropy of logits against a constant 0/1 target."""
    return ops.binary_cross_entropy_with_logits(logits, ops.full_like(logits, target),
                                                ops.ones_like(logits), ops.ones_like(logits))


class OptimizerStep(nn.Cell):
    """One Adam update of `params` on the scalar returned by `loss_cell(*inputs)`.

    It does not prefix parameter names, so networks keep their saved names.
    """

    def __init__(self, loss_cell, params, lr, name, betas):
        super().__init__(auto_prefix=False)
        self.loss_cell = loss_cell
        self.optimizer = StackedAdam(params, lr, name=name, betas=betas)
        self.grad_fn = ms.value_and_grad(self.loss_cell, None, self.optimizer.params)

    def construct(self, *inputs):
        loss, grads = self.grad_fn(*inputs)
        return ops.depend(loss, self.optimizer(grads))


def residual_score(x, reconstruction, features_real, features_fake, weight):
    """Per row: weight * mean |x - reconstruction| + (1 - weight) * mean |f_real - f_fake|.

    EGBAD's anomaly score (weight alpha) and AnoGAN's latent-search loss
    (weight 1 - lambda) are this one formula: a reconstruction residual plus
    a discriminator feature-matching residual.
    """
    return (weight * ops.abs(x - reconstruction).mean(-1)
            + (1.0 - weight) * ops.abs(features_real - features_fake).mean(-1))


def gan_steps(config, d_loss, discriminator, g_loss, generator):
    """(discriminator step, generator step): compiled Adam updates with DCGAN's betas."""
    return (OptimizerStep(d_loss, discriminator.trainable_params(), config.lr_d, "optimizer_d",
                          GAN_BETAS),
            OptimizerStep(g_loss, generator.trainable_params(), config.lr_g, "optimizer_g",
                          GAN_BETAS))
