"""Active sampling picks exactly the k most uncertain valid rows."""
import numpy as np
import pytest
from mindspore import Tensor

from models.eal_gan.active import query_size, select_first, select_uncertain


@pytest.mark.parametrize("k", [1, 7, 30, 64])
def test_select_uncertain_matches_numpy(k):
    rng = np.random.default_rng(k)
    scores = rng.random(64).astype(np.float32)
    mask = select_uncertain(Tensor(scores), Tensor(np.ones(64, np.float32)),
                            Tensor(np.int32(k))).asnumpy()
    chosen = np.flatnonzero(mask)
    want = np.argsort(np.abs(scores - 0.5))[:k]
    assert sorted(chosen) == sorted(want)


def test_padding_rows_are_never_selected():
    scores = np.full(10, 0.9, dtype=np.float32)
    scores[7:] = 0.5            # padded rows look maximally uncertain
    valid = np.r_[np.ones(7), np.zeros(3)].astype(np.float32)
    mask = select_uncertain(Tensor(scores), Tensor(valid), Tensor(np.int32(5))).asnumpy()
    assert mask.sum() == 5 and mask[7:].sum() == 0
    everything = select_uncertain(Tensor(scores), Tensor(valid), Tensor(np.int32(7))).asnumpy()
    np.testing.assert_array_equal(everything, valid)


def test_select_first_takes_leading_valid_rows():
    valid = np.r_[np.ones(6), np.zeros(2)].astype(np.float32)
    mask = select_first(Tensor(valid), Tensor(np.int32(4))).asnumpy()
    np.testing.assert_array_equal(mask, [1, 1, 1, 1, 0, 0, 0, 0])
    mask = select_first(Tensor(valid), Tensor(np.int32(8))).asnumpy()
    np.testing.assert_array_equal(mask, valid)


@pytest.mark.parametrize("rows,rate,k", [(128, 1.0, 128), (128, 0.05, 6), (10, 0.05, 1),
                                         (2048, 0.3, 614)])
def test_query_size(rows, rate, k):
    assert query_size(rows, rate) == k
