"""Training schedule scaled to the table: batch size and epochs from a step budget.

A fixed epoch count gives a 100-row table a few hundred optimiser steps and a
30,000-row table thousands, so one default cannot fit both (a small table
underfits).  With `batch_size: auto` the batch grows with the training rows
(about 32 batches per epoch, a power of two in [16, 256]); with
`max_epochs: auto` the epochs are the ones that spend `train_steps` optimiser
steps, within [MIN_EPOCHS, MAX_EPOCHS] so that validation sees enough epochs
to choose from and a tiny table does not run for ever.  Explicit numbers
(a YAML value or a flag) are used as given.
"""
import math

from ..core.settings import AUTO

BATCHES_PER_EPOCH = 32
MIN_BATCH, MAX_BATCH = 16, 256
MIN_EPOCHS, MAX_EPOCHS = 20, 200


def auto_batch_size(train_rows):
    """The power of two nearest train_rows / 32, clipped to [16, 256]."""
    wanted = max(train_rows / BATCHES_PER_EPOCH, 1.0)
    return int(min(MAX_BATCH, max(MIN_BATCH, 2 ** round(math.log2(wanted)))))


def auto_epochs(train_rows, batch_size, train_steps):
    """Epochs that spend about train_steps steps, clipped to [20, 200]."""
    steps_per_epoch = math.ceil(train_rows / min(batch_size, train_rows))
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(train_steps / steps_per_epoch))))


def is_auto(value):
    return isinstance(value, str) and value.strip().lower() == AUTO


def check_setting(name, value):
    """An integer >= 1 or "auto"; the value to keep (int or "auto")."""
    if is_auto(value):
        return AUTO
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a positive integer or auto, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer or auto, got {value!r}") from None
    if not number.is_integer() or number < 1:
        raise ValueError(f"{name} must be a positive integer or auto, got {value!r}")
    return int(number)


def resolve(batch_size, max_epochs, train_steps, train_rows):
    """(batch_size, max_epochs) as the numbers a run of train_rows rows uses."""
    batch = auto_batch_size(train_rows) if is_auto(batch_size) else int(batch_size)
    batch = min(batch, train_rows)
    epochs = auto_epochs(train_rows, batch, train_steps) if is_auto(max_epochs) \
        else int(max_epochs)
    return batch, epochs
