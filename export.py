"""Export a trained EAL-GAN scorer to MINDIR: raw rows in, anomaly scores out.

    python export.py --weights weights/cardio --file_format MINDIR [--file_name cardio_eal_gan]

The exported graph applies the scaling the model was trained behind (the
training part's standard, robust or quantile transform; a missing cell
counts as 0 after it, as in predict.py) and returns the ensemble mean of the
auxiliary heads, one score per row; its batch dimension is dynamic.  Load it
with `ms.load(path)` and `nn.GraphCell`.
"""

import signal

if __name__ == "__main__":
    # Before MindSpore starts its threads, which inherit the mask: signals then reach
    # runtime.interrupt_on_signals' waiter thread only (see there).
    signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))

import argparse
import os
import re
import shutil
import sys
import tempfile

import numpy as np

from models import EALGAN
from models.core.scaling import ScalingError, scaling_from_dict
from models.persistence import recorded_scaling
from models.utils import runtime
from models.utils.cli import run_command
from models.utils.checkpoint import (CheckpointError, errors_name, folder_problem, read_meta,
                                     remove_stale, share_as_umask)
import mindspore as ms
from mindspore import nn, ops, Tensor

FILE_FORMATS = ("MINDIR",)
MINDSPORE_PATH = re.compile(r"[0-9a-zA-Z@_\-.:/\\]+")   # the paths ms.export accepts


class AffineScaling(nn.Cell):
    """(x - offset) / scale, NaN -> 0: the standard and robust transforms.

    The scaling runs in float64, as models/core/scaling.py does, so exported
    and Python scores agree to float32 rounding of the network alone.
    """

    def __init__(self, offset, scale):
        super().__init__()
        self.offset = Tensor(np.asarray(offset, dtype=np.float64))
        self.scale = Tensor(np.asarray(scale, dtype=np.float64))

    def construct(self, x):
        z = (x.astype(ms.float64) - self.offset) / self.scale
        return ops.select(ops.isnan(z), ops.zeros_like(z), z).astype(ms.float32)


class PiecewiseLinearScaling(nn.Cell):
    """The quantile transform: per column, linear interpolation between its knots
    (features x K, increasing along K) and their scores, the outermost score
    beyond them, NaN -> 0; np.interp's function, in float64."""

    def __init__(self, knots, scores):
        super().__init__()
        self.knots = Tensor(np.asarray(knots, dtype=np.float64))
        self.scores = Tensor(np.asarray(scores, dtype=np.float64))
        self.last = int(self.knots.shape[1]) - 1

    def construct(self, x):
        x = x.astype(ms.float64).T        # (features, rows): each column's sorted knots
        missing = ops.isnan(x)
        x = ops.select(missing, ops.zeros_like(x), x)
        above = ops.searchsorted(self.knots, x, right=True)   # first knot above x
        lo = ops.clip(above - 1, 0, self.last)
        hi = ops.clip(above, 0, self.last)
        k_lo = ops.gather_elements(self.knots, 1, lo)
        k_hi = ops.gather_elements(self.knots, 1, hi)
        s_lo = ops.gather_elements(self.scores, 1, lo)
        s_hi = ops.gather_elements(self.scores, 1, hi)
        width = k_hi - k_lo   # 0 beyond the outermost knots (lo == hi)
        share = ops.select(width > 0, (x - k_lo) / ops.select(width > 0, width,
                                                              ops.ones_like(width)),
                           ops.zeros_like(width))
        z = ops.select(missing, ops.zeros_like(x), s_lo + share * (s_hi - s_lo))
        return z.T.astype(ms.float32)


def scaling_cell(record):
    """The graph of a recorded scaling (models/core/scaling.py)."""
    scaler = scaling_from_dict(record)
    if scaler.kind == "quantile":
        return PiecewiseLinearScaling(*scaler.padded())
    return AffineScaling(*scaler.affine())


class ScoringNetwork(nn.Cell):
    """The recorded scaling, then the ensemble score."""

    def __init__(self, networks, scaling):
        super().__init__()
        self.networks = networks
        self.scaling = scaling

    def construct(self, x):
        return self.networks(self.scaling(x))


def scoring_network(weights):
    """The model in `weights` with its scaling, ready to export or call."""
    meta = read_meta(weights)
    try:
        scaling = scaling_cell(recorded_scaling(meta, weights))
    except ScalingError as err:
        raise CheckpointError(f"{weights}/meta.json: {err}") from err
    return ScoringNetwork(EALGAN.load(weights).networks_, scaling), meta


def export(weights, file_name, file_format="MINDIR"):
    """Write FILE_NAME.mindir atomically; returns its path."""
    if file_format not in FILE_FORMATS:
        raise CheckpointError(f"file_format {file_format!r} is not supported; use MINDIR")
    network, meta = scoring_network(weights)
    target = f"{file_name}.mindir"
    if os.path.isdir(target):
        raise CheckpointError(f"{target} is a folder; choose another --file_name")
    folder = os.path.dirname(os.path.abspath(target))
    problem = folder_problem(folder)
    if problem:
        raise CheckpointError(f"--file_name {file_name}: {problem}")
    os.makedirs(folder, exist_ok=True)
    remove_stale(folder, ".export.*")   # left by a killed run
    # MindSpore writes only to paths of letters, digits and @_-.:/\ (no space): elsewhere
    # the graph is staged in the system's temporary folder and copied beside the target.
    beside = MINDSPORE_PATH.fullmatch(folder) is not None
    with errors_name(target, os.path.join(folder, ".export.")):
        staging = tempfile.mkdtemp(prefix=".export.", dir=folder if beside else None)
    if not MINDSPORE_PATH.fullmatch(staging):
        shutil.rmtree(staging)
        raise CheckpointError(f"--file_name {file_name}: MindSpore cannot write under "
                              f"{staging}; set TMPDIR to a folder named with letters, digits "
                              "and @_-.:/ only")
    copy = None
    try:
        with errors_name(target, staging):
            example = Tensor(shape=[None, meta["n_features"]], dtype=ms.float32)
            ms.export(network, example, file_name=os.path.join(staging, "model"),
                      file_format=file_format)
            staged = os.path.join(staging, "model.mindir")
        with errors_name(target, folder):
            if not beside:   # a temporary name in the target's folder, then one rename
                fd, copy = tempfile.mkstemp(prefix=".export.", suffix=".mindir", dir=folder)
                os.close(fd)
                shutil.copyfile(staged, copy)
                staged = copy
            runtime.stop_listening()   # the graph is whole: it appears, signal or not
            share_as_umask(staged)
            os.replace(staged, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if copy is not None and os.path.exists(copy):
            os.remove(copy)
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", required=True,
                        help="a trained EAL-GAN model folder, e.g. weights/cardio")
    parser.add_argument("--file_format", default="MINDIR", help="MINDIR")
    parser.add_argument("--file_name", help="output path without extension "
                        "(default: DATASET_eal_gan in the current folder)")
    parser.add_argument("--device_target", default="CPU")
    args = parser.parse_args(argv)

    def write():
        runtime.configure(args.device_target)
        name = args.file_name or f"{os.path.basename(os.path.normpath(args.weights))}_eal_gan"
        print(f"exported -> {export(args.weights, name, args.file_format)}")

    return run_command(write, (CheckpointError, runtime.DeviceError), "nothing exported")


if __name__ == "__main__":
    sys.exit(main())
