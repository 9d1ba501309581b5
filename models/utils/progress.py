"""Progress while people wait: per-epoch lines or tqdm bars (elapsed and time left).

Bars go to stderr, so that a command's results on stdout stay clean; epoch lines go
to stdout, as the command line prints them.
"""
import sys

from tqdm.auto import tqdm

# Epoch record keys that are not losses or metrics.
NOT_SHOWN = ("epoch", "improved", "seconds", "step_seconds", "labels_queried")


def epoch_line(record, max_epochs):
    """One progress line: every loss and metric of the epoch record."""
    values = "  ".join(f"{key} {value:.4f}" for key, value in record.items()
                       if key not in NOT_SHOWN)
    return (f"epoch {record['epoch']:4d}/{max_epochs}  {values}  {record['seconds']:.2f}s"
            + ("  *" if record.get("improved") else ""))


def bar(total, description, unit, enabled=True):
    """A tqdm bar on stderr (a no-op one when not enabled)."""
    return tqdm(total=total, desc=description, unit=unit, disable=not enabled, file=sys.stderr,
                dynamic_ncols=True, leave=True)


class EpochProgress:
    """The on_epoch callback of a fit with `verbose` 0 (nothing), 1 (a bar) or 2 (lines).

    total() gives the number of epochs once the fit knows it (EAL-GAN
    resolves "auto" after it has seen the rows).  A user's own callback
    still runs after the report.
    """

    def __init__(self, verbose, label, total, then=None):
        self.verbose, self.label, self.total, self.then = verbose, label, total, then
        self._bar = None

    def __call__(self, record):
        if self.verbose == 1:
            if self._bar is None:
                self._bar = bar(self.total(), f"{self.label} epochs", "epoch")
            shown = {k: f"{v:.3f}" for k, v in record.items()
                     if k in ("val_auc", "val_gmean", "loss_d", "loss_g", "loss")}
            self._bar.set_postfix(shown, refresh=False)
            self._bar.update(1)
        elif self.verbose == 2:
            print(epoch_line(record, self.total()), flush=True)
        if self.then is not None:
            self.then(record)

    def __enter__(self):
        return self if (self.verbose or self.then is not None) else None

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
        return False
