"""Train a detector on one dataset and evaluate it, or evaluate saved weights.

    python train_eval.py --data_name glass
    python train_eval.py --data_name shuttle --max_epochs 50 --device_target CPU
    python train_eval.py --data_name glass --resume True      # evaluate weights/glass
    python train_eval.py --data_name glass --model ganomaly   # one of the other detectors

    python train_eval.py --list_models                       # the detectors' names

Settings (config.py): configs/default.yaml, then --preset NAME
(configs/presets/NAME.yaml), then (EAL-GAN) configs/DATASET.yaml or (other
detectors) configs/models/MODEL.yaml, or --config FILE instead, then
command-line flags.  A dataset's YAML wins over a preset; to run a preset as
it is on one of the 16 sets, pass it as --config configs/presets/NAME.yaml.
Choices that need labels (EAL-GAN's epoch, the other detectors' threshold)
use the validation part; the test part is scored once.
Outputs: weights/DATASET/ (EAL-GAN) or weights/MODEL/DATASET/, a row of
results/runs.csv, the AUC_ and Gmean_ tables of the model, and PNG figures
under results/plots/.
"""

import signal

if __name__ == "__main__":
    # Before MindSpore starts its threads, which inherit the mask: signals then reach
    # runtime.interrupt_on_signals' waiter thread only (see there).
    signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))

import os
import sys
import time

from config import OUTSIDE_GRAPH, ConfigError, model_config, resolve_settings
from evaluation import (check_same_scores, draw_figures, evaluate_parts, load_trained,
                        weights_folder)
from dataloader import DataError, first_row, load_table, resolve_data_file
from preprocess import PARTS, prepare, split_indices, summary_line
from models import DETECTORS, EALGAN
from models.eal_gan import memory, schedule
from models.utils import progress, runtime
from models.utils.compile_cache import CompileCache, network_shapes
from models.utils.cli import run_command
from models.core.detector import ModelTooLarge, TrainingDiverged
from models.utils.checkpoint import META_FILE, CheckpointError, folder_problem, read_meta
from models.utils.results import (HASH_CHARS, KEY_COLUMNS, RUNS_FILE, RUN_COLUMNS, ResultsError,
                                  dataset_row, read_rows, record_run, row_key, run_row,
                                  summary_path)

HERE = os.path.dirname(os.path.abspath(__file__))


def train(args, data):
    config = model_config(args)
    model = DETECTORS[args.model].from_config(config)
    print(f"training {model.label}: {config}")

    def on_epoch(record):
        print(progress.epoch_line(record, getattr(model, "max_epochs_", config.max_epochs)),
              flush=True)

    started = time.perf_counter()
    model.fit(data.X["train"], data.y["train"], data.X["val"], data.y["val"],
              on_epoch if args.print else None)
    seconds = time.perf_counter() - started
    for line in model.fit_summary():
        print(line)
    print(f"training took {seconds:.1f}s")
    return model, seconds


def portable_path(path):
    """A data file's path relative to the repository, or its name when it lies outside."""
    relative = os.path.relpath(os.path.abspath(path), HERE)
    return os.path.basename(path) if relative.startswith("..") else relative


def check_output_folder(path, flag):
    """Refuse, before any training, an output folder that is a file or cannot be written."""
    problem = folder_problem(path)
    if problem:
        raise ConfigError(f"--{flag} {path}: {problem}")


def write_results(args, table, data, model, metrics, seed, train_seconds, made_with):
    """This run's row in results/runs.csv; the AUC and Gmean tables follow from it.
    made_with: the training run's provenance and data hash (empty for weights that
    record none: evaluating shipped weights leaves their row as it was).

    Once the results lock is held the run completes whatever signal comes (a SIGINT
    between the row and the weights swap, or in the last lines, was reported as leaving
    both unchanged); waiting for the lock can be interrupted."""
    test = {name[len("test_"):]: value for name, value in metrics.items()
            if name.startswith("test_")}
    key = dataset_row(table.name, len(table.y), table.X.shape[1], table.outlier_percent)
    # a refitted EAL-GAN trained on the validation rows too (other detectors never refit)
    refit = getattr(model.config_, "refit", False)
    train_rows = data.sizes["train"] + (data.sizes["val"] if refit else 0)
    record_run(args.results_dir, run_row(model.label, key, seed, test, model.selected_epoch_,
                                         model.labels_queried_, train_rows,
                                         train_seconds, made_with),
               on_locked=runtime.stop_listening)


