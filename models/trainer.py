"""Compiled training steps and the epoch loop with validation-based selection.

The step cells do not prefix parameter names (auto_prefix=False), so the
networks keep the names they are saved under.

One `DiscriminatorStep` call updates all ensemble members: a single forward
of real and generated rows through the stacked discriminators, the ensemble
focal loss summed over members (member i's parameters only reach L_i, so the
gradient of the sum is each member's own gradient), and one Adam update with
a per-member learning rate.  Both steps compile once: batches always have
`batch_size` rows, the short last batch is padded and masked.
"""
import time

import numpy as np
import mindspore as ms
from mindspore import nn, ops, Tensor

from .active import query_size, select_first, select_uncertain
from .losses import GAMMA, discriminator_losses, generator_loss
from .metrics import auc_score, gmean_score
from .optim import StackedAdam


class DiscriminatorStep(nn.Cell):
    """One update of every discriminator on a real batch and a generated batch."""

    def __init__(self, generator, discriminators, member_lr, gamma=GAMMA):
        super().__init__(auto_prefix=False)
        self.generator = generator
        self.discriminators = discriminators
        self.gamma = gamma
        self.optimizer = StackedAdam(discriminators.trainable_params(),
                                     np.reshape(member_lr, (-1, 1, 1)), name="optimizer_d")
        self.grad_fn = ms.value_and_grad(self.losses, None, self.optimizer.params, has_aux=True)

    def losses(self, x, y, valid, k, explore, x_fake, y_fake):
        rows = x.shape[0]
        adversarial, anomaly = self.discriminators(ops.concat((x, x_fake)), ops.concat((y, y_fake)))
        real = (adversarial[:, :rows], anomaly[:, :rows])
        fake = (adversarial[:, rows:], anomaly[:, rows:])
        scores = ops.sigmoid(real[1]).mean(0)
        mask = ops.stop_gradient(explore * select_uncertain(scores, valid, k)
                                 + (1.0 - explore) * select_first(valid, k))
        per_member, _ = discriminator_losses(real, y, mask, fake, y_fake, self.gamma)
        return per_member.sum(), per_member, mask

    def construct(self, x, y, valid, k, explore, z, y_fake):
        x = ops.depend(x, self.discriminators.advance_spectral_state())
        x_fake = ops.stop_gradient(self.generator(z, y_fake))
        (_, per_member, mask), grads = self.grad_fn(x, y, valid, k, explore, x_fake, y_fake)
        return ops.depend(per_member, self.optimizer(grads)), mask


class GeneratorStep(nn.Cell):
    """One generator update against the (just updated) discriminators."""

    def __init__(self, generator, discriminators, lr, gamma=GAMMA):
        super().__init__(auto_prefix=False)
        self.generator = generator
        self.discriminators = discriminators
        self.gamma = gamma
        self.optimizer = StackedAdam(generator.trainable_params(), lr, name="optimizer_g")
        self.grad_fn = ms.value_and_grad(self.loss, None, self.optimizer.params)

    def loss(self, z, y):
        return generator_loss(self.discriminators(self.generator(z, y), y), y, self.gamma)

    def construct(self, z, y):
        z = ops.depend(z, self.generator.advance_spectral_state())
        loss, grads = self.grad_fn(z, y)
        return ops.depend(loss, self.optimizer(grads))


def snapshot(cells):
    """Copies of every parameter value (weights and spectral-norm state)."""
    return {p.name: p.asnumpy().copy() for cell in cells for p in cell.get_parameters()}


def restore(cells, values):
    for cell in cells:
        for p in cell.get_parameters():
            p.set_data(Tensor(values[p.name]))


class EpochLoop:
    """Runs epochs of D and G steps and keeps the best epoch on validation.

    `score` maps a feature array to ensemble scores; the loop never sees test
    data.  The selected epoch maximises validation AUC x Gmean, ties broken by
    validation AUC and then by the earlier epoch (Gmean is 0 for every epoch
    while no score reaches 0.5, and AUC still ranks those epochs); without
    validation data the last epoch is kept.
    """

    def __init__(self, generator, discriminators, member_lr, config, rng):
        self.cells = (generator, discriminators)
        self.d_step = DiscriminatorStep(generator, discriminators, member_lr)
        self.g_step = GeneratorStep(generator, discriminators, config.lr_g)
        self.config = config
        self.rng = rng
        self.iterations = 0

    def _noise(self, rows):
        z = self.rng.standard_normal((rows, self.config.dim_z), dtype=np.float32)
        labels = self.rng.integers(0, 2, rows).astype(np.int32)
        return Tensor(z), Tensor(labels)

    def _epoch(self, X, y, batch, queried):
        order = self.rng.permutation(len(X))
        d_losses, g_losses = [], []
        for start in range(0, len(X), batch):
            rows = order[start:start + batch]
            padded = np.resize(rows, batch)  # fill a short last batch with repeats
            valid = (np.arange(batch) < len(rows)).astype(np.float32)
            k = query_size(len(rows), self.config.active_rate)
            self.iterations += 1
            explore = np.float32(self.iterations > 1)
            per_member, mask = self.d_step(Tensor(X[padded]), Tensor(y[padded]), Tensor(valid),
                                           Tensor(np.int32(k)), Tensor(explore),
                                           *self._noise(batch))
            g_losses.append(float(self.g_step(*self._noise(batch)).asnumpy()))
            d_losses.append(float(per_member.asnumpy().mean()))
            queried[rows[mask.asnumpy()[:len(rows)] > 0]] = True
        return float(np.mean(d_losses)), float(np.mean(g_losses))

    def run(self, X, y, X_val, y_val, score, on_epoch=None):
        """Train; leave the selected epoch's parameters in place; return the history."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        y = np.ascontiguousarray(y, dtype=np.int32)
        batch = min(self.config.batch_size, len(X))
        queried = np.zeros(len(X), dtype=bool)
        history, best, best_state = [], (-np.inf, -np.inf), None
        for epoch in range(1, self.config.max_epochs + 1):
            started = time.perf_counter()
            d_loss, g_loss = self._epoch(X, y, batch, queried)
            train_scores = score(X)
            record = {"epoch": epoch, "loss_d": d_loss, "loss_g": g_loss,
                      "train_auc": auc_score(y, train_scores),
                      "train_gmean": gmean_score(y, train_scores),
                      "labels_queried": int(queried.sum())}
            if X_val is not None:
                val_scores = score(X_val)
                record["val_auc"] = auc_score(y_val, val_scores)
                record["val_gmean"] = gmean_score(y_val, val_scores)
                measure = (record["val_auc"] * record["val_gmean"], record["val_auc"])
            else:
                measure = (float(epoch), 0.0)
            record["improved"] = bool(np.isfinite(measure).all() and measure > best)
            if record["improved"]:
                best, best_state = measure, snapshot(self.cells)
            record["seconds"] = time.perf_counter() - started
            history.append(record)
            if on_epoch is not None:
                on_epoch(record)
        if best_state is not None:
            restore(self.cells, best_state)
        return history
