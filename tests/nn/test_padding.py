"""F.pad against PyTorch: every mode, every input rank PyTorch supports, asymmetric and negative pads, gradients
(finite differences too), float32, and the error messages."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F
from oracle import check, check_float32, gradcheck, rand, torch

MODES = ["reflect", "replicate", "circular"]


# ---- constant ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, pad", [
    ((5,), (2, 1)),
    ((5,), (-1, 3)),
    ((3, 4), (1, 2, 0, 3)),
    ((3, 4), (-1, -2, 2, -1)),
    ((2, 3, 4), (0, 0, 1, 1, 2, 0)),
    ((2, 3, 4), (3, -4)),             # crop a dim down to 0, then pad: only the fill is left
    ((1, 2, 3, 5), (1, 1, 2, 2)),
    ((2, 1, 3, 3, 4), (1, 0, -1, 2, 0, 1, 1, 1)),
    ((2, 2, 2, 2, 3), (1, 2, 1, 0, 0, 1, 2, 1, 1, 0)),
    ((3, 4), ()),
])
@pytest.mark.parametrize("value", [None, 0.0, -2.5])
def test_constant(shape, pad, value):
    check(lambda lib, x: lib.F.pad(x, pad, value=value), rand(*shape, seed=len(pad)))


def test_constant_pads_dims_before_the_spatial_ones():
    check(lambda lib, x: lib.F.pad(x, (1, 1, 0, 0, 0, 2)), rand(2, 3, 4))  # pads the batch dim too


def test_constant_integer_tensor_keeps_dtype():
    out = F.pad(cnnlab.tensor([1, 2, 3]), (1, 2), value=7.9)  # truncated to the dtype, as PyTorch does
    assert out.dtype == cnnlab.int64 and out.tolist() == [7, 1, 2, 3, 7, 7]


# ---- reflect / replicate / circular --------------------------------------------------------------------------
# (input shape, pad): every (pad length, input rank) combination PyTorch implements, asymmetric pads.
RANKS = [
    ((3, 7), (2, 3)),                            # 1-d padding, unbatched (C, W)
    ((2, 3, 6), (0, 4)),                         # 1-d padding, batched (N, C, W)
    ((3, 5, 6), (1, 2, 3, 0)),                   # 2-d, unbatched
    ((1, 2, 5, 4), (3, 1, 2, 4)),                # 2-d, batched, batch 1
    ((2, 4, 5, 3), (1, 0, 2, 2, 3, 1)),          # 3-d, unbatched (C, D, H, W)
    ((2, 1, 4, 3, 5), (2, 2, 1, 2, 0, 3)),       # 3-d, batched
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, pad", RANKS)
def test_modes_every_rank(mode, shape, pad):
    check(lambda lib, x: lib.F.pad(x, pad, mode=mode), rand(*shape, seed=3))


@pytest.mark.parametrize("mode, pad", [
    ("reflect", (6, 6)), ("reflect", (0, 6)),              # reflect: at most size - 1
    ("replicate", (9, 0)), ("replicate", (4, 12)),         # replicate: any amount
    ("circular", (7, 7)), ("circular", (1, 7)),            # circular: at most size (wraps exactly once)
])
def test_modes_largest_pads(mode, pad):
    check(lambda lib, x: lib.F.pad(x, pad, mode=mode), rand(2, 3, 7, seed=4))


def test_circular_full_wrap():
    check(lambda lib, x: lib.F.pad(x, (5, 5, 3, 0), mode="circular"), rand(1, 2, 3, 5, seed=5))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pad", [(-1, 2), (2, -1), (-2, -2), (-3, 0), (0, -4), (-1, 3), (-4, 1)])
def test_modes_negative_1d(mode, pad):
    """Negative values crop. reflect/replicate pad the whole dim then crop; circular crops then wraps."""
    check(lambda lib, x: lib.F.pad(x, pad, mode=mode), rand(2, 3, 5, seed=6))


@pytest.mark.parametrize("mode, pad", [("reflect", (-5, 1)), ("reflect", (-7, 3)), ("reflect", (-8, 4)),
                                       ("replicate", (-5, 1)), ("replicate", (-9, 5))])
def test_reflect_replicate_crop_past_the_far_edge(mode, pad):
    """A crop larger than the dim on one side still reads the other side's (uncropped) reflection/edge."""
    check(lambda lib, x: lib.F.pad(x, pad, mode=mode), rand(1, 5, seed=7))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, pad", [
    ((1, 2, 4, 5), (1, -1, -1, 2)),
    ((2, 3, 6, 5), (-2, 3, 2, -3)),
    ((1, 2, 4, 5, 6), (-1, 2, 1, -1, 0, -2)),
])
def test_modes_negative_nd(mode, shape, pad):
    check(lambda lib, x: lib.F.pad(x, pad, mode=mode), rand(*shape, seed=8))


