"""Compiled training steps and the epoch loop with validation-based selection.

The step cells do not prefix parameter names (auto_prefix=False), so the
networks keep the names they are saved under.

One `DiscriminatorStep` call updates all ensemble members: a single forward
of real and generated rows through the stacked discriminators, the ensemble
focal loss summed over members (member i's parameters only reach L_i, so the
gradient of the sum is each member's own gradient), and one Adam update with
a per-member learning rate.  Both steps compile once: batches always have
`batch_size` rows, the short last batch is padded and masked.

Data-parallel training (a process per worker, launched by msrun): every
worker walks the same shuffled order, takes its own contiguous share of each
global batch, draws its own noise, and the steps average the gradients of
all workers (one all-reduce per network and step, of the flattened
gradients) before the identical Adam updates, so parameters stay equal
everywhere.  Active sampling queries each worker's share of the
labels within its own rows.  A last global batch with fewer rows than
workers is skipped.  Only worker 0 scores and selects epochs.
"""
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import mindspore as ms
from mindspore import nn, ops, Tensor
from mindspore import dtype as mstype

from .active import query_size, select_first, select_uncertain
from .losses import GAMMA, discriminator_losses, generator_loss, row_weights
from ..utils.metrics import auc_score, gmean_score
from ..core.optim import StackedAdam
from .selection import TopK, validation_measure


class DiscriminatorStep(nn.Cell):
    """One update of every discriminator on a real batch and a generated batch."""

    def __init__(self, generator, discriminators, member_lr, query_all=False, gamma=GAMMA,
                 workers=1):
        super().__init__(auto_prefix=False)
        self.generator = generator
        self.discriminators = discriminators
        # With active_rate = 1 every valid row is queried: skip the ranking.
        self.query_all = query_all
        self.gamma = gamma
        self.optimizer = StackedAdam(discriminators.trainable_params(), member_lr,
                                     name="optimizer_d", reduce=gradient_mean(workers))
        self.grad_fn = ms.value_and_grad(self.losses, None, self.optimizer.params, has_aux=True)

    def losses(self, x, y, valid, k, explore, x_fake, y_fake):
        rows = x.shape[0]
        labels = ops.concat((y, y_fake))
        adversarial, anomaly = self.discriminators(ops.concat((x, x_fake)), labels)
        if self.query_all:
            mask = valid
        else:
            scores = ops.sigmoid(anomaly).mean(0)[:rows]
            mask = ops.stop_gradient(explore * select_uncertain(scores, valid, k)
                                     + (1.0 - explore) * select_first(valid, k))
        is_real = ops.concat((ops.ones((rows,), mstype.float32),
                              ops.zeros((x_fake.shape[0],), mstype.float32)))
        per_member = discriminator_losses((adversarial, anomaly), labels, is_real,
                                          row_weights(mask, x_fake.shape[0]), self.gamma)[0]
        return per_member.sum(), per_member, mask

    def construct(self, x, y, valid, k, explore, z, y_fake):
        x = ops.depend(x, self.discriminators.advance_spectral_state())
        x_fake = ops.stop_gradient(self.generator(z, y_fake))
        (_, per_member, mask), grads = self.grad_fn(x, y, valid, k, explore, x_fake, y_fake)
        return ops.depend(per_member, self.optimizer(grads)), mask


class GeneratorStep(nn.Cell):
    """One generator update against the (just updated) discriminators."""

    def __init__(self, generator, discriminators, lr, gamma=GAMMA, workers=1):
        super().__init__(auto_prefix=False)
        self.generator = generator
        self.discriminators = discriminators
        self.gamma = gamma
        self.optimizer = StackedAdam(generator.trainable_params(), lr, name="optimizer_g",
                                     reduce=gradient_mean(workers))
        self.grad_fn = ms.value_and_grad(self.loss, None, self.optimizer.params)

    def loss(self, z, y):
        return generator_loss(self.discriminators(self.generator(z, y), y), y, self.gamma)

    def construct(self, z, y):
        z = ops.depend(z, self.generator.advance_spectral_state())
        loss, grads = self.grad_fn(z, y)
        return ops.depend(loss, self.optimizer(grads))