def same_source(meta, table):
    """Whether saved weights were trained on this table: the same content where a hash
    was recorded, else (older weights, the shipped ones) a file of the same name and size."""
    if "data_sha256" in meta:
        return meta["data_sha256"] == table.digest()
    return os.path.basename(str(meta.get("data_file"))) == os.path.basename(table.path) \
        and sum(meta.get("split", {}).values()) == len(table.y) \
        and meta.get("n_features") == table.X.shape[1]


def check_weights_target(args, table, weights):
    """Refuse, before training, a save that would replace what this run did not make.

    A model trained on other data of the same name (a user's cardio.csv against the
    shipped weights/cardio) is replaced only with --overwrite; a folder that is not a
    model folder, or that holds the results folder, never."""
    if args.model == EALGAN.name and table.name in DETECTORS:
        raise ConfigError(f"a dataset named {table.name!r} would put its EAL-GAN weights in "
                          f"{weights}, the folder of the {table.name} detector's models; "
                          "rename the data file")
    results = os.path.realpath(args.results_dir)
    folder = os.path.realpath(weights)
    if results == folder or results.startswith(folder + os.sep):
        raise ConfigError(f"--results_dir {args.results_dir} lies inside the model folder "
                          f"{weights}, which saving the new model replaces; choose another")
    if not os.path.exists(weights):
        return
    if not os.path.isfile(os.path.join(weights, META_FILE)):
        raise ConfigError(f"{weights} exists but is not a model folder (no {META_FILE}); "
                          "move it away or choose another --weights_dir")
    meta = read_meta(weights)
    if not args.overwrite and not same_source(meta, table):
        raise ConfigError(f"{weights} holds a model trained on other data "
                          f"({meta.get('data_file')}); this run's is {table.path}: pass "
                          "--overwrite True to replace it, or choose another --weights_dir "
                          "or file name")


def check_results_row(args, table, seed):
    """Refuse, unless --overwrite, to replace a results row made from other data under the
    same name (a user's cardio.csv against the shipped row): another data hash where the
    row records one, else another size."""
    if args.overwrite:
        return
    path = os.path.join(args.results_dir, RUNS_FILE)
    key = dataset_row(table.name, len(table.y), table.X.shape[1], table.outlier_percent)
    label = DETECTORS[args.model].label
    digest = table.digest()[:HASH_CHARS]
    for row in read_rows(path, RUN_COLUMNS):
        if (row["Model"], row["Data"], row["Seed"]) != (label, table.name, str(seed)):
            continue
        if row.get("Data hash") and row["Data hash"] != digest:
            raise ConfigError(f"{path} holds a {label} row for {table.name} seed {seed} made "
                              "from other data (another content hash); pass --overwrite True "
                              "to replace it, or choose another --results_dir or file name")
        if row_key(row, KEY_COLUMNS) != row_key(key, KEY_COLUMNS):
            raise ConfigError(f"{path} holds a {label} row for {table.name} seed {seed} made "
                              f"from other data ({row['# Samples']} rows, "
                              f"{row['# Dimensions']} features, {row['Outlier Perc']}% "
                              f"anomalies); pass --overwrite True to replace it, or choose "
                              "another --results_dir or file name")


def compile_cache(args, command, settings, data):
    """The compile cache of this run (off with --compile_cache False)."""
    parts = {"command": command, "settings": settings, "sizes": data.sizes,
             "features": int(data.X["train"].shape[1])}
    return CompileCache(args.compile_cache_dir if args.compile_cache else None, parts)


def check_distributed(args, table, workers):
    """What data-parallel training cannot do, refused on every worker alike (before scaling)."""
    if args.model != EALGAN.name:
        raise ConfigError(f"--distributed trains EAL-GAN only, not {args.model}")
    if args.resume or args.tune or args.refit:
        raise ConfigError("--distributed trains one model: drop --resume, --tune and --refit")
    config = model_config(args)
    train_rows = len(split_indices(table.y, args.seed)[0])
    batch, _ = schedule.resolve(config.batch_size, config.max_epochs, config.train_steps,
                                train_rows)
    if batch < workers:
        raise ConfigError(f"{workers} workers need a batch of at least {workers} rows; the "
                          f"batch holds {batch}")


def check_width(args, path):
    """Refuse an EAL-GAN too wide for memory from a CSV's header, before its rows are
    parsed (a 100,000-column file was read for 205 s first); the check with the real
    batch size follows in fit()."""
    if args.model != EALGAN.name or args.resume or not path.lower().endswith(".csv"):
        return
    features = len(first_row(path)) - 1   # one column is the label
    if features > 0:
        memory.check_fits(model_config(args), features, 1)


