"""Train the authors' EAL-GAN (PyTorch) on one prepared split; run by scripts/parity.py.

    .venv-parity/bin/python scripts/parity_official.py OFFICIAL_CODE SPLIT.npz OUT.npz
                            --seed S --max_epochs N [--frozen_scoring]

OFFICIAL_CODE is a checkout of github.com/smallcube/EAL-GAN; its files are
imported, never edited.  Two run-time shims make them run on current
libraries: their models/utils.py does `from numpy import *`, which shadows
Python's max/min/round/abs/sum/any/all in every module that imports from it
(restored here after import), and nothing of theirs that calls torch.load is
used (the epoch loop below replaces their fit(), which saves and reloads
checkpoints, so that every epoch can be scored).

SPLIT.npz holds the train, validation and test parts exactly as this
repository scaled them.  Their model is built with their own parse_args()
defaults, overridden only by --max_epochs; their "test" set is given the
validation part (their per-epoch "test" metrics are validation metrics).
After each epoch their predict() scores the validation and test parts.
OUT.npz holds, per epoch, their train AUC / Gmean (their selection measure),
the validation and test scores and the training seconds, and the peak
memory; scripts/parity.py computes every other number with this
repository's metrics, for both implementations alike.

--frozen_scoring is a diagnostic, not their behaviour: their networks never
leave training mode, so each scoring pass advances the spectral-norm power
iteration (their u vectors).  With it, every predict() call, theirs
included, runs with the discriminators in eval mode, which leaves u alone,
as this port's scoring does.
"""
import argparse
import builtins
import collections
import os
import random
import resource
import sys
import time

import numpy as np

SHADOWED = ("max", "min", "round", "abs", "sum", "any", "all")


def import_official(code_dir):
    """Their EAL_GAN, parse_args and prepare_z_y, with the builtins restored in their modules."""
    sys.path.insert(0, os.path.join(code_dir, "EAL-GAN"))
    import matplotlib
    matplotlib.use("Agg")
    from models import EAL_GAN as eal_module, utils as utils_module
    for module in (eal_module, utils_module):
        for name in SHADOWED:
            if name in vars(module):
                setattr(module, name, getattr(builtins, name))
    return eal_module.EAL_GAN, utils_module.parse_args, utils_module.prepare_z_y


def frozen(predict, networks):
    """predict() run with `networks` in eval mode, so that scoring moves no spectral-norm state."""
    def predict_in_eval_mode(*args, **kwargs):
        for network in networks:
            network.eval()
        try:
            return predict(*args, **kwargs)
        finally:
            for network in networks:
                network.train()
    return predict_in_eval_mode


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("official_code")
    parser.add_argument("split")
    parser.add_argument("output")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--max_epochs", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--frozen_scoring", action="store_true")
    options = parser.parse_args()

    import torch
    torch.set_num_threads(options.threads)
    EAL_GAN, parse_args, prepare_z_y = import_official(options.official_code)
    parts = np.load(options.split)
    tensors = {name: torch.from_numpy(parts[name]) for name in parts.files}
    sys.argv = [sys.argv[0]]           # their parse_args reads the command line
    args = parse_args()
    args.max_epochs, args.print, args.cuda = options.max_epochs, False, False
    args.data_name = os.path.splitext(os.path.basename(options.split))[0]
    # Their constructor draws the member learning rates from np.random and the
    # torch seed from random: seeding both makes a run repeatable.
    random.seed(options.seed)
    np.random.seed(options.seed)
    torch.manual_seed(options.seed)
    model = EAL_GAN(args, tensors["X_train"].float(), tensors["y_train"].long(),
                    tensors["X_val"].float(), tensors["y_val"].long())
    if options.frozen_scoring:
        model.predict = frozen(model.predict, model.NetD_Ensemble)
    # what their fit() sets up before its epoch loop
    z, y = prepare_z_y(model.batch_size, model.dim_z, 2, device=model.device)
    model.train_history = collections.defaultdict(list)
    train_auc, train_gmean, val_scores, test_scores, seconds = [], [], [], [], []
    for epoch in range(args.max_epochs):
        started = time.perf_counter()
        auc, gmean, _, _ = model.train_one_epoch(z, y, epoch)
        seconds.append(time.perf_counter() - started)
        train_auc.append(auc)
        train_gmean.append(gmean)
        for part, scores in (("val", val_scores), ("test", test_scores)):
            _, scored = model.predict(tensors[f"X_{part}"].float(), tensors[f"y_{part}"].long(),
                                      model.NetD_Ensemble)
            scores.append(np.nan_to_num(scored, nan=0.0))   # as their epoch loop does
    np.savez(options.output, train_auc=train_auc, train_gmean=train_gmean,
             val_scores=np.array(val_scores), test_scores=np.array(test_scores),
             seconds=seconds, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

if __name__ == "__main__":
    main()
