"""The member-by-member update of the reference code, kept as a yardstick.

The original implementation (and the earlier MindSpore port) updates the ten
discriminators one after another, each with its own optimizer, carrying the
running focal weights from member to member.  `UnfusedTrainer` does exactly
that with one separately compiled graph per member, so that tests can check
the fused `DiscriminatorStep` against it and `scripts/benchmark.py` can time
both.  It is not used for training.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Tensor
from mindspore import dtype as mstype

from models.eal_gan.active import query_size
from models.eal_gan.losses import GAMMA, discriminator_losses, generator_loss, row_weights
from models.eal_gan.networks import DiscriminatorEnsemble, ensemble_score
from models.core.optim import StackedAdam


def split_members(discriminators, rng, config, n_features):
    """One single-member network per ensemble member, with the same values."""
    members = []
    stacked = [p.asnumpy() for p in discriminators.get_parameters()]
    for i in range(config.ensemble_num):
        member = DiscriminatorEnsemble(rng, n_features, 1, config.dis_layer,
                                       config.dis_activation_func, config.init_type,
                                       config.SN_used)
        for p, values in zip(member.get_parameters(), stacked):
            p.set_data(Tensor(values[i:i + 1]))
        members.append(member)
    return members


class MemberStep(nn.Cell):
    """Update of member `index` given the pt sums of the members before it."""

    def __init__(self, member, index, lr, gamma=GAMMA):
        super().__init__(auto_prefix=False)
        self.member = member
        self.index = index
        self.gamma = gamma
        self.optimizer = StackedAdam(member.trainable_params(), lr, name=f"optimizer_d{index}")
        self.grad_fn = ms.value_and_grad(self.loss, None, self.optimizer.params, has_aux=True)

    def loss(self, x, y, mask, x_fake, y_fake, priors):
        labels = ops.concat((y, y_fake))
        logits = self.member(ops.concat((x, x_fake)), labels)
        is_real = ops.concat((ops.ones_like(mask), ops.zeros((x_fake.shape[0],), mstype.float32)))
        weights = row_weights(mask, x_fake.shape[0])
        loss, pts = discriminator_losses(logits, labels, is_real, weights, self.gamma, priors,
                                         self.index)
        return loss.sum(), pts

    def construct(self, x, y, mask, x_fake, y_fake, priors):
        (loss, pts), grads = self.grad_fn(x, y, mask, x_fake, y_fake, priors)
        return ops.depend(loss, self.optimizer(grads)), pts


class _MemberScore(nn.Cell):
    def __init__(self, member):
        super().__init__(auto_prefix=False)
        self.member = member

    def construct(self, x):
        return ensemble_score(self.member, x)


class _AdvanceSpectralState(nn.Cell):
    def __init__(self, member):
        super().__init__(auto_prefix=False)
        self.member = member

    def construct(self):
        return self.member.advance_spectral_state()


class _UnfusedGeneratorStep(nn.Cell):
    """The generator update with the members evaluated one by one in the graph."""

    def __init__(self, generator, members, lr, gamma=GAMMA):
        super().__init__(auto_prefix=False)
        self.generator = generator
        self.members = nn.CellList(members)
        self.gamma = gamma
        self.optimizer = StackedAdam(generator.trainable_params(), lr, name="optimizer_g")
        self.grad_fn = ms.value_and_grad(self.loss, None, self.optimizer.params)

    def loss(self, z, y):
        x = self.generator(z, y)
        adversarial, anomaly = (), ()
        for member in self.members:
            a, c = member(x, y)
            adversarial, anomaly = adversarial + (a,), anomaly + (c,)
        return generator_loss((ops.concat(adversarial), ops.concat(anomaly)), y, self.gamma)

    def construct(self, z, y):
        z = ops.depend(z, self.generator.advance_spectral_state())
        loss, grads = self.grad_fn(z, y)
        return ops.depend(loss, self.optimizer(grads))


class _Generate(nn.Cell):
    def __init__(self, generator):
        super().__init__(auto_prefix=False)
        self.generator = generator

    def construct(self, z, y):
        return self.generator(z, y)


class UnfusedTrainer:
    """D and G steps the reference way: E member graphs, E score graphs, one G graph."""

    def __init__(self, generator, members, member_lr, config):
        self.members = members
        self.steps = [MemberStep(member, i, float(lr))
                      for i, (member, lr) in enumerate(zip(members, member_lr))]
        self.scorers = [_MemberScore(m) for m in members]
        self.advances = [_AdvanceSpectralState(m) for m in members] if config.SN_used else []
        self.generate = _Generate(generator)
        self.g_step = _UnfusedGeneratorStep(generator, members, config.lr_g)
        self.config = config
        self.iterations = 0

    def select(self, x, rows):
        """The reference's active sampling: scores from every member, then numpy."""
        k = query_size(rows, self.config.active_rate)
        mask = np.zeros(x.shape[0], dtype=np.float32)
        if self.iterations == 1:
            mask[:k] = 1.0
            return mask
        scores = np.mean([s(x).asnumpy() for s in self.scorers], axis=0)[:rows]
        mask[np.argsort(np.abs(scores - 0.5), kind="stable")[:k]] = 1.0
        return mask

    def d_step(self, x, y, rows, z, y_fake):
        """Update every member in turn; returns the per-member losses."""
        self.iterations += 1
        for advance in self.advances:  # as the fused step does before its forward
            advance()
        x_fake = self.generate(z, y_fake)
        mask = Tensor(self.select(x, rows))
        priors = tuple(Tensor(np.zeros((1, x.shape[0] + x_fake.shape[0]), np.float32))
                       for _ in range(2))
        losses = []
        for step in self.steps:
            # mutable: a plain tuple argument is a compile-time constant (a recompile per call)
            loss, pts = step(x, y, mask, x_fake, y_fake, ms.mutable(priors))
            priors = tuple(p + q for p, q in zip(priors, pts))
            losses.append(float(loss.asnumpy()))
        return np.array(losses)
