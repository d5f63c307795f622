"""F.unfold / F.fold against PyTorch (2-d), against a plain loop reference written here (1-d, 3-d, asymmetric
padding, PyTorch lacks them), the adjoint identity <unfold(x), y> == <x, fold(y)>, finite differences, float32,
the im2col kernels' buffers and channels-last layout, and the error messages."""
import itertools

import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.kernels import im2col as K
from oracle import PT, check, check_float32, gradcheck, rand


def ref_unfold(x, k, s, p, d):
    """Plain loops: x (N, C, *S), p = ((before, after), ...) -> (N, C*prod(k), L)."""
    n = len(k)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(p))
    out = [(xp.shape[2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(n)]
    N, C = x.shape[:2]
    kk = int(np.prod(k))
    cols = np.zeros((N, C * kk, int(np.prod(out))), dtype=x.dtype)
    for b, c in itertools.product(range(N), range(C)):
        for j, off in enumerate(np.ndindex(*k)):
            for li, o in enumerate(np.ndindex(*out)):
                pos = tuple(o[i] * s[i] + off[i] * d[i] for i in range(n))
                cols[b, c * kk + j, li] = xp[(b, c) + pos]
    return cols


def ref_fold(cols, size, k, s, p, d):
    """Plain loops: cols (N, C*prod(k), L) -> (N, C, *size), overlapping entries summed."""
    n = len(k)
    padded = tuple(size[i] + p[i][0] + p[i][1] for i in range(n))
    out = [(padded[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(n)]
    N, CK, _ = cols.shape
    kk = int(np.prod(k))
    xp = np.zeros((N, CK // kk) + padded, dtype=cols.dtype)
    for b, c in itertools.product(range(N), range(CK // kk)):
        for j, off in enumerate(np.ndindex(*k)):
            for li, o in enumerate(np.ndindex(*out)):
                pos = tuple(o[i] * s[i] + off[i] * d[i] for i in range(n))
                xp[(b, c) + pos] += cols[b, c * kk + j, li]
    crop = tuple(slice(p[i][0], p[i][0] + size[i]) for i in range(n))
    return xp[(slice(None), slice(None)) + crop]


def blocks(size, k, s, p, d):
    return int(np.prod([(size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(len(size))]))


# ---- 2-d against PyTorch -------------------------------------------------------------------------------------
GEOMETRIES_2D = [  # (kernel_size, stride, dilation, padding)
    (k, s, d, p) for k, s, d, p in itertools.product([1, 2, 3, (2, 3)], [1, 2, 3, (3, 1)], [1, 2, 3], [0, 1, (2, 1)])
    if not (k == 1 and p != 0)  # a 1x1 kernel over padding is legal but adds nothing new
]


@pytest.mark.parametrize("k, s, d, p", GEOMETRIES_2D)
def test_unfold_2d(k, s, d, p):
    check(lambda lib, x: lib.F.unfold(x, k, dilation=d, padding=p, stride=s), rand(2, 3, 9, 8, seed=1))


@pytest.mark.parametrize("k, s, d, p", GEOMETRIES_2D[::3])
def test_fold_2d(k, s, d, p):
    k2, s2, d2, p2 = ((v, v) if isinstance(v, int) else v for v in (k, s, d, p))
    size = (9, 8)
    C = 2
    y = rand(2, C * k2[0] * k2[1], blocks(size, k2, s2, p2, d2), seed=2)
    check(lambda lib, y: lib.F.fold(y, size, k, dilation=d, padding=p, stride=s), y)


@pytest.mark.parametrize("shape", [(1, 1, 5, 7), (1, 4, 3, 3), (3, 2, 6, 1)])
def test_unfold_odd_sizes_batch_1(shape):
    k = (3, 1) if shape[-1] == 1 else 3
    check(lambda lib, x: lib.F.unfold(x, k, padding=(1, 0)), rand(*shape, seed=3))


def test_unfold_unbatched():
    check(lambda lib, x: lib.F.unfold(x, (2, 3), stride=2, padding=1), rand(3, 7, 6, seed=4))


def test_fold_unbatched():
    check(lambda lib, y: lib.F.fold(y, (5, 6), 2, stride=(1, 2)), rand(8, 12, seed=5))


def test_fold_int_output_size():
    check(lambda lib, y: lib.F.fold(y, 5, 3, padding=1), rand(1, 18, 25, seed=6))


def test_unfold_float32():
    out = check_float32(lambda lib, x: lib.F.unfold(x, 3, padding=1, stride=2), rand(2, 3, 7, 6, seed=7))
    assert out[0].dtype == np.float32


def test_fold_float32():
    out = check_float32(lambda lib, y: lib.F.fold(y, (6, 5), 2, dilation=2), rand(2, 12, 12, seed=8))
    assert out[0].dtype == np.float32


# ---- 1-d and 3-d (and asymmetric padding) against the loop reference ---------------------------------------
ND_CASES = [  # (input shape, kernel, stride, dilation, padding as pairs)
    ((2, 3, 11), (3,), (2,), (1,), ((1, 1),)),
    ((1, 2, 10), (4,), (3,), (2,), ((0, 2),)),
    ((2, 1, 7), (1,), (1,), (1,), ((0, 0),)),
    ((1, 2, 5, 6, 4), (2, 3, 2), (1, 2, 1), (1, 1, 2), ((1, 1), (0, 1), (1, 0))),
    ((2, 1, 4, 5, 5), (3, 2, 2), (2, 1, 3), (1, 2, 1), ((1, 2), (1, 1), (0, 0))),
    ((1, 3, 6, 7), (3, 2), (2, 3), (2, 1), ((2, 0), (1, 3))),  # 2-d, asymmetric padding (an extension)
]


def _unfold_args(k, s, d, p):
    return dict(kernel_size=k, stride=s, dilation=d, padding=p)


@pytest.mark.parametrize("shape, k, s, d, p", ND_CASES)
def test_unfold_nd_matches_reference(shape, k, s, d, p):
    x = rand(*shape, seed=9)
    out = F.unfold(cnnlab.tensor(x), **_unfold_args(k, s, d, p))
    np.testing.assert_allclose(out.numpy(), ref_unfold(x, k, s, p, d), rtol=0, atol=0)


@pytest.mark.parametrize("shape, k, s, d, p", ND_CASES)
def test_fold_nd_matches_reference(shape, k, s, d, p):
    ref_shape = ref_unfold(np.zeros(shape), k, s, p, d).shape
    y = rand(*ref_shape, seed=10)
    out = F.fold(cnnlab.tensor(y), shape[2:], **_unfold_args(k, s, d, p))
    np.testing.assert_allclose(out.numpy(), ref_fold(y, shape[2:], k, s, p, d), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, k, s, d, p", ND_CASES)
def test_fold_is_adjoint_of_unfold(shape, k, s, d, p):
    """<unfold(x), y> == <x, fold(y)>, and both gradients agree with the other op."""
    args = _unfold_args(k, s, d, p)
    x = cnnlab.tensor(rand(*shape, seed=11), requires_grad=True)
    cols = F.unfold(x, **args)
    y = cnnlab.tensor(rand(*tuple(cols.shape), seed=12), requires_grad=True)
    back = F.fold(y, shape[2:], **args)
    lhs = float((cols * y).sum().item())
    rhs = float((x * back).sum().item())
    assert lhs == pytest.approx(rhs, rel=1e-12)
    (cols * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), back.detach().numpy(), rtol=1e-12)
    y.grad = None
    (x.detach() * back).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), cols.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape, kernel_size", [((3, 9), (3,)), ((2, 4, 3, 5), (2, 2, 3)), ((2, 3, 6, 7), (2, 2, 2))])
def test_unfold_nd_needs_a_batched_input(shape, kernel_size):
    """A tuple of n entries needs an (n+2)-d input for n != 2: a 4-d batch with a 3-tuple kernel was read as one
    unbatched volume (the batch taken for channels), where PyTorch raises."""
    with pytest.raises(RuntimeError, match=rf"unfold: expects a {len(kernel_size) + 2}-d \(batched\) input"):
        F.unfold(cnnlab.zeros(*shape), kernel_size)
    x = rand(1, *shape, seed=13)
    out = F.unfold(cnnlab.tensor(x), kernel_size, stride=2)
    np.testing.assert_array_equal(out.numpy(), ref_unfold(x, kernel_size, (2,) * len(kernel_size),
                                                          ((0, 0),) * len(kernel_size), (1,) * len(kernel_size)))


@pytest.mark.parametrize("shape", [(2, 5, 6), (1, 2, 5, 6)])
@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, dilation=2)])
def test_unfold_int_args_3d_4d_inputs_are_pytorch_images(shape, args):
    """All-int geometry: a 3-d input is an unbatched image and a 4-d one a batch of images, as in PyTorch."""
    check(lambda lib, x: lib.F.unfold(x, **args), rand(*shape, seed=15))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5, 6), (1, 2, 5, 4, 3, 4)])
def test_unfold_int_args_5d_and_up_raise_like_torch(shape):
    """All-int geometry means 2 spatial dims, as in PyTorch, which refuses a 5-d input; volumes need tuples
    (that spelling is checked against the loop reference above)."""
    with pytest.raises(RuntimeError, match=r"expects a 3-d \(unbatched\) or 4-d \(batched\) input"):
        F.unfold(cnnlab.zeros(*shape), 2, dilation=1, padding=1, stride=2)
    with pytest.raises(RuntimeError):
        PT.F.unfold(PT.torch.zeros(*shape), 2, dilation=1, padding=1, stride=2)


# ---- finite differences -----------------------------------------------------------------------------------
@pytest.mark.parametrize("k, s, d, p", [(2, 1, 1, 0), ((2, 3), 2, (1, 2), 1), ((3,), (2,), (2,), ((2, 1),)),
                                        ((2, 2, 2), (2, 1, 1), 1, ((0, 1), (1, 0), (1, 1)))])
def test_gradcheck(k, s, d, p):
    n = len(k) if isinstance(k, tuple) else 2
    shape = (1, 2) + (5, 4, 3)[:n] if n < 3 else (1, 1, 3, 3, 4)
    x = rand(*shape, seed=15)
    gradcheck(lambda t: F.unfold(t, k, dilation=d, padding=p, stride=s), x)
    y = rand(*tuple(F.unfold(cnnlab.tensor(x), k, dilation=d, padding=p, stride=s).shape), seed=16)
    gradcheck(lambda t: F.fold(t, shape[2:], k, dilation=d, padding=p, stride=s), y)


# ---- the kernels directly --------------------------------------------------------------------------------
def test_kernel_out_buffers_are_filled_and_reused():
    x = rand(2, 3, 6, 7, seed=17)
    geom = dict(kernel_size=3, stride=(2, 1), padding=((1, 2), (0, 1)), dilation=(1, 2))
    ref = K.im2col(x, **geom)
    buf = np.full(ref.size, np.nan)  # stale garbage must be overwritten, padding included
    got = K.im2col(x, **geom, out=buf)
    assert np.shares_memory(got, buf)
    np.testing.assert_array_equal(got, ref)
    xbuf = np.full(x.shape, np.nan)
    back = K.col2im(ref.reshape(2, 27, -1), x.shape, **geom, out=xbuf)
    assert np.shares_memory(back, xbuf)
    np.testing.assert_array_equal(back, K.col2im(ref, x.shape, **geom))


def test_kernel_bad_out_buffer():
    with pytest.raises(ValueError, match=r"im2col: out must be a C-contiguous float64 array of 32 elements"):
        K.im2col(np.zeros((1, 2, 3, 3)), 2, out=np.zeros(31))


def test_kernel_padding_larger_than_kernel_reach():
    """Offsets whose whole window row lies in the padding produce zero columns (and drop in col2im)."""
    x = rand(1, 1, 2, 2, seed=18)
    p = ((3, 3), (3, 3))
    np.testing.assert_array_equal(K.im2col(x, 2, padding=p).reshape(1, 4, -1), ref_unfold(x, (2, 2), (1, 1), p, (1, 1)))
    cols = rand(1, 4, 49, seed=19)
    np.testing.assert_allclose(K.col2im(cols, x.shape, 2, padding=p), ref_fold(cols, (2, 2), (2, 2), (1, 1), p, (1, 1)))


@pytest.mark.parametrize("shape, k, s, d, p", ND_CASES)
def test_channels_last_matches_channels_first(shape, k, s, d, p):
    n = len(k)
    x = rand(*shape, seed=20)
    first = K.im2col(x, k, s, p, d)  # (N, C, *K, *O)
    x_last = np.moveaxis(x, 1, -1)  # (N, *S, C)
    last = K.im2col_channels_last(np.ascontiguousarray(x_last), k, s, p, d)  # (N, *O, *K, C)
    perm = (0,) + tuple(range(2 + n, 2 + 2 * n)) + tuple(range(2, 2 + n)) + (1,)
    np.testing.assert_array_equal(last, first.transpose(perm))
    cols = rand(*last.shape, seed=21)
    back = K.col2im_channels_last(cols, x_last.shape, k, s, p, d)
    np.testing.assert_allclose(back, np.moveaxis(K.col2im(cols.transpose(np.argsort(perm)), shape, k, s, p, d), 1, -1),
                               rtol=1e-12)


def test_output_shape():
    assert K.output_shape((9, 8), (2, 3), stride=(3, 1), padding=((2, 0), 1), dilation=2) == (3, 6)


# ---- errors -----------------------------------------------------------------------------------------------
def test_unfold_wrong_rank():
    with pytest.raises(RuntimeError, match=r"unfold: expects a 3-d \(unbatched\) or 4-d \(batched\) input.*Got "
                                           r"input.shape=\(1, 2, 3, 4, 5\)"):
        F.unfold(cnnlab.zeros(1, 2, 3, 4, 5), (2, 2))
    with pytest.raises(RuntimeError, match=r"unfold: expects a 3-d \(unbatched\) or 4-d \(batched\) input.*Got "
                                           r"input.shape=\(2, 7\)"):
        F.unfold(cnnlab.zeros(2, 7), 2)  # PyTorch refuses a 2-d input too


@pytest.mark.parametrize("name", ["kernel_size", "stride", "dilation"])
def test_unfold_non_positive(name):
    args = dict(kernel_size=2, stride=1, dilation=1)
    args[name] = 0
    with pytest.raises(RuntimeError, match=rf"unfold: {name} must be positive\. Got {name}=\(0, 0\)\."):
        F.unfold(cnnlab.zeros(1, 1, 4, 4), **args)


def test_unfold_negative_padding():
    with pytest.raises(RuntimeError, match=r"unfold: padding must be non-negative\. Got padding=-1\."):
        F.unfold(cnnlab.zeros(1, 1, 4, 4), 2, padding=-1)


def test_unfold_kernel_too_big():
    with pytest.raises(RuntimeError, match=r"unfold: output size would be 0 or less.*Got H=5 with kernel_size=7"):
        F.unfold(cnnlab.zeros(2, 3, 5, 6), 7)


def test_unfold_bad_kernel_type():
    with pytest.raises(TypeError, match=r"unfold: kernel_size must be an int or a tuple of 2 ints\. Got "
                                        r"kernel_size=2\.5\."):
        F.unfold(cnnlab.zeros(1, 1, 4, 4), 2.5)


def test_fold_channels_not_divisible():
    with pytest.raises(RuntimeError, match=r"fold: input.shape\[1\] must be divisible by the product of "
                                           r"kernel_size\. Got input.shape=\(2, 13, 20\), kernel_size=\(2, 2\) "
                                           r"\(product 4\)\."):
        F.fold(cnnlab.zeros(2, 13, 20), (5, 6), 2)


def test_fold_wrong_block_count():
    with pytest.raises(RuntimeError, match=r"fold: input.shape\[2\] must equal the number of sliding blocks\. Got "
                                           r"input.shape=\(2, 12, 21\), output_size=\(5, 6\).*\(blocks: 4 \* 5 = "
                                           r"20\)\."):
        F.fold(cnnlab.zeros(2, 12, 21), (5, 6), 2)


def test_fold_wrong_rank():
    with pytest.raises(RuntimeError, match=r"fold: expects a 2-d \(unbatched\) or 3-d \(batched\) input.*Got "
                                           r"input.shape=\(2, 12, 20, 1\)"):
        F.fold(cnnlab.zeros(2, 12, 20, 1), (5, 6), 2)


def test_fold_output_too_small():
    with pytest.raises(RuntimeError, match=r"fold: output size would be 0 or less.*Got H=1 with kernel_size=2"):
        F.fold(cnnlab.zeros(2, 12, 20), (1, 6), 2)


def test_kernel_windows_view_and_non_contiguous_input():
    """windows() is a no-copy view of the (padded) input; im2col reads any strided input."""
    x = rand(2, 5, 3, 6, seed=22).transpose(0, 2, 1, 3)  # (2, 3, 5, 6), not contiguous
    view = K.windows(x, (2, 3), stride=(1, 2))
    assert np.shares_memory(view, x) and not view.flags.writeable
    ref = ref_unfold(np.ascontiguousarray(x), (2, 3), (1, 2), ((0, 0), (0, 0)), (1, 1))
    np.testing.assert_array_equal(view.reshape(2, 18, -1), ref)
    np.testing.assert_array_equal(K.im2col(x, (2, 3), stride=(1, 2)).reshape(2, 18, -1), ref)
    xl = np.ascontiguousarray(np.moveaxis(x, 1, -1))  # (N, H, W, C)
    np.testing.assert_array_equal(K.windows_channels_last(xl, (2, 3), (1, 2), 1),
                                  K.im2col_channels_last(xl, (2, 3), (1, 2), 1))