def follow(args, table):
    """A data-parallel worker other than 0: train in step with worker 0, write nothing."""
    data = prepare(table, args.seed, scaling=args.scaling)
    DETECTORS[args.model].from_config(model_config(args)).fit(
        data.X["train"], data.y["train"], data.X["val"], data.y["val"])


def run(args):
    runtime.configure(args.device_target, args.device_id, args.threads)
    path = resolve_data_file(args.data_path, args.data_name)
    check_width(args, path)
    table = load_table(path, args.label_column)
    weights = weights_folder(args, table.name)
    if args.distributed:
        # Refused before joining the job: init() waits for every process (over a minute
        # when one of them has already refused).
        check_distributed(args, table, runtime.launched_workers())
        runtime.init_distributed()
        args.compile_cache = False   # MindSpore files each worker's graphs by rank
    if runtime.shard()[0] != 0:
        return follow(args, table)
    if args.resume:
        model, data, meta = load_trained(args, table, weights)
        seed, seconds = meta["seed"], meta["train_seconds"]
        check_results_row(args, table, seed)
        print(summary_line(table, data))
        print(f"evaluating {weights} ({model.label}, seed {seed})")
        with compile_cache(args, "evaluate", {"model": args.model, "config": meta["config"],
                                              "device": args.device_target,
                                              "shapes": network_shapes(model.networks_)},
                           data) as cache:
            print(cache.describe())
            metrics, test_scores = evaluate_parts(model, data)
        check_same_scores(meta, metrics, weights, table)
        # the row describes the training run, which evaluation reproduces exactly
        write_results(args, table, data, model, metrics, seed, seconds,
                      {**meta.get("provenance", {}), "data_sha256": meta.get("data_sha256", "")})
    else:
        outputs = [(args.weights_dir, "weights_dir"), (args.results_dir, "results_dir")]
        if args.plots:
            outputs.append((os.path.join(args.results_dir, "plots"), "results_dir"))
        for folder, flag in outputs:
            check_output_folder(folder, flag)
        check_weights_target(args, table, weights)
        check_results_row(args, table, args.seed)
        seed, data = args.seed, prepare(table, args.seed, scaling=args.scaling)
        print(summary_line(table, data))
        graph_settings = {k: v for k, v in vars(args).items()
                          if k not in OUTSIDE_GRAPH}
        with compile_cache(args, "train", graph_settings, data) as cache:
            print(cache.describe())
            model, seconds = train(args, data)
            metrics, test_scores = evaluate_parts(model, data)
        # The results row is written while the new weights wait complete beside
        # the old ones: a run that cannot record its results keeps the old model.
        made_with = runtime.provenance(args.device_target, args.threads)
        model.save(weights, {"data": table.name, "data_file": portable_path(table.path),
                             "provenance": made_with,
                             "data_sha256": table.digest(),
                             "seed": seed, "split": data.sizes,
                             "scaler": data.scaler.to_dict(),
                             "feature_names": table.feature_names,
                             "train_seconds": round(seconds, 3), **metrics},
                   before_swap=lambda: write_results(
                       args, table, data, model, metrics, seed, seconds,
                       {**made_with, "data_sha256": table.digest()}))
        print(f"weights -> {weights}")
    print("  ".join(f"{part}: auc {metrics[f'{part}_auc']:.4f} gmean {metrics[f'{part}_gmean']:.4f}"
                    for part in PARTS))
    queried = "" if model.labels_queried_ is None else \
        f"  labels queried {model.labels_queried_}/{data.sizes['train']}"
    print(f"test: ap {metrics['test_ap']:.4f} precision@n {metrics['test_precision_at_n']:.4f}"
          + queried)
    print(f"results -> {os.path.join(args.results_dir, RUNS_FILE)}, "
          f"{summary_path(args.results_dir, 'AUC', model.label)}")
    if args.plots:
        draw_figures(args, table, model, data, test_scores)


def main(argv=None):
    if list(argv if argv is not None else sys.argv[1:]) == ["--list_models"]:
        print(" ".join(DETECTORS))   # what the shell scripts accept
        return 0
    return run_command(lambda: run(resolve_settings(argv)),
                       (ConfigError, DataError, CheckpointError, ResultsError, TrainingDiverged,
                        runtime.DeviceError, ModelTooLarge),
                       "the previous weights and results are unchanged")


if __name__ == "__main__":
    sys.exit(main())
