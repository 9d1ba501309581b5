"""The evaluation side of the command line: where a model is saved, loading it with its
data split and scaled as in training, scoring the three parts, and the figures.

train_eval.py (training, and --resume) and scripts/plot_results.py use it.
"""
import os

from models.core.scaling import ScalingError, scaling_from_dict
from models.persistence import recorded_scaling
from preprocess import PARTS, prepare
from models import DETECTORS, EALGAN
from models.utils.checkpoint import CheckpointError, read_meta
from models.utils.metrics import evaluate
from models.utils.results import RUN_COLUMNS, RUNS_FILE, read_rows

# A recorded metric that a --resume evaluation of the same data misses by more than this
# (other thread counts move scores by ~1e-7) means other data.
TOLERANCE = 1e-3


def weights_folder(args, dataset):
    """weights/DATASET for EAL-GAN (the model-zoo layout), weights/MODEL/DATASET otherwise."""
    if args.model == EALGAN.name:
        return os.path.join(args.weights_dir, dataset)
    return os.path.join(args.weights_dir, args.model, dataset)


def load_trained(args, table, weights):
    """The saved model and its data, split and scaled exactly as in training."""
    meta = read_meta(weights)
    missing = [key for key in ("scaler", "n_features", "seed") if key not in meta]
    if missing:
        raise CheckpointError(f"{weights}/meta.json lacks {', '.join(missing)}; it was not "
                              "written by train_eval.py")
    if meta.get("model") != args.model:
        raise CheckpointError(f"{weights} holds a {meta.get('model')!r} model; pass "
                              f"--model {meta.get('model')}")
    if meta.get("n_features") != table.X.shape[1]:
        raise CheckpointError(f"{weights} was trained on {meta.get('n_features')} features "
                              f"but {table.path} has {table.X.shape[1]}")
    if args.resume_epoch >= 0 and args.resume_epoch != meta.get("selected_epoch"):
        raise CheckpointError(f"{weights} holds epoch {meta.get('selected_epoch')} only (the "
                              f"one selected on validation), not --resume_epoch "
                              f"{args.resume_epoch}")
    recorded = meta.get("data_sha256")
    if recorded is not None and recorded != table.digest():
        raise CheckpointError(f"{table.path} is not the data {weights} was trained on (its "
                              "content hash differs: rows added, removed, reordered or "
                              "changed, so the split would differ); evaluate on "
                              f"{meta.get('data_file', 'the training file')} or retrain")
    seed = meta.get("seed", args.seed)
    if seed != args.seed:
        print(f"note: {weights} was trained with seed {seed}; evaluating on that seed's split")
    try:
        scaler = scaling_from_dict(recorded_scaling(meta, weights))
    except ScalingError as err:
        raise CheckpointError(f"{weights}/meta.json: {err}") from err
    data = prepare(table, seed, scaler)
    return DETECTORS[args.model].load(weights), data, meta


def check_same_scores(meta, metrics, weights, table):
    """Weights saved without a data hash: the recomputed metrics must be those recorded at
    training, else the data (or its row order, hence the split) is not the training data."""
    if "data_sha256" in meta:
        return
    for key in metrics:
        if isinstance(meta.get(key), float) and abs(meta[key] - metrics[key]) > TOLERANCE:
            raise CheckpointError(f"{table.path} does not reproduce the scores recorded in "
                                  f"{weights} ({key} {metrics[key]:.4f}, recorded "
                                  f"{meta[key]:.4f}): it is not the data the model was "
                                  "trained on, or its rows are in another order")


def evaluate_parts(model, data):
    """Flat metrics (train_auc, ..., test_precision_at_n) and the test scores."""
    metrics, scores = {}, {}
    for part in PARTS:
        scores[part] = model.decision_function(data.X[part])
        metrics.update({f"{part}_{name}": value for name, value in
                        evaluate(data.y[part], scores[part], model.threshold_).items()})
    return metrics, scores["test"]


def draw_figures(args, table, model, data, test_scores):
    """Training curves, test ROC / PR curves and the model's summary bars under results/plots."""
    from models.utils import plots   # Matplotlib takes ~0.5 s to import: only when drawing
    folder = os.path.join(args.results_dir, "plots")
    tag = table.name if args.model == EALGAN.name else f"{args.model}_{table.name}"
    title = f"{model.label} on {table.name}"
    if model.history_:
        plots.training_curves(model.history_, plots.kept_epochs(model),
                              os.path.join(folder, f"{tag}_training.png"), title)
    plots.roc_pr_curves(data.y["test"], test_scores, os.path.join(folder, f"{tag}_test.png"),
                        f"{title}: test split")
    runs = read_rows(os.path.join(args.results_dir, RUNS_FILE), RUN_COLUMNS)
    plots.summary_bars(runs, model.label, os.path.join(folder, f"summary_{args.model}.png"))
    print(f"figures -> {folder}/{tag}_*.png")
