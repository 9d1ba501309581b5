"""Ensemble focal losses of EAL-GAN (docs/design.md section 3).

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


def focal_sum(logits, signs, row_weights, gamma=GAMMA, prior_sum=0.0, prior_count=0):
    """Per member, sum over rows of row_weight * w * softplus(signs * logits); and pt.

    signs is -1 where the target is "true" (a real row for the adversarial
    head, an anomaly for the auxiliary head) and +1 where it is "false".
    row_weights turn the sum into the means of the paper: 1/k on the k
    queried real rows, 1/B on the B generated rows, 0 elsewhere.
    Returns (loss (members,), pt (members, rows)).
    """
    nll = softplus(signs * logits)
    pt = ops.exp(-nll)
    weights = focal_weights(pt, gamma, prior_sum, prior_count)
    # the weighted row sum as a matmul: a CPU reduction over rows is slower
    return ops.matmul(weights * nll, row_weights.reshape(-1, 1)).squeeze(-1), pt


def class_signs(y):
    """-1 for anomalies (target c = 1), +1 for normal rows (target c = 0)."""
    return 1.0 - 2.0 * y.astype(mstype.float32)


def row_weights(mask, generated_rows):
    """mask / k for the real rows, then 1/B for each of the B generated rows."""
    fake = ops.full((generated_rows,), 1.0 / generated_rows, dtype=mstype.float32)
    return ops.concat((mask / mask.sum(), fake))


def discriminator_losses(logits, y, is_real, weights, gamma=GAMMA, prior_sums=(0.0, 0.0),
                         prior_count=0):
    """L_real_i + L_fake_i of every member, (members,), and the two pt's.

    One forward pass covers real rows and generated rows: logits is the pair
    (adversarial, anomaly), each (members, rows); y holds each row's class
    (its label, or y~ for generated rows), is_real is 1 on real rows and
    `weights` comes from `row_weights`.  Because every term is a per-row
    mean, the weighted sums equal the paper's four means.  The pt's and
    priors serve the member-by-member path (see focal_weights).
    """
    adversarial_signs = 1.0 - 2.0 * is_real
    adversarial, adversarial_pt = focal_sum(logits[0], adversarial_signs, weights, gamma,
                                            prior_sums[0], prior_count)
    anomaly, anomaly_pt = focal_sum(logits[1], class_signs(y), weights, gamma, prior_sums[1],
                                    prior_count)
    return adversarial + anomaly, (adversarial_pt, anomaly_pt)


def generator_loss(logits, y_fake, gamma=GAMMA):
    """L_G: generated rows should pass as real and as class y~, summed over members."""
    rows = y_fake.shape[0]
    weights = ops.full((rows,), 1.0 / rows, dtype=mstype.float32)
    adversarial = focal_sum(logits[0], -1.0, weights, gamma)[0]
    anomaly = focal_sum(logits[1], class_signs(y_fake), weights, gamma)[0]
    return (adversarial + anomaly).sum()
