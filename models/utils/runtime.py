"""Device selection, CPU thread pool and seeding: the process-wide settings.

Everything random in a run (initial weights, member learning rates, epoch
shuffles, generator noise) is drawn from the NumPy generators returned by
`seeded_generators`, so one seed fixes a run.
"""
import _thread
import gc
import os
import platform
import signal
import threading
import warnings

import numpy as np
import mindspore as ms

DEVICE_TARGETS = ("CPU", "GPU", "Ascend")
DEFAULT_CPU_THREADS = 2
_configured = None  # MindSpore accepts the device and thread settings once per process
_shard = (0, 1)     # (this worker's rank, number of workers) of data-parallel training


class DeviceError(RuntimeError):
    """The requested device cannot be used in this installation."""


class RuntimeAlreadyStarted(DeviceError):
    """MindSpore ran kernels before configure(): its device and thread pool are fixed."""


SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; raised so that staging files are cleaned up on the way out."""

    def __init__(self, signum):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.exit_code = 128 + signum


# The forwarding of signals to the main thread (interrupt_on_signals): the first signal
# of a run, and whether the run still listens (not before it starts or after it ends).
_signals = {"first": None, "armed": False, "waiter": None}
_signals_lock = threading.Lock()


def _raise_interrupted(signum, frame):
    # With the waiter thread, every signal arrives here as SIGINT (interrupt_main).
    if _signals["armed"]:   # else the run has committed its outputs and completes
        raise Interrupted(_signals["first"] or signum)


def _forward_signals():
    """The waiter thread: take each blocked SIGINT / SIGTERM and interrupt the main thread
    for the first one of a run only, so that cleanup is never interrupted twice."""
    while True:
        signum = signal.sigwait(SIGNALS)
        with _signals_lock:   # stop_listening() waits, so no interrupt lands after it
            if _signals["armed"] and _signals["first"] is None:
                _signals["first"] = signum
                _thread.interrupt_main()


def interrupt_on_signals():
    """Turn SIGINT and SIGTERM into an `Interrupted` exception in the main thread.

    Left alone, SIGTERM ends the process without running `finally` blocks, and
    MindSpore's runtime answers SIGINT with a SIGTERM to itself (exit 143, not
    130), re-installing its handler at every graph run.  So the entry scripts
    block both signals before MindSpore is imported (its threads inherit the
    mask) and a waiter thread receives them with sigwait: signals that come
    during the imports wait until the run listens, a second one is dropped,
    and one after the run has ended (see `stop_listening`) changes nothing.
    Without that mask (a command called from Python) plain handlers are set.
    """
    _signals["previous"] = {signum: signal.signal(signum, _raise_interrupted)
                            for signum in SIGNALS}
    _signals["first"], _signals["armed"] = None, True
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    if all(signum in blocked for signum in SIGNALS) and _signals["waiter"] is None:
        _signals["waiter"] = threading.Thread(target=_forward_signals, name="signals",
                                              daemon=True)
        _signals["waiter"].start()


def stop_listening():
    """The run has committed its outputs: a signal from now on no longer interrupts it."""
    with _signals_lock:
        _signals["armed"] = False


def restore_signals():
    """The handlers from before interrupt_on_signals (for a command called from Python)."""
    stop_listening()
    for signum, handler in _signals.pop("previous", {}).items():
        signal.signal(signum, handler)


def freeze_loaded_objects():
    """Leave the objects alive now out of every later garbage collection (once: nothing when
    objects are frozen already).

    MindSpore runs a full gc.collect() before compiling each graph.  With
    MindSpore, scikit-learn, SciPy and Matplotlib imported that scans some
    270,000 objects, about 0.1 s per graph.  Entry points call this after
    their imports: the imported modules live as long as the process anyway,
    and a collection then scans only what the run itself creates.  One
    collection first, so that no garbage of that moment is kept.  Not for
    library code: objects of a user's session that later become unreachable
    cycles would never be freed.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def check_device_settings(device_id, threads):
    if int(device_id) < 0:
        raise DeviceError(f"device_id must be 0 or more, got {device_id}")
    if int(threads) < 1:
        raise DeviceError(f"threads must be at least 1, got {threads}")


