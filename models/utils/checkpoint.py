"""Model directories: MindSpore checkpoints plus a JSON description.

A model directory is written completely into a hidden sibling and then
swapped in, so an interrupted save never leaves a half-written model and an
older model survives until the new one is whole.  A sibling left by a killed
process is removed by a later save once it is a day old.  meta.json records
the SHA-256 of every other file of the folder, checked when it is loaded, so a
damaged checkpoint is refused instead of changing scores.
"""
import contextlib
import ctypes
import csv
import glob
import hashlib
import io
import json
import os
import shutil
import tempfile
import time

import mindspore as ms

META_FILE = "meta.json"
HISTORY_FILE = "history.csv"
CHECKSUMS = "checksums"     # meta.json key: file name -> SHA-256 of its bytes
STALE_S = 24 * 3600         # a staging file or folder this old belongs to a dead process


class CheckpointError(ValueError):
    """A model directory is missing, incomplete or does not fit the model."""


def remove_stale(folder, pattern):
    """Remove what matches `pattern` (a glob, names escaped) in `folder` and was last
    changed over STALE_S ago: the staging left by a killed process (younger ones may
    belong to a running one)."""
    limit = time.time() - STALE_S
    for path in glob.glob(os.path.join(glob.escape(folder), pattern)):
        try:
            if os.lstat(path).st_mtime < limit:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.remove(path)
        except OSError:   # removed meanwhile by another process
            pass


def current_umask():
    """The process's umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)   # elsewhere: set and restore (not thread-safe, called rarely)
    os.umask(mask)
    return mask


def share_as_umask(path):
    """Give `path` the mode a plain open() or mkdir() would: tempfile makes 0600 files and
    0700 folders and MindSpore 0400 checkpoints, while the shipped ones are 0644 / 0755."""
    base = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, base & ~current_umask())


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def errors_name(path, internal):
    """Re-raise an OSError of no file (a full disk: ENOSPC) or of the temporary `internal`
    path as one of `path`, the file or folder the user asked for."""
    try:
        yield
    except OSError as err:
        if err.filename is not None and not str(err.filename).startswith(internal):
            raise
        raise OSError(err.errno, err.strerror or str(err), path) from err


def atomic_write_text(path, text):
    """Write `text` to `path` through a temporary file in the same folder."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    remove_stale(folder, f".{glob.escape(os.path.basename(path))}.*.tmp")
    internal = os.path.join(folder, f".{os.path.basename(path)}.")   # messages name PATH
    with errors_name(path, internal):
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                   dir=folder)
    try:
        with errors_name(path, internal):
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            share_as_umask(tmp)
            os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def folder_problem(path):
    """Why files cannot be written into folder `path` (created if needed), or None."""
    existing = os.path.abspath(path)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if os.path.islink(existing) and not os.path.exists(existing):
        return f"{existing} is a broken symbolic link"
    if not os.path.isdir(existing):
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def write_model_dir(directory, cells, meta, texts=None, before_swap=None):
    """Save `cells` (name -> Cell) as NAME.ckpt, `meta` as meta.json, `texts` as files.

    `before_swap()`, if given, runs once the new folder is complete and
    before it replaces the old one (e.g. to record the run's results); if it
    raises, the new folder is discarded and the old one stays.
    """
    directory = os.path.abspath(directory)
    parent, base = os.path.split(directory)
    os.makedirs(parent, exist_ok=True)
    remove_stale(parent, f".{glob.escape(base)}.*.tmp")
    remove_stale(parent, f".{glob.escape(base)}.*.tmp.old")
    internal = os.path.join(parent, f".{base}.")   # messages name DIRECTORY
    with errors_name(directory, internal):
        staging = tempfile.mkdtemp(prefix=f".{base}.", suffix=".tmp", dir=parent)
    try:
        with errors_name(directory, internal):
            _write_staging(staging, cells, meta, texts)
        if before_swap is not None:
            before_swap()
        with errors_name(directory, internal):
            if os.path.isdir(directory):
                _exchange(staging, directory)  # staging now holds the old model
            else:
                os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_staging(staging, cells, meta, texts):
    """The model folder's files in `staging`, meta.json last (it holds their checksums)."""
    for name, cell in cells.items():
        ms.save_checkpoint(cell, os.path.join(staging, f"{name}.ckpt"))
    for name, text in (texts or {}).items():
        with open(os.path.join(staging, name), "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    checksums = {name: file_sha256(os.path.join(staging, name))
                 for name in sorted(os.listdir(staging))}
    if checksums:
        meta = {**meta, CHECKSUMS: checksums}
    with open(os.path.join(staging, META_FILE), "w", encoding="utf-8") as handle:
        json.dump(meta, handle, indent=2, sort_keys=True)
    for name in os.listdir(staging):
        share_as_umask(os.path.join(staging, name))
    share_as_umask(staging)


