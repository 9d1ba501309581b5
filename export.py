"""Export a trained EAL-GAN scorer to MINDIR: raw rows in, anomaly scores out.

    python export.py --weights weights/cardio --file_format MINDIR [--file_name cardio_eal_gan]

The exported graph applies the training split's standardisation (missing
cells count as the training mean) and returns the ensemble mean of the
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
from models.persistence import recorded_scaling
from models.utils import runtime
from models.utils.cli import run_command
from models.utils.checkpoint import (CheckpointError, errors_name, folder_problem, read_meta,
                                     remove_stale, share_as_umask)
import mindspore as ms
from mindspore import nn, ops, Tensor

FILE_FORMATS = ("MINDIR",)
MINDSPORE_PATH = re.compile(r"[0-9a-zA-Z@_\-.:/\\]+")   # the paths ms.export accepts


class ScoringNetwork(nn.Cell):
    """(x - mean) / scale, NaN -> 0, then the ensemble score.

    The scaling runs in float64, as preprocess.Standardizer does, so exported
    and Python scores agree to float32 rounding of the network alone.
    """

    def __init__(self, networks, mean, scale):
        super().__init__()
        self.networks = networks
        self.mean = Tensor(np.asarray(mean, dtype=np.float64))
        self.scale = Tensor(np.asarray(scale, dtype=np.float64))

    def construct(self, x):
        z = (x.astype(ms.float64) - self.mean) / self.scale
        z = ops.select(ops.isnan(z), ops.zeros_like(z), z).astype(ms.float32)
        return self.networks(z)


def scoring_network(weights):
    """The model in `weights` with its scaler, ready to export or call."""
    meta = read_meta(weights)
    scaler = recorded_scaling(meta, weights)
    return ScoringNetwork(EALGAN.load(weights).networks_, scaler["mean"], scaler["scale"]), meta


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