class AnyWorker(nn.Cell):
    """Element-wise sum of a 0/1 tensor over the data-parallel workers (> 0: any worker).

    A sum, because the CPU backend's AllReduce sums only."""

    def __init__(self):
        super().__init__()
        self.reduce = ops.AllReduce()

    def construct(self, x):
        return self.reduce(x)


class WorkerMean(nn.Cell):
    """The mean of a tensor over the data-parallel workers: one sum all-reduce, then a
    division (the CPU backend's AllReduce sums only)."""

    def __init__(self, workers):
        super().__init__()
        self.sum = ops.AllReduce()
        self.workers = float(workers)

    def construct(self, x):
        return self.sum(x) / self.workers


def gradient_mean(workers):
    """The reduce of a step's optimizer: None for one worker (no collective at all), else
    the mean over the workers of the network's gradients flattened into one matrix.

    One all-reduce per network and step: on CPU a call costs over half a millisecond
    of latency whatever its size, and every call makes the faster worker wait for
    the slower one (docs/distributed.md), so one call per gradient tensor (9 a step)
    cost much more than the few thousand floats it moved."""
    if workers == 1:
        return None
    return WorkerMean(workers)


def snapshot(cells):
    """Copies of every parameter value (weights and spectral-norm state)."""
    return {p.name: p.asnumpy().copy() for cell in cells for p in cell.get_parameters()}


def restore(cells, values):
    for cell in cells:
        for p in cell.get_parameters():
            p.set_data(Tensor(values[p.name]))


class NoiseStream:
    """Generator inputs (z ~ N(0, I), y~ ~ U{0, 1}) drawn one step ahead.

    Drawing B x dim_z normals on the host costs about a tenth of a step; a
    worker thread draws the next pair while the current compiled step runs
    (graph execution releases the GIL).  The draws come from their own
    generator in a fixed order, so results do not depend on timing.
    """

    def __init__(self, rng, rows, dim_z):
        self.rng, self.shape = rng, (rows, dim_z)
        self._worker = ThreadPoolExecutor(max_workers=1)
        self._pending = self._worker.submit(self._draw)

    def _draw(self):
        z = self.rng.standard_normal(self.shape, dtype=np.float32)
        labels = self.rng.integers(0, 2, self.shape[0]).astype(np.int32)
        return Tensor(z), Tensor(labels)

    def next(self):
        drawn = self._pending.result()
        self._pending = self._worker.submit(self._draw)
        return drawn

    def close(self):
        self._worker.shutdown()


