"""Active learning sample selection (docs/design.md section 4).

Per batch the discriminators train only on the k rows whose ensemble score is
closest to 0.5; their labels are the ones "queried".  Selection is expressed
as a 0/1 mask over a fixed-size batch, so one compiled graph serves every
batch, including a short last batch padded with invalid rows.
"""
from mindspore import ops
from mindspore import dtype as mstype

# Larger than any |s - 0.5| (at most 0.5): padded rows sort after real ones.
_PADDING_MARGIN = 2.0


def query_size(batch_rows, active_rate):
    """k = max(1, int(B * active_rate)) labels queried from a batch of B rows."""
    return max(1, int(batch_rows * active_rate))


def select_uncertain(scores, valid, k):
    """Mask of the k valid rows with the smallest |score - 0.5|.

    scores, valid: (batch,) float; k: int32 scalar tensor.  Returns (batch,)
    float with exactly min(k, valid rows) ones.
    """
    margin = ops.abs(scores - 0.5) + (1.0 - valid) * _PADDING_MARGIN
    ranks = ops.argsort(ops.argsort(margin))
    return (ranks < k).astype(scores.dtype)


def select_first(valid, k):
    """Mask of the first k rows (the reference's choice before any training)."""
    positions = ops.arange(valid.shape[0], dtype=mstype.int32)
    return (positions < k).astype(valid.dtype) * valid
