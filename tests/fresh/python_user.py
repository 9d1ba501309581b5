"""What a Python user does in a fresh process: no test fixture, nothing configured.

    python python_user.py WORKDIR

WORKDIR holds split.npz (the command line's train / val / test parts, raw
and scaled) and config.json (the settings train_eval.py trained with).  The
script fits EAL-GAN from the installed package on the scaled parts, and a
StandardScaler pipeline on the raw rows, saves and pickles both, and writes
their test scores and what it saw of the process to WORKDIR.
"""
import gc
import json
import os
import pickle
import sys
import time

import joblib
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ealgan import EALGAN, save_model
from ealgan.utils import runtime

work = sys.argv[1]
data = np.load(os.path.join(work, "split.npz"))
with open(os.path.join(work, "config.json"), encoding="utf-8") as handle:
    config = json.load(handle)

started = time.perf_counter()
model = EALGAN(**config).fit(data["X_train"], data["y_train"], data["X_val"], data["y_val"])
fit_seconds = time.perf_counter() - started
model.save(os.path.join(work, "bare"))
with open(os.path.join(work, "bare.pkl"), "wb") as handle:
    pickle.dump(model, handle)

# The same settings behind a scaler, fitted on raw rows; the pipeline holds out
# its own validation part.
pipeline = make_pipeline(StandardScaler(), EALGAN(**config)).fit(data["raw_train"],
                                                                 data["y_train"])
save_model(pipeline, os.path.join(work, "pipeline"))
joblib.dump(pipeline, os.path.join(work, "pipeline.joblib"))

import mindspore  # noqa: E402  (already imported by ealgan; asked only for its state)

np.savez(os.path.join(work, "python_scores.npz"),
         bare=model.decision_function(data["X_test"]),
         pipeline=pipeline.decision_function(data["raw_test"]))
with open(os.path.join(work, "process.json"), "w", encoding="utf-8") as handle:
    json.dump({"fit_seconds": fit_seconds,
               "graph_mode": mindspore.get_context("mode") == mindspore.GRAPH_MODE,
               "runtime": list(runtime.configured()),
               "frozen_objects": gc.get_freeze_count(),
               "repository_modules": sorted(name for name in sys.modules
                                            if name.split(".")[0] in ("models", "dataloader",
                                                                      "preprocess"))},
              handle)