def configure(device_target="CPU", device_id=0, threads=DEFAULT_CPU_THREADS):
    """Select the device and compiled (graph) execution for this process.

    Calling it again with the same settings does nothing; other settings
    cannot take effect in a running process and are an error.
    """
    global _configured
    check_device_settings(device_id, threads)
    wanted = (device_target, int(device_id), int(threads))
    if _configured is not None:
        if wanted != _configured:
            raise DeviceError(f"this process already runs on {describe(_configured)}; device "
                              "and threads can be chosen once per process")
        return
    if device_target not in DEVICE_TARGETS:
        raise DeviceError(f"unknown device_target {device_target!r}; "
                          f"choose one of {', '.join(DEVICE_TARGETS)}")
    backend = getattr(ms.device_context, device_target.lower())
    if not backend.is_available():
        raise DeviceError(
            f"device_target {device_target} is not available in this MindSpore "
            f"installation (mindspore {ms.__version__}); install the {device_target} "
            "build of MindSpore or use --device_target CPU")
    ms.set_context(mode=ms.GRAPH_MODE)
    try:
        ms.set_device(device_target, device_id)
        if device_target == "CPU":
            # The default pool has 25 threads; on a small machine that makes every
            # small kernel ~40x slower.  A fixed count also fixes reduction order.
            ms.device_context.cpu.op_tuning.threads_num(int(threads))
    except RuntimeError as err:   # MindSpore ran kernels before: its runtime is fixed
        _configured = wanted      # nothing more can be set in this process
        raise RuntimeAlreadyStarted(
            f"MindSpore already ran in this process before it could be set to "
            f"{describe(wanted)}, so it keeps its own device and thread settings (slower, and "
            "scores can differ from the command line's); fit or load the model before any "
            "other MindSpore work") from err
    _configured = wanted


def describe(settings):
    """'CPU 0 with 2 threads' for a (device_target, device_id, threads) triple."""
    device_target, device_id, threads = settings
    return f"{device_target} {device_id} with {threads} CPU threads"


def configured():
    """(device_target, device_id, threads) this process runs with, or None before configure()."""
    return _configured


def ensure(device_target=None, device_id=None, threads=None):
    """What a Python estimator calls before it compiles anything.

    None means "whatever this process already runs with, else the command
    line's default" (CPU, device 0, DEFAULT_CPU_THREADS threads), so a model
    used inside train_eval.py or after an explicit configure() follows it.
    A setting given explicitly that differs from the process's cannot take
    effect: it is said in a RuntimeWarning, and the process's settings stay.
    """
    requested = (device_target, device_id, threads)
    if _configured is None:
        defaults = ("CPU", 0, DEFAULT_CPU_THREADS)
        try:
            configure(*(d if r is None else r for r, d in zip(requested, defaults)))
        except RuntimeAlreadyStarted as err:   # it computes in graph mode on its own pool
            warnings.warn(str(err), RuntimeWarning, stacklevel=3)
        return _configured
    clashes = [f"{name}={value!r}" for name, value, current in
               zip(("device_target", "device_id", "threads"), requested, _configured)
               if value is not None and value != current]
    if clashes:
        warnings.warn(f"this process already runs MindSpore on {describe(_configured)}; "
                      f"the model's {', '.join(clashes)} cannot take effect in it (start a new "
                      "process to use them)", RuntimeWarning, stacklevel=3)
    return _configured


def cpu_model():
    """The CPU's model name as Linux reports it (else what platform knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(device_target, threads):
    """What a result depends on beyond data, code and settings: the reduction order of
    the CPU kernels follows the thread count and the CPU, and versions change kernels."""
    import sklearn
    return {"device": device_target, "threads": int(threads), "cpu": cpu_model(),
            "cpu_count": os.cpu_count(), "mindspore": ms.__version__,
            "numpy": np.__version__, "scikit_learn": sklearn.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def launched_workers():
    """The number of workers msrun started this process among (before init())."""
    if "MS_ROLE" not in os.environ:
        raise DeviceError("distributed training needs the msrun launcher: use "
                          "scripts/run_distributed_train.sh DATASET WORKERS")
    return int(os.environ.get("MS_WORKER_NUM", "1"))


def init_distributed():
    """Join the msrun job this process belongs to; returns (rank, workers).

    msrun also runs the script as its scheduler: that process does its work
    inside init() and ends there.  Call after configure() and before
    anything is written.
    """
    global _shard
    if "MS_ROLE" not in os.environ:
        raise DeviceError("distributed training needs the msrun launcher: use "
                          "scripts/run_distributed_train.sh DATASET WORKERS")
    from mindspore.communication import get_group_size, get_rank, init
    init()
    _shard = (get_rank(), get_group_size())
    return _shard


def shard():
    """(rank, workers) of this process: (0, 1) unless init_distributed() ran."""
    return _shard


def seeded_generators(seed, names):
    """Independent NumPy generators, one per name, all derived from `seed`.

    Separate streams keep e.g. the initial weights unchanged when the number
    of epochs (and so the number of noise draws) changes.
    """
    ms.set_seed(int(seed))
    children = np.random.SeedSequence(int(seed)).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children)}
