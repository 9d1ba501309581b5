"""One D step and one G step of EAL-GAN on a fixed global batch; the parameters after them.

    python tests/reference/distributed_step.py OUT_PREFIX            # one process: all rows
    msrun ... tests/reference/distributed_step.py OUT_PREFIX          # each worker: its share

Every process builds the same networks (seed 5) and the same global batch
(B rows, B noise vectors); a worker of W takes rows and noise
[rank * B / W, (rank + 1) * B / W), as the epoch loop's shards do, and its
steps average the gradients over the workers.  Writes OUT_PREFIX_RANK.npz.
tests/test_distributed.py compares the one-process and two-worker results.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from models import EALGAN  # noqa: E402
from models.utils import runtime  # noqa: E402
from models.eal_gan.trainer import DiscriminatorStep, GeneratorStep  # noqa: E402
from mindspore import Tensor  # noqa: E402

BATCH, FEATURES = 32, 5


def main(prefix):
    runtime.configure("CPU", 0, 1)
    rank, workers = runtime.init_distributed() if "MS_ROLE" in os.environ else (0, 1)
    model = EALGAN(ensemble_num=3, dim_z=8, active_rate=1.0, seed=5)
    model.config_ = model.config
    model._build(FEATURES)
    rng = np.random.default_rng(9)
    X = rng.standard_normal((BATCH, FEATURES)).astype(np.float32)
    y = (np.arange(BATCH) % 4 == 0).astype(np.int32)
    z = rng.standard_normal((2, BATCH, 8)).astype(np.float32)
    y_fake = rng.integers(0, 2, (2, BATCH)).astype(np.int32)
    rows = np.array_split(np.arange(BATCH), workers)[rank]
    d_step = DiscriminatorStep(model.generator_, model.discriminators_, model.member_lr_,
                               query_all=True, workers=workers)
    g_step = GeneratorStep(model.generator_, model.discriminators_, model.config_.lr_g,
                           workers=workers)
    d_step(Tensor(X[rows]), Tensor(y[rows]), Tensor(np.ones(len(rows), np.float32)),
           Tensor(np.int32(len(rows))), Tensor(np.float32(0.0)), Tensor(z[0][rows]),
           Tensor(y_fake[0][rows]))
    g_step(Tensor(z[1][rows]), Tensor(y_fake[1][rows])).asnumpy()
    np.savez(f"{prefix}_{rank}.npz", **{p.name: p.asnumpy()
                                         for p in model.networks_.get_parameters()})


if __name__ == "__main__":
    main(sys.argv[1])
