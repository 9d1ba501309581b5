"""GANomaly, EGBAD, AnoGAN, AutoEncoder and VAE: losses vs NumPy, training, round trips."""
import numpy as np
import pytest
from mindspore import Tensor, nn

from conftest import separable_data
from models.family import anogan, egbad
from models.family.anogan import AnoGAN
from models.family.autoencoder import AutoEncoder
from models.core.detector import TrainingDiverged
from models.family.egbad import EGBAD
from models.family.ganomaly import GANomaly
from models.family.ganomaly import generator_loss as ganomaly_loss
from models.family.layers import bce_with_logits, residual_score
from models.utils.metrics import auc_score, gmean_score
from models.family.vae import (DECODER_LOG_VAR_FLOOR, ENCODER_LOG_VAR_BOUND, VAE, gaussian_nll,
                        kl_to_standard_normal)

DETECTORS = (AutoEncoder, VAE, GANomaly, EGBAD, AnoGAN)


def t(a):
    return Tensor(np.asarray(a, dtype=np.float32))


def np_mlp(cell, x):
    """NumPy forward of an nn.SequentialCell of Dense and LeakyReLU(0.2) layers."""
    for layer in cell.cell_list:
        if isinstance(layer, nn.Dense):
            x = x @ layer.weight.asnumpy().T + layer.bias.asnumpy()
        else:
            x = np.where(x > 0, x, 0.2 * x)
    return x


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return [rng.standard_normal((6, 4)) for _ in range(6)]


def test_ganomaly_generator_loss(arrays):
    x, recon, z, z2, f1, f2 = arrays
    want = ((f1 - f2) ** 2).mean() + 50 * np.abs(x - recon).mean() + ((z - z2) ** 2).mean()
    got = ganomaly_loss(*map(t, arrays))
    np.testing.assert_allclose(float(got.asnumpy()), want, rtol=1e-5)


def test_egbad_and_anogan_scores(arrays):
    x, recon, f1, f2 = arrays[:4]
    # EGBAD weighs the residual by alpha = 0.9, AnoGAN by 1 - lambda = 0.9 (both papers)
    for weight in (egbad.ALPHA, 1.0 - anogan.LAMBDA):
        np.testing.assert_allclose(
            residual_score(t(x), t(recon), t(f1), t(f2), weight).asnumpy(),
            0.9 * np.abs(x - recon).mean(-1) + 0.1 * np.abs(f1 - f2).mean(-1), rtol=1e-5)


def test_vae_terms(arrays):
    x, mean, log_var = arrays[0], arrays[1], 0.3 * arrays[2]
    nll = 0.5 * (np.log(2 * np.pi) + log_var + (x - mean) ** 2 / np.exp(log_var)).sum(-1)
    np.testing.assert_allclose(gaussian_nll(t(x), t(mean), t(log_var)).asnumpy(), nll, rtol=1e-5)
    kl = 0.5 * (mean ** 2 + np.exp(log_var) - 1 - log_var).sum(-1)
    np.testing.assert_allclose(kl_to_standard_normal(t(mean), t(log_var)).asnumpy(), kl,
                               rtol=1e-5)


def test_bce_with_logits(arrays):
    logits = arrays[0]
    for target in (0.0, 1.0):
        p = 1 / (1 + np.exp(-logits))
        want = -(target * np.log(p) + (1 - target) * np.log(1 - p)).mean()
        np.testing.assert_allclose(float(bce_with_logits(t(logits), target).asnumpy()), want,
                                   rtol=1e-5)


def test_autoencoder_score_is_numpy_reconstruction_error():
    X, y = separable_data(rows=200, features=5)
    model = AutoEncoder(max_epochs=2, batch_size=64).fit(X, y)
    net = model.networks_.autoencoder
    want = ((X - np_mlp(net.decoder, np_mlp(net.encoder, X))) ** 2).mean(-1)
    np.testing.assert_allclose(model.decision_function(X), want, rtol=1e-4, atol=1e-6)


