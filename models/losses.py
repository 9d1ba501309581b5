"""Ensemble focal losses of EAL-GAN (DESIGN.md section 3).

Each loss term is a focal negative log-likelihood whose per-sample weight for
member i is (1 - mean_{j<=i} pt_j)^gamma: samples the earlier members already
get right count less for the later ones.  The weights are constants (no
gradient flows through them).

Logits stay logits: -log(sigmoid(t)) is computed as softplus(-t), which is
the reference's -log(sigmoid) without its overflow to inf once a sigmoid
saturates in float32.
"""
from mindspore import ops
from mindspore import dtype as mstype

GAMMA = 2.0


def softplus(x):
    """log(1 + exp(x)) without overflow for large |x|."""
    return ops.relu(x) + ops.log1p(ops.exp(-ops.abs(x)))


def focal_weights(pt, gamma=GAMMA, prior_sum=0.0, prior_count=0):
    """(1 - running mean over members of pt)^gamma, as constants.

    pt is (members, batch).  `prior_sum`/`prior_count` carry the pt of members
    that came before this block; they let one member at a time reproduce the
    ensemble's weights (the unfused reference path).
    """
    members = pt.shape[0]
    counts = ops.arange(1, members + 1, dtype=pt.dtype).reshape(-1, 1) + prior_count
    running_mean = (ops.cumsum(pt, 0) + prior_sum) / counts
    return ops.stop_gradient((1.0 - running_mean) ** gamma)


def focal_term(logits, signs, mask, gamma=GAMMA, prior_sum=0.0, prior_count=0):
    """Per-member masked mean of w * softplus(signs * logits), and pt.

    signs is -1 where the target is "true" (real sample, or anomaly for the
    auxiliary head) and +1 where it is "false"; mask (batch,) selects the rows
    that count.  Returns (loss (members,), pt (members, batch)).
    """
    nll = softplus(signs * logits)
    pt = ops.exp(-nll)
    weights = focal_weights(pt, gamma, prior_sum, prior_count)
    # masked sum as a matmul: a CPU reduction over the batch axis is slower
    masked_sum = ops.matmul(weights * nll, mask.reshape(-1, 1)).squeeze(-1)
    return masked_sum / mask.sum(), pt


def class_signs(y):
    """-1 for anomalies (target c = 1), +1 for normal rows (target c = 0)."""
    return 1.0 - 2.0 * y.astype(mstype.float32)


def discriminator_losses(real_logits, y_real, mask, fake_logits, y_fake, gamma=GAMMA,
                         prior_sums=(0.0, 0.0, 0.0, 0.0), prior_count=0):
    """L_real_i + L_fake_i for every member, shape (members,), and the four pt's.

    real_logits / fake_logits are (adversarial, anomaly) pairs of
    (members, batch) logits; mask selects the queried real rows.  The pt's
    (adversarial real, anomaly real, adversarial fake, anomaly fake) and the
    priors serve the member-by-member path (see focal_weights).
    """
    ones = ops.ones_like(y_fake).astype(mstype.float32)
    terms = ((real_logits[0], -1.0, mask),
             (real_logits[1], class_signs(y_real), mask),
             (fake_logits[0], 1.0, ones),
             (fake_logits[1], class_signs(y_fake), ones))
    total = 0.0
    pts = ()
    for (logits, signs, rows), prior_sum in zip(terms, prior_sums):
        loss, pt = focal_term(logits, signs, rows, gamma, prior_sum, prior_count)
        total = total + loss
        pts = pts + (pt,)
    return total, pts


def generator_loss(fake_logits, y_fake, gamma=GAMMA):
    """L_G: the generated rows should pass as real and as class y~, summed over members."""
    ones = ops.ones_like(y_fake).astype(mstype.float32)
    adv, cls = fake_logits
    terms = focal_term(adv, -1.0, ones, gamma)[0] + focal_term(cls, class_signs(y_fake), ones, gamma)[0]
    return terms.sum()
