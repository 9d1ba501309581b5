"""Autoencoder detector: reconstruction error of a dense autoencoder (seed document 004).

Encoder d -> 2d -> d/2, decoder back; trained on normal rows with the mean
squared error; the anomaly score of a row is its mean squared reconstruction
error.
"""
from mindspore import nn

from .layers import AUTOENCODER_BETAS, OptimizerStep, mlp
from .semi_supervised import SemiSupervisedDetector, document_family, hidden_size, latent_size


class _Autoencoder(nn.Cell):
    def __init__(self, rng, n_features):
        super().__init__()
        hidden, latent = hidden_size(n_features), latent_size(n_features)
        self.encoder = mlp(rng, [n_features, hidden, latent])
        self.decoder = mlp(rng, [latent, hidden, n_features])

    def construct(self, x):
        return self.decoder(self.encoder(x))


def reconstruction_error(x, reconstruction):
    """Mean squared error per row."""
    return ((x - reconstruction) ** 2).mean(-1)


class _Loss(nn.Cell):
    def __init__(self, autoencoder):
        super().__init__(auto_prefix=False)
        self.autoencoder = autoencoder

    def construct(self, x):
        return reconstruction_error(x, self.autoencoder(x)).mean()


class _Score(nn.Cell):
    def __init__(self, autoencoder):
        super().__init__(auto_prefix=False)
        self.autoencoder = autoencoder

    def construct(self, x):
        return reconstruction_error(x, self.autoencoder(x))


class AutoEncoder(SemiSupervisedDetector):
    name = "ae"
    label = "AutoEncoder"

    def _build(self, n_features, rng):
        autoencoder = self._register(autoencoder=_Autoencoder(rng, n_features))["autoencoder"]
        self._step = OptimizerStep(_Loss(autoencoder), autoencoder.trainable_params(),
                                   self.config_.lr_g, "optimizer", AUTOENCODER_BETAS)
        self._score_cell = _Score(autoencoder)

    def _train_batch(self, x, noise_rng):
        return {"loss": float(self._step(x).asnumpy())}

    def _score_chunk(self, x):
        return self._score_cell(x).asnumpy()


document_family(AutoEncoder, """\
Dense autoencoder: a row's score is its mean squared reconstruction error.""")