@pytest.mark.parametrize("mode", MODES)
def test_modes_value_zero_is_accepted(mode):
    check(lambda lib, x: lib.F.pad(x, (1, 2), mode=mode, value=0), rand(2, 4, seed=9))


def test_batch_dim_may_be_empty():
    check(lambda lib, x: lib.F.pad(x, (1, 2, 2, 1), mode="reflect"), rand(0, 2, 3, 4))


# ---- gradients, float32 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode, pad", [
    ("constant", (2, -1, 1, 1)),
    ("reflect", (2, 1, 1, 2)),
    ("reflect", (-1, 3, 2, -1)),
    ("replicate", (3, 1, 0, 2)),
    ("replicate", (-2, 4, 1, 0)),
    ("circular", (4, 2, 3, 1)),
    ("circular", (-1, 3, 1, -1)),
])
def test_gradcheck(mode, pad):
    gradcheck(lambda x: F.pad(x, pad, mode=mode), rand(1, 2, 3, 4, seed=10))


def test_gradcheck_3d_reflect():
    gradcheck(lambda x: F.pad(x, (1, 2, 2, 0, 1, 1), mode="reflect"), rand(1, 1, 3, 3, 4, seed=11))


@pytest.mark.parametrize("mode", ["constant"] + MODES)
def test_float32(mode):
    out = check_float32(lambda lib, x: lib.F.pad(x, (1, 2, 2, 1), mode=mode), rand(2, 3, 4, 5, seed=12))
    assert out[0].dtype == np.float32


def test_reflect_forward_values():
    x = cnnlab.tensor([[[1.0, 2.0, 3.0, 4.0]]])
    assert F.pad(x, (3, 2), mode="reflect").tolist() == [[[4.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]]]
    assert F.pad(x, (2, 1), mode="circular").tolist() == [[[3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 1.0]]]
    assert F.pad(x, (1, 2), mode="replicate").tolist() == [[[1.0, 1.0, 2.0, 3.0, 4.0, 4.0, 4.0]]]


# ---- errors -----------------------------------------------------------------------------------------------
def test_unknown_mode():
    with pytest.raises(ValueError, match=r"pad: mode must be one of 'constant', 'reflect', 'replicate', "
                                         r"'circular'\. Got mode='foo'\."):
        F.pad(cnnlab.zeros(1, 4), (1, 1), mode="foo")
    with pytest.raises(NotImplementedError):  # PyTorch's type for it
        F.pad(cnnlab.zeros(1, 4), (1, 1), mode="foo")


def test_odd_length():
    with pytest.raises(RuntimeError, match=r"pad: pad must have an even length.*Got pad=\(1, 2, 3\) \(3 values\)"):
        F.pad(cnnlab.zeros(2, 4), (1, 2, 3))


def test_too_many_values():
    with pytest.raises(RuntimeError, match=r"at most 2 values per input dim \(2 \* 2 = 4\)\. Got pad=\(1, 1, 1, 1, "
                                           r"1, 1\) \(6 values\), input.shape=\(2, 4\)"):
        F.pad(cnnlab.zeros(2, 4), (1,) * 6)


def test_reflect_pad_must_be_smaller_than_dim():
    with pytest.raises(RuntimeError, match=r"reflect padding must be smaller than the size of the padded dim\. "
                                           r"Got pad \(1, 3\) for dim 2 of size 3 \(input.shape=\(1, 1, 3, 4\)\)"):
        F.pad(cnnlab.zeros(1, 1, 3, 4), (1, 1, 1, 3), mode="reflect")


def test_circular_at_most_dim_size():
    with pytest.raises(RuntimeError, match=r"circular padding can be at most the size of the padded dim.*Got pad "
                                           r"\(6, 0\) for dim 1 of size 5"):
        F.pad(cnnlab.zeros(1, 5), (6, 0), mode="circular")
    with pytest.raises(RuntimeError, match=r"Got pad \(-1, 5\) for dim 1 of size 5.*, 4 left after cropping"):
        F.pad(cnnlab.zeros(1, 5), (-1, 5), mode="circular")


