"""GANomaly (Akcay, Atapour-Abarghouei, Breckon, ACCV 2018; seed documents 001-002), tabular.

Generator: encoder G_E (x -> z), decoder G_D (z -> x^), encoder E (x^ -> z^),
all dense with hidden width 2d and latent size d/2.  Discriminator: dense
features f(x) and a real / generated logit.  Losses, on normal rows:

    L_G = w_adv ||f(x) - f(x^)||^2 + w_con |x - x^| + w_enc ||z - z^||^2   (means)
    L_D = BCE(D(x), real) + BCE(D(x^), generated)

with (w_adv, w_con, w_enc) = (1, 50, 1) as in the paper.  The anomaly score
is the latent distance mean((z - z^)^2).
"""
from mindspore import nn, ops

from .layers import bce_with_logits, gan_steps, mlp
from .semi_supervised import SemiSupervisedDetector, document_family, hidden_size, latent_size

W_ADV, W_CON, W_ENC = 1.0, 50.0, 1.0


class Discriminator(nn.Cell):
    """Dense features f(x) (width 2d) and one logit; shared by the GAN detectors."""

    def __init__(self, rng, n_features):
        super().__init__()
        hidden = hidden_size(n_features)
        self.features = mlp(rng, [n_features, hidden, hidden], nn.LeakyReLU(0.2))
        self.logit = mlp(rng, [hidden, 1])

    def construct(self, x):
        return self.logit(self.features(x)).squeeze(-1)


class _Generator(nn.Cell):
    def __init__(self, rng, n_features):
        super().__init__()
        hidden, latent = hidden_size(n_features), latent_size(n_features)
        self.encoder = mlp(rng, [n_features, hidden, latent])
        self.decoder = mlp(rng, [latent, hidden, n_features])
        self.reencoder = mlp(rng, [n_features, hidden, latent])

    def construct(self, x):
        z = self.encoder(x)
        reconstruction = self.decoder(z)
        return reconstruction, z, self.reencoder(reconstruction)


def generator_loss(x, reconstruction, z, z_again, features_real, features_fake):
    adversarial = ((features_real - features_fake) ** 2).mean()
    contextual = ops.abs(x - reconstruction).mean()
    encoder = ((z - z_again) ** 2).mean()
    return W_ADV * adversarial + W_CON * contextual + W_ENC * encoder


class _GeneratorLoss(nn.Cell):
    def __init__(self, generator, discriminator):
        super().__init__(auto_prefix=False)
        self.generator, self.discriminator = generator, discriminator

    def construct(self, x):
        reconstruction, z, z_again = self.generator(x)
        return generator_loss(x, reconstruction, z, z_again, self.discriminator.features(x),
                              self.discriminator.features(reconstruction))


class _DiscriminatorLoss(nn.Cell):
    def __init__(self, generator, discriminator):
        super().__init__(auto_prefix=False)
        self.generator, self.discriminator = generator, discriminator

    def construct(self, x):
        reconstruction = ops.stop_gradient(self.generator(x)[0])
        return (bce_with_logits(self.discriminator(x), 1.0)
                + bce_with_logits(self.discriminator(reconstruction), 0.0))


class _Score(nn.Cell):
    def __init__(self, generator):
        super().__init__(auto_prefix=False)
        self.generator = generator

    def construct(self, x):
        _, z, z_again = self.generator(x)
        return ((z - z_again) ** 2).mean(-1)


class GANomaly(SemiSupervisedDetector):
    name = "ganomaly"
    label = "GANomaly"

    def _build(self, n_features, rng):
        nets = self._register(generator=_Generator(rng, n_features),
                              discriminator=Discriminator(rng, n_features))
        generator, discriminator = nets["generator"], nets["discriminator"]
        self._d_step, self._g_step = gan_steps(
            self.config_, _DiscriminatorLoss(generator, discriminator), discriminator,
            _GeneratorLoss(generator, discriminator), generator)
        self._score_cell = _Score(generator)

    def _train_batch(self, x, noise_rng):
        loss_g = float(self._g_step(x).asnumpy())
        return {"loss_g": loss_g, "loss_d": float(self._d_step(x).asnumpy())}

    def _score_chunk(self, x):
        return self._score_cell(x).asnumpy()


document_family(GANomaly, """\
GANomaly (Akcay et al. 2018), tabular: encoder-decoder-encoder; a row's score is
the distance between its two latent codes.""")
