"""VAE detector scored by reconstruction probability (An & Cho 2015; seed document 004).

Encoder q(z|x) = N(mu, diag sigma^2), log sigma^2 softly kept in (-10, 10),
and decoder p(x|z) = N(mu_x, diag sigma_x^2) with sigma_x^2 softly floored at
1e-3, both dense with hidden width 2d and latent size d/2, trained on normal
rows by maximising the ELBO.  The anomaly score of x is the negative reconstruction log-probability
averaged over L draws z_l ~ q(z|x):

    score(x) = -(1/L) sum_l log N(x; mu_x(z_l), sigma_x^2(z_l))

The L standard-normal draws used for scoring are fixed when the model is
built (and saved with it), so a row's score does not depend on the chunk it
is scored in.
"""
import numpy as np
from mindspore import nn, ops, Parameter, Tensor

from .layers import AUTOENCODER_BETAS, OptimizerStep, mlp
from .semi_supervised import SemiSupervisedDetector, document_family, hidden_size, latent_size

SCORE_SAMPLES = 10
LOG_2PI = float(np.log(2.0 * np.pi))
# The decoder's variance is kept above 1e-3 (features are standardised):
# without a floor, a feature that is constant among the normal training rows
# lets the variance shrink without bound and training diverges to NaN
# (seen on optdigits and mnist).
DECODER_LOG_VAR_FLOOR = float(np.log(1e-3))
# The encoder's log-variance is squashed smoothly into (-10, 10) (identity near
# 0), so exp() of it cannot overflow late in training (seen on mnist, seed 43).
ENCODER_LOG_VAR_BOUND = 10.0


def gaussian_nll(x, mean, log_var):
    """-log N(x; mean, exp(log_var)) summed over the last axis."""
    return 0.5 * (LOG_2PI + log_var + (x - mean) ** 2 / ops.exp(log_var)).sum(-1)


def kl_to_standard_normal(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) summed over the last axis."""
    return 0.5 * (mean ** 2 + ops.exp(log_var) - 1.0 - log_var).sum(-1)


class _VAE(nn.Cell):
    def __init__(self, rng, n_features):
        super().__init__()
        hidden, latent = hidden_size(n_features), latent_size(n_features)
        self.latent = latent
        self.encoder = mlp(rng, [n_features, hidden, 2 * latent])
        self.decoder = mlp(rng, [latent, hidden, 2 * n_features])
        draws = rng.standard_normal((SCORE_SAMPLES, 1, latent))
        self.score_noise = Parameter(Tensor(draws.astype(np.float32)), name="score_noise",
                                     requires_grad=False)

    def encode(self, x):
        out = self.encoder(x)
        log_var = ENCODER_LOG_VAR_BOUND * ops.tanh(out[..., self.latent:] / ENCODER_LOG_VAR_BOUND)
        return out[..., :self.latent], log_var

    def decode(self, z):
        out = self.decoder(z)
        features = out.shape[-1] // 2
        raw_log_var = out[..., features:] - DECODER_LOG_VAR_FLOOR
        return out[..., :features], DECODER_LOG_VAR_FLOOR + ops.softplus(raw_log_var)

    def nll(self, x, noise):
        """Reconstruction NLL of x for z = mu + sigma * noise, and the encoder's (mu, log var)."""
        mean, log_var = self.encode(x)
        z = mean + ops.exp(0.5 * log_var) * noise
        x_mean, x_log_var = self.decode(z)
        return gaussian_nll(x, x_mean, x_log_var), mean, log_var


class _Loss(nn.Cell):
    """-ELBO averaged over the batch."""

    def __init__(self, vae):
        super().__init__(auto_prefix=False)
        self.vae = vae

    def construct(self, x, noise):
        nll, mean, log_var = self.vae.nll(x, noise)
        return (nll + kl_to_standard_normal(mean, log_var)).mean()


class _Score(nn.Cell):
    def __init__(self, vae):
        super().__init__(auto_prefix=False)
        self.vae = vae

    def construct(self, x):
        rows = x.shape[0]
        repeated = ops.tile(x, (SCORE_SAMPLES, 1))
        noise = ops.broadcast_to(self.vae.score_noise, (SCORE_SAMPLES, rows, self.vae.latent))
        nll, _, _ = self.vae.nll(repeated, noise.reshape(SCORE_SAMPLES * rows, -1))
        return nll.reshape(SCORE_SAMPLES, rows).mean(0)


class VAE(SemiSupervisedDetector):
    name = "vae"
    label = "VAE"

    def _build(self, n_features, rng):
        vae = self._register(vae=_VAE(rng, n_features))["vae"]
        self._step = OptimizerStep(_Loss(vae), vae.trainable_params(), self.config_.lr_g,
                                   "optimizer", AUTOENCODER_BETAS)
        self._score_cell = _Score(vae)

    def _train_batch(self, x, noise_rng):
        noise = noise_rng.standard_normal((x.shape[0], self.networks_.vae.latent))
        return {"loss": float(self._step(x, Tensor(noise.astype(np.float32))).asnumpy())}

    def _score_chunk(self, x):
        return self._score_cell(x).asnumpy()


document_family(VAE, """\
Variational autoencoder (An & Cho 2015): a row's score is its negative
reconstruction log-probability, averaged over fixed latent draws.""")