@pytest.mark.parametrize("mode, shape, pad", [
    ("reflect", (5,), (1, 1)),
    ("replicate", (2, 5), (1, 1, 1, 1)),
    ("circular", (1, 2, 3, 4, 5, 6), (1, 1)),
    ("reflect", (2, 3, 4), ()),
    ("replicate", (1, 1, 2, 2, 2, 2), (1,) * 8),
])
def test_mode_rank_not_supported(mode, shape, pad):
    with pytest.raises(NotImplementedError, match=rf"pad: mode='{mode}' pads the last 1, 2 or 3 dims.*Got pad="):
        F.pad(cnnlab.zeros(*shape), pad, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_value_with_non_constant_mode(mode):
    with pytest.raises(RuntimeError, match=rf"mode='{mode}' takes no fill value.*Got value=1\.5"):
        F.pad(cnnlab.zeros(1, 4), (1, 1), mode=mode, value=1.5)


@pytest.mark.parametrize("mode, pad", [("constant", (-3, -3)), ("constant", (-6, 1)), ("circular", (-3, -3))])
def test_crop_below_zero(mode, pad):
    with pytest.raises(RuntimeError, match=r"negative padding can crop a dim at most down to size 0.*5 \+ -3 \+ -3 "
                                           r"= -1|5 \+ -6 \+ 0 = -1"):
        F.pad(cnnlab.zeros(1, 5), pad, mode=mode)


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_reflect_replicate_keep_size_one(mode):
    with pytest.raises(RuntimeError, match=rf"mode='{mode}' must leave at least one padded dim with size 1 or "
                                           r"more.*5 \+ -4 \+ -1 = 0"):
        F.pad(cnnlab.zeros(1, 5), (-4, -1), mode=mode)
    with pytest.raises(RuntimeError, match=r"3 \+ -3 \+ 0 = 0, 3 \+ 0 \+ -3 = 0"):
        F.pad(cnnlab.zeros(1, 3, 3), (-3, 0, 0, -3), mode=mode)
    with pytest.raises(RuntimeError, match=r"crop a dim at most down to size 0.*3 \+ -2 \+ -2 = -1"):
        F.pad(cnnlab.zeros(1, 3, 3), (0, 0, -2, -2), mode=mode)


# PyTorch empties a result when the crops empty some (not all, for reflect/replicate) padded dims; the gradient is
# zero (PyTorch's own reflect gradient there is uninitialised memory, so only the values and shape are compared).
@pytest.mark.parametrize("mode, shape, pad", [
    ("reflect", (1, 3, 3), (-3, 0, 0, 0)), ("replicate", (1, 1, 3, 3, 3), (-1, -2, -1, -2, 0, 0)),
    ("circular", (1, 2, 2), (1, -3)), ("circular", (1, 3, 3), (-3, 0, -3, 0)), ("circular", (1, 1, 3), (-6, 3)),
    ("circular", (1, 3, 5), (-5, 5, -3, 0)),
])
def test_crop_to_empty(mode, shape, pad):
    check(lambda lib, x: lib.F.pad(x, pad, mode=mode), rand(*shape), grad=[False])
    x = cnnlab.tensor(rand(*shape), requires_grad=True)
    F.pad(x, pad, mode=mode).sum().backward()
    assert x.grad is not None and not np.any(x.grad.numpy())


@pytest.mark.parametrize("shape, pad", [((1, 5), (1, -6)), ((4, 3, 4, 2), (2, -4, -5, 3))])
def test_circular_crop_past_empty(shape, pad):
    """PyTorch's copy of the kept part fails to broadcast there (a RuntimeError); so does cnnlab, with a message."""
    with pytest.raises(RuntimeError, match=r"crops more than the dim holds.*Got pad.*elements for [01] places"):
        F.pad(cnnlab.zeros(*shape), pad, mode="circular")
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.zeros(*shape), pad, mode="circular")


@pytest.mark.parametrize("pad", [(-3, 3), (3, -3), (-1, 5), (2, -4)])
def test_circular_wrap_longer_than_kept_part(pad):
    """A wrapped strip longer than what the crop keeps: PyTorch reads unwritten memory (garbage or its overlap
    error); cnnlab refuses."""
    with pytest.raises(RuntimeError, match=r"at most the size of the padded dim after cropping.*left after cropping"):
        F.pad(cnnlab.zeros(1, 5), pad, mode="circular")


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_empty_channel_dim(mode):
    with pytest.raises(RuntimeError, match=r"needs every dim except the batch dim to be non-empty\. Got "
                                           r"input.shape=\(2, 0, 3\)"):
        F.pad(cnnlab.zeros(2, 0, 3), (1, 1), mode=mode)


def test_pad_must_be_ints():
    with pytest.raises(TypeError, match=r"pad: pad must be a tuple of ints\. Got pad=\(1\.0, 1\)\."):
        F.pad(cnnlab.zeros(1, 4), (1.0, 1))
    with pytest.raises(TypeError, match=r"pad must be a tuple of ints"):
        F.pad(cnnlab.zeros(1, 4), 1)


def test_pad_accepts_numpy_and_tensor_ints():
    out = F.pad(cnnlab.zeros(1, 4), [np.int64(1), cnnlab.tensor(2)])
    assert tuple(out.shape) == (1, 7)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", [((1, 2, 5), (1, 1)), ((1, 2, 5, 5), (1, 1, 2, 0)),
                                       ((1, 1, 4, 4, 4), (1, 1, 1, 1, 1, 1))])
def test_grad_fn_name_equals_torch(mode, shape, pad):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    ours = F.pad(cnnlab.tensor(x, requires_grad=True), pad, mode=mode)
    theirs = torch.nn.functional.pad(torch.tensor(x, requires_grad=True), pad, mode=mode)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