class EpochLoop:
    """Runs epochs of D and G steps and keeps the k best epochs on validation.

    `score` maps a feature array to ensemble scores; the loop never sees test
    data.  Epochs are ranked by the configured validation metric (see
    models/eal_gan/selection.py; AUC x Gmean ranks epochs whose scores never reach 0.5
    by AUC alone); without validation data the last k epochs are kept.
    """

    def __init__(self, graphs, config, rngs, shard=(0, 1)):
        self.cells = (graphs.generator, graphs.discriminators)
        self.rank, self.workers = shard
        self.d_step, self.g_step = graphs.d_step, graphs.g_step
        self.config = config
        self.shuffle_rng, self.noise_rng = rngs["shuffle"], rngs["noise"]
        self.iterations = 0
        self.val_scores = []

    def _epoch(self, X, y, batch, queried, noise):
        """One pass over the rows (reshuffled if config.shuffle); (mean D loss, mean G loss).

        Losses and query masks stay on the device until the epoch ends: a
        copy to the host inside the loop would wait for every step to finish
        before the next is launched.
        """
        order = self.shuffle_rng.permutation(len(X)) if self.config.shuffle else np.arange(len(X))
        steps = []
        shard_rows = -(-batch // self.workers)
        for start in range(0, len(X), batch):
            rows = order[start:start + batch]
            if len(rows) < self.workers:
                continue  # a worker would get no row
            rows = np.array_split(rows, self.workers)[self.rank]
            padded = np.resize(rows, shard_rows)  # fill a short last batch with repeats
            valid = (np.arange(shard_rows) < len(rows)).astype(np.float32)
            k = query_size(len(rows), self.config.active_rate)
            self.iterations += 1
            explore = np.float32(self.iterations > 1)
            per_member, mask = self.d_step(Tensor(X[padded]), Tensor(y[padded]), Tensor(valid),
                                           Tensor(np.int32(k)), Tensor(explore), *noise.next())
            steps.append((rows, per_member, mask, self.g_step(*noise.next())))
        d_losses, g_losses = [], []
        for rows, per_member, mask, g_loss in steps:
            d_losses.append(float(per_member.asnumpy().mean()))
            g_losses.append(float(g_loss.asnumpy()))
            queried[rows[mask.asnumpy()[:len(rows)] > 0]] = True
        return float(np.mean(d_losses)), float(np.mean(g_losses))

    def _evaluate(self, X, y, X_val, y_val, score):
        """Train and validation metrics, and the selection measure."""
        train_scores = score(X)
        record = {"train_auc": auc_score(y, train_scores),
                  "train_gmean": gmean_score(y, train_scores)}
        if X_val is None:
            return record, (float(self.iterations), 0.0)
        val_scores = score(X_val)
        self.val_scores.append(val_scores)
        record["val_auc"] = auc_score(y_val, val_scores)
        record["val_gmean"] = gmean_score(y_val, val_scores)
        return record, validation_measure(self.config.select_metric, y_val, val_scores,
                                          self.config.select_ties)

    def run(self, X, y, X_val, y_val, score, on_epoch=None, keep_epochs=None):
        """Train; return the history and the kept epochs' parameters, best first.

        keep_epochs: keep these epochs, ranked in this order, instead of the best
        on validation (a refit).  The best epoch's parameters are left in the
        networks.
        """
        X = np.ascontiguousarray(X, dtype=np.float32)
        y = np.ascontiguousarray(y, dtype=np.int32)
        batch = min(self.config.batch_size, len(X))
        queried = np.zeros(len(X), dtype=bool)
        history, kept = [], TopK(self.config.select_top_k)
        noise = NoiseStream(self.noise_rng, -(-batch // self.workers), self.config.dim_z)
        merge = AnyWorker() if self.workers > 1 else None
        try:
            for epoch in range(1, self.config.max_epochs + 1):
                started = time.perf_counter()
                d_loss, g_loss = self._epoch(X, y, batch, queried, noise)
                step_seconds = time.perf_counter() - started   # the D and G steps alone
                if merge is not None:   # the rows any worker has queried
                    queried |= merge(Tensor(queried.astype(np.float32))).asnumpy() > 0
                if self.rank != 0:      # worker 0 alone scores and keeps epochs
                    history.append({"epoch": epoch, "loss_d": d_loss, "loss_g": g_loss,
                                    "labels_queried": int(queried.sum()),
                                    "step_seconds": step_seconds})
                    continue
                metrics, measure = self._evaluate(X, y, X_val, y_val, score)
                if keep_epochs is not None:
                    measure = (-float(keep_epochs.index(epoch)),) if epoch in keep_epochs \
                        else (np.nan,)
                improved = kept.offer(measure, epoch, lambda: snapshot(self.cells))
                history.append({"epoch": epoch, "loss_d": d_loss, "loss_g": g_loss, **metrics,
                                "labels_queried": int(queried.sum()), "improved": improved,
                                "step_seconds": step_seconds,
                                "seconds": time.perf_counter() - started})
                if on_epoch is not None:
                    on_epoch(history[-1])
        finally:
            noise.close()
        if kept.items():
            restore(self.cells, kept.items()[0])
        return history, kept