_RENAME_EXCHANGE = 2   # linux/fs.h
_AT_FDCWD = -100


def _exchange(path_a, path_b):
    """Swap two directories in one step (Linux renameat2), so that `path_b` always exists.

    Where the system call is missing (not Linux, or a file system without
    it), two renames are used; a crash between them leaves the old model in
    the hidden staging folder beside it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None and renameat2(_AT_FDCWD, os.fsencode(path_a), _AT_FDCWD,
                                           os.fsencode(path_b), _RENAME_EXCHANGE) == 0:
        return
    parked = path_a + ".old"
    os.replace(path_b, parked)
    os.replace(path_a, path_b)
    os.replace(parked, path_a)


def read_meta(directory):
    path = os.path.join(directory, META_FILE)
    if not os.path.isdir(directory):
        raise CheckpointError(f"no model directory {directory}; train first or check the path")
    if not os.path.isfile(path):
        raise CheckpointError(f"{directory} has no {META_FILE}; it is not a saved model")
    try:
        with open(path, encoding="utf-8") as handle:
            meta = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path} is not valid JSON ({err})") from err
    if not isinstance(meta, dict) or not isinstance(meta.get("config", {}), dict):
        raise CheckpointError(f"{path} does not describe a model (expected a JSON object "
                              "with model, config, ...)")
    return meta


def verify_file(directory, name):
    """Refuse a file whose bytes differ from the checksum meta.json records for it
    (folders saved before checksums were recorded are not checked)."""
    recorded = read_meta(directory).get(CHECKSUMS, {})
    if not isinstance(recorded, dict) or name not in recorded:
        return
    if file_sha256(os.path.join(directory, name)) != recorded[name]:
        raise CheckpointError(f"{os.path.join(directory, name)} does not match the checksum "
                              f"recorded in {META_FILE} (damaged or edited since it was "
                              "saved); restore the folder or retrain")


def load_cell(cell, directory, name):
    """Load NAME.ckpt from `directory` into `cell`; every parameter must match."""
    path = os.path.join(directory, f"{name}.ckpt")
    if not os.path.isfile(path):
        raise CheckpointError(f"{directory} has no {name}.ckpt; the model directory is incomplete")
    verify_file(directory, f"{name}.ckpt")
    try:
        saved = ms.load_checkpoint(path)
    except (RuntimeError, ValueError) as err:
        raise CheckpointError(f"{path} is not a readable MindSpore checkpoint") from err
    fill_cell(cell, saved, path)


def fill_cell(cell, saved, source):
    """Set every parameter of `cell` from `saved` (name -> Parameter, Tensor or array);
    names and shapes must match exactly.  `source` names where they came from."""
    for param in cell.get_parameters():
        if param.name not in saved:
            raise CheckpointError(f"{source} has no parameter {param.name}")
        if tuple(saved[param.name].shape) != tuple(param.shape):
            raise CheckpointError(f"{source} holds {param.name} with shape "
                                  f"{tuple(saved[param.name].shape)}, the model expects "
                                  f"{tuple(param.shape)}")
    saved = {name: value if isinstance(value, ms.Parameter)
             else ms.Parameter(ms.Tensor(value), name=name) for name, value in saved.items()}
    missing, unused = ms.load_param_into_net(cell, saved, strict_load=True)
    if missing or unused:
        raise CheckpointError(f"{source} does not fit the model: missing {missing}, "
                              f"unused {unused}")


def history_texts(history):
    """{history.csv: text} for write_model_dir, or None without a history."""
    if not history:
        return None
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(history[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return {HISTORY_FILE: out.getvalue()}


def read_history(directory):
    """The per-epoch records saved with a model ([] when there are none), numbers as floats."""
    path = os.path.join(directory, HISTORY_FILE)
    if not os.path.isfile(path):
        return []
    verify_file(directory, HISTORY_FILE)
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def _number(text):
    if text in ("True", "False"):
        return text == "True"
    try:
        return float(text)
    except ValueError:
        return text
