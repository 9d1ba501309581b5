"""The command-line contract of train_eval.py, predict.py and export.py.

Success exits 0.  An expected problem (bad input, a path that cannot be
written) prints one `error: ...` line and exits 2.  SIGINT / SIGTERM print
one `error:` line and exit 128 + the signal number, after the `finally`
blocks have removed staging folders and temporary files; only the first
signal counts, and one that comes once the outputs are being committed
(results row, weights swap, final rename) lets the run complete.
"""
import argparse
import sys

from . import runtime


def run_command(body, expected_errors, interrupted_note):
    """body() under the contract above; returns the exit code."""
    runtime.freeze_loaded_objects()
    runtime.interrupt_on_signals()
    try:
        try:
            body()
        finally:
            runtime.stop_listening()   # a signal from here on changes nothing
    except expected_errors as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:   # a folder or file that cannot be written after all
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except runtime.Interrupted as err:
        print(f"error: {err}; {interrupted_note}", file=sys.stderr)
        return err.exit_code
    finally:
        runtime.restore_signals()
    return 0


def str2bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "on"):
        return True
    if text in ("false", "0", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {value!r}")
