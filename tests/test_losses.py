"""Ensemble focal losses against a literal NumPy reading of docs/design.md section 3."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor

from models.eal_gan.losses import (discriminator_losses, focal_sum, focal_weights, generator_loss,
                           row_weights)

GAMMA = 2.0


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_term(pt, rows):
    """Per member i: mean over rows of (1 - mean_{j<=i} pt_j)^gamma * -log(pt_i)."""
    members = pt.shape[0]
    out = np.zeros(members)
    for i in range(members):
        weight = (1.0 - pt[:i + 1].mean(axis=0)) ** GAMMA
        out[i] = (weight * -np.log(pt[i]))[rows].mean()
    return out


def class_pt(logits, y):
    c = sigmoid(logits)
    return y * c + (1 - y) * (1 - c)


def reference_discriminator(adv_r, cls_r, y, rows, adv_f, cls_f, y_f):
    everything = np.ones(adv_f.shape[1], dtype=bool)
    return (reference_term(sigmoid(adv_r), rows) + reference_term(class_pt(cls_r, y), rows)
            + reference_term(sigmoid(-adv_f), everything)
            + reference_term(class_pt(cls_f, y_f), everything))


@pytest.fixture
def batch():
    rng = np.random.default_rng(7)
    members, rows = 5, 40
    logits = [rng.normal(0, 2.5, (members, rows)) for _ in range(4)]
    y = rng.integers(0, 2, rows)
    y_fake = rng.integers(0, 2, rows)
    mask = (rng.random(rows) < 0.6).astype(np.float64)
    return logits, y, y_fake, mask


def as_tensor(a, dtype=np.float32):
    return Tensor(np.asarray(a, dtype=dtype))


def test_discriminator_losses_match_reference(batch):
    """One weighted pass over real + generated rows equals the paper's four means."""
    (adv_r, cls_r, adv_f, cls_f), y, y_fake, mask = batch
    rows = len(y)
    logits = (as_tensor(np.concatenate([adv_r, adv_f], 1)),
              as_tensor(np.concatenate([cls_r, cls_f], 1)))
    got, _ = discriminator_losses(logits, as_tensor(np.r_[y, y_fake], np.int32),
                                  as_tensor(np.r_[np.ones(rows), np.zeros(rows)]),
                                  row_weights(as_tensor(mask), rows))
    want = reference_discriminator(adv_r, cls_r, y, mask > 0, adv_f, cls_f, y_fake)
    np.testing.assert_allclose(got.asnumpy(), want, rtol=2e-5)


def test_generator_loss_matches_reference(batch):
    (adv, cls, _, _), _, y_fake, _ = batch
    got = generator_loss((as_tensor(adv), as_tensor(cls)), as_tensor(y_fake, np.int32))
    everything = np.ones(adv.shape[1], dtype=bool)
    want = (reference_term(sigmoid(adv), everything)
            + reference_term(class_pt(cls, y_fake), everything)).sum()
    np.testing.assert_allclose(float(got.asnumpy()), want, rtol=2e-5)


def test_focal_weights_are_running_means(batch):
    (adv, _, _, _), _, _, _ = batch
    pt = sigmoid(adv)
    got = focal_weights(as_tensor(pt)).asnumpy()
    want = np.stack([(1 - pt[:i + 1].mean(0)) ** GAMMA for i in range(len(pt))])
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_priors_reproduce_later_members(batch):
    """Members 3.. with the pt-sum of members 0..2 as prior equal the full ensemble's rows 3.."""
    (adv, _, _, _), _, _, _ = batch
    pt = sigmoid(adv)
    full = focal_weights(as_tensor(pt)).asnumpy()
    tail = focal_weights(as_tensor(pt[3:]), prior_sum=as_tensor(pt[:3].sum(0)),
                         prior_count=3).asnumpy()
    np.testing.assert_allclose(tail, full[3:], rtol=1e-5)


def test_no_gradient_flows_through_the_weights(batch):
    """d/dl of mean(w * softplus(s l)) must be w * s * sigmoid(s l) / rows with w held fixed."""
    (logits, _, _, _), y, _, mask = batch
    signs = 1.0 - 2.0 * y

    def loss(values):
        return focal_sum(values, as_tensor(signs), as_tensor(mask / mask.sum()))[0].sum()

    got = ms.grad(loss)(as_tensor(logits)).asnumpy()
    pt = sigmoid(-signs * logits)  # exp(-softplus(s l))
    weights = np.stack([(1 - pt[:i + 1].mean(0)) ** GAMMA for i in range(len(pt))])
    want = weights * signs * sigmoid(signs * logits) * mask / mask.sum()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)


def test_saturated_logits_stay_finite():
    """The reference's -log(sigmoid) is inf at |logit| ~ 100 in float32; ours is not."""
    logits = as_tensor([[120.0, -120.0, 0.0]])
    loss, _ = focal_sum(logits, as_tensor([1.0, -1.0, 1.0]), as_tensor([1 / 3, 1 / 3, 1 / 3]))
    value = float(loss.asnumpy()[0])
    assert np.isfinite(value)
    # rows 1-2 are almost certainly wrong (weight ~1, nll 120); row 3 contributes 0.25*log 2
    np.testing.assert_allclose(value, (120.0 + 120.0 + 0.25 * np.log(2.0)) / 3, rtol=1e-5)