def test_vae_variances_are_bounded():
    X, y = separable_data(rows=200, features=4)
    net = VAE(max_epochs=1, batch_size=64, validation_fraction=0).fit(X, y).networks_.vae
    z = 30.0 * np.random.default_rng(0).standard_normal((50, net.latent))  # far out: extremes
    out = np_mlp(net.decoder, z)
    raw = out[:, 4:] - DECODER_LOG_VAR_FLOOR
    want = DECODER_LOG_VAR_FLOOR + np.logaddexp(0.0, raw)   # floor + softplus
    mean, log_var = (a.asnumpy() for a in net.decode(t(z)))
    np.testing.assert_allclose(mean, out[:, :4], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(log_var, want, rtol=1e-4, atol=1e-5)
    assert log_var.min() >= DECODER_LOG_VAR_FLOOR
    x = 1e3 * np.random.default_rng(1).standard_normal((50, 4))
    out = np_mlp(net.encoder, x)
    mean, log_var = (a.asnumpy() for a in net.encode(t(x)))
    np.testing.assert_allclose(mean, out[:, :net.latent], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        log_var, ENCODER_LOG_VAR_BOUND * np.tanh(out[:, net.latent:] / ENCODER_LOG_VAR_BOUND),
        rtol=1e-4, atol=1e-5)
    assert np.abs(log_var).max() <= ENCODER_LOG_VAR_BOUND


def test_ganomaly_score_is_numpy_latent_distance():
    X, y = separable_data(rows=200, features=5)
    model = GANomaly(max_epochs=2, batch_size=64).fit(X, y)
    g = model.networks_.generator
    z = np_mlp(g.encoder, X)
    want = ((z - np_mlp(g.reencoder, np_mlp(g.decoder, z))) ** 2).mean(-1)
    np.testing.assert_allclose(model.decision_function(X), want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("detector,epochs", [(AutoEncoder, 20), (VAE, 20), (GANomaly, 50),
                                             (EGBAD, 20), (AnoGAN, 30)])
@pytest.mark.slow
def test_short_training_finds_the_anomaly_cluster(detector, epochs, tmp_path):
    X, y = separable_data(rows=800, features=6, seed=1)
    X_val, y_val = separable_data(rows=300, features=6, seed=2)
    X_test, y_test = separable_data(rows=300, features=6, seed=3)
    model = detector(max_epochs=epochs, batch_size=64).fit(X, y, X_val, y_val)
    scores = model.decision_function(X_test)
    assert auc_score(y_test, scores) >= 0.95
    assert gmean_score(y_test, scores, model.threshold_) >= 0.85
    model.save(tmp_path / detector.name)
    loaded = detector.load(tmp_path / detector.name)
    np.testing.assert_array_equal(loaded.decision_function(X_test), scores)
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))


def test_training_uses_normal_rows_only():
    X, y = separable_data(rows=300, features=4)
    poisoned = X.copy()
    poisoned[y == 1] = 1e3   # anomalies that would wreck any fit that used them
    first = AutoEncoder(max_epochs=3, batch_size=32).fit(X, y).decision_function(X[y == 0])
    again = AutoEncoder(max_epochs=3, batch_size=32).fit(poisoned, y).decision_function(X[y == 0])
    np.testing.assert_array_equal(first, again)


def test_divergence_is_an_error_not_nan_scores():
    X, y = separable_data(rows=200, features=4)
    with pytest.raises(TrainingDiverged, match="AutoEncoder training diverged"):
        AutoEncoder(max_epochs=5, batch_size=32, lr_g=1e6).fit(1e3 * X, y, X, y)


def test_egbad_cycle_term_and_reconstruction_history_match_numpy():
    X, y = separable_data(rows=200, features=5)
    X_val, y_val = separable_data(rows=100, features=5, seed=4)
    model = EGBAD(max_epochs=2, batch_size=64, cycle_weight=3.0).fit(X, y, X_val, y_val)
    bigan, discriminator = model.networks_.bigan, model.networks_.discriminator
    x = X[:16].astype(np.float32)
    z = np.random.default_rng(5).standard_normal((16, model.latent_)).astype(np.float32)
    cycle = np.abs(x - np_mlp(bigan.generator, np_mlp(bigan.encoder, x))).mean()
    with_cycle = egbad._Loss(bigan, discriminator, False, 3.0)(t(x), t(z)).asnumpy()
    without = egbad._Loss(bigan, discriminator, False, 0.0)(t(x), t(z)).asnumpy()
    np.testing.assert_allclose(with_cycle - without, 3.0 * cycle, rtol=1e-4)
    # the last epoch's `reconstruction` is this error on the validation part's normal rows
    normal_val = X_val[y_val == 0]
    want = np.abs(normal_val - np_mlp(bigan.generator, np_mlp(bigan.encoder, normal_val))).mean()
    np.testing.assert_allclose(model.history_[-1]["reconstruction"], want, rtol=1e-4)
    assert len({round(r["reconstruction"], 6) for r in model.history_}) == 2


@pytest.mark.parametrize("weight", [-1.0, float("nan")])
def test_egbad_rejects_a_bad_cycle_weight(weight):
    X, y = separable_data(rows=100, features=4)
    with pytest.raises(ValueError, match="cycle_weight"):
        EGBAD(max_epochs=1, cycle_weight=weight).fit(X, y)


def test_egbad_score_is_numpy_recomputation():
    X, y = separable_data(rows=200, features=5)
    model = EGBAD(max_epochs=2, batch_size=64).fit(X, y)
    bigan, d = model.networks_.bigan, model.networks_.discriminator

    def features(x, z):
        return np_mlp(d.joint, np.concatenate([np_mlp(d.x_branch, x), np_mlp(d.z_branch, z)], -1))
    z = np_mlp(bigan.encoder, X)
    reconstruction = np_mlp(bigan.generator, z)
    want = (egbad.ALPHA * np.abs(X - reconstruction).mean(-1)
            + (1 - egbad.ALPHA) * np.abs(features(X, z) - features(reconstruction, z)).mean(-1))
    np.testing.assert_allclose(model.decision_function(X), want, rtol=1e-4, atol=1e-6)


def test_cycle_weight_is_a_flag_of_train_eval():
    import config
    args = config.resolve_settings(["--model", "egbad", "--cycle_weight", "0"])
    assert config.model_config(args).cycle_weight == 0.0
    assert config.model_config(config.resolve_settings(["--model", "egbad"])).cycle_weight \
        == 100.0
