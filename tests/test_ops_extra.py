"""one_hot and pixel_shuffle/pixel_unshuffle (functional and modules) against PyTorch."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
from cnnlab.nn.functional.encoding import one_hot
from cnnlab.nn.functional.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from oracle import check, check_float32, gradcheck, rand

torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.mark.parametrize("values,num_classes", [([0, 2, 1], -1), ([0, 2, 1], 5), ([[1, 0], [3, 3]], -1), (3, 4),
                                                ([], 3), ([[4]], 5)])
def test_one_hot_matches_torch(values, num_classes):
    got = one_hot(cnnlab.tensor(values, dtype=cnnlab.int64), num_classes=num_classes)
    want = TF.one_hot(torch.tensor(values, dtype=torch.int64), num_classes=num_classes)
    assert got.dtype == cnnlab.int64 and tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("values,num_classes,dtype,message", [
    ([1.0, 2.0], -1, "float32", r"one_hot: the input must be an int64 \(long\) tensor of class indices. "
                                r"Got dtype=cnnlab.float32"),
    ([-1, 2], -1, "int64", r"one_hot: class values must be non-negative. Got min value -1"),
    ([1, 5], 3, "int64", r"one_hot: class values must be smaller than num_classes. Got max value 5, num_classes=3"),
    ([], -1, "int64", r"one_hot: can not infer the number of classes from an empty tensor"),
])
def test_one_hot_errors_like_torch(values, num_classes, dtype, message):
    with pytest.raises(RuntimeError):
        TF.one_hot(torch.tensor(values, dtype=getattr(torch, dtype)), num_classes)
    with pytest.raises(RuntimeError, match=message):
        one_hot(cnnlab.tensor(values, dtype=getattr(cnnlab, dtype)), num_classes)


def test_one_hot_type_error_for_other_int_dtypes():
    with pytest.raises(TypeError, match="Got dtype=cnnlab.int32"):
        one_hot(cnnlab.tensor([1, 2], dtype=cnnlab.int32))


@pytest.mark.parametrize("shape,r", [((1, 4, 2, 3), 2), ((2, 18, 3, 2), 3), ((8, 2, 2), 2), ((2, 3, 4, 1, 1), 2),
                                     ((1, 5, 2, 2), 1)])
def test_pixel_shuffle_matches_torch(shape, r):
    check(lambda lib, x: pixel_shuffle(x, r), rand(*shape, seed=1), torch_fn=lambda lib, x: TF.pixel_shuffle(x, r))
    assert pixel_shuffle(cnnlab.zeros(*shape), r).shape[-3:] == (shape[-3] // (r * r), shape[-2] * r, shape[-1] * r)


@pytest.mark.parametrize("shape,r", [((1, 1, 4, 6), 2), ((2, 2, 6, 3), 3), ((3, 4, 4), 2), ((2, 1, 3, 2, 2), 2)])
def test_pixel_unshuffle_matches_torch(shape, r):
    check(lambda lib, x: pixel_unshuffle(x, r), rand(*shape, seed=2),
          torch_fn=lambda lib, x: TF.pixel_unshuffle(x, r))


def test_pixel_shuffle_round_trip_float32_and_gradcheck():
    check_float32(lambda lib, x: pixel_shuffle(x, 2), rand(2, 8, 3, 3, seed=3),
                  torch_fn=lambda lib, x: TF.pixel_shuffle(x, 2))
    x = cnnlab.randn(2, 12, 3, 4)
    assert cnnlab.equal(pixel_unshuffle(pixel_shuffle(x, 2), 2), x)
    gradcheck(lambda x: pixel_shuffle(x, 2), rand(1, 4, 2, 2, seed=4))
    assert "PixelShuffleBackward0" in repr(pixel_shuffle(cnnlab.zeros(1, 4, 1, 1, requires_grad=True), 2))


def test_pixel_shuffle_modules_match_torch():
    for cn, pt in ((nn.PixelShuffle(3), torch.nn.PixelShuffle(3)), (nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2))):
        assert repr(cn) == repr(pt)
        assert not list(cn.parameters())
    x = rand(2, 9, 4, 4, seed=5)
    np.testing.assert_array_equal(nn.PixelShuffle(3)(cnnlab.tensor(x)).numpy(),
                                  torch.nn.PixelShuffle(3)(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(cnnlab.tensor(x)).numpy(),
                                  torch.nn.PixelUnshuffle(2)(torch.tensor(x)).numpy())


@pytest.mark.parametrize("fn,shape,message", [
    (lambda x: pixel_shuffle(x, 2), (1, 3, 2, 2), r"pixel_shuffle: the channel dim must be divisible by "
                                                  r"upscale_factor\*\*2. Got input.shape=\(1, 3, 2, 2\) \(C=3\)"),
    (lambda x: pixel_unshuffle(x, 2), (1, 3, 3, 2), r"pixel_unshuffle: the height and width must be divisible by "
                                                    r"downscale_factor. Got input.shape=\(1, 3, 3, 2\) \(H=3, W=2\)"),
    (lambda x: pixel_shuffle(x, 2), (4, 2), r"pixel_shuffle: the input must have at least 3 dims"),
    (lambda x: pixel_shuffle(x, 0), (1, 4, 2, 2), r"pixel_shuffle: upscale_factor must be a positive int"),
])
def test_pixel_shuffle_errors(fn, shape, message):
    with pytest.raises(ValueError, match=message):
        fn(cnnlab.zeros(*shape))
    with pytest.raises(RuntimeError):
        fn(cnnlab.zeros(*shape))


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "matmul"])
def test_out_argument_matches_torch(op):
    a, b = rand(3, 3, seed=6), rand(3, 3, seed=7)
    res = []
    for lib in (cnnlab, torch):
        out = lib.zeros(3, 3, dtype=lib.float64)
        keep = out
        got = getattr(lib, op)(lib.tensor(a), lib.tensor(b), out=out)
        assert got is keep  # written in place and returned
        res.append(out.numpy().copy())
        small = lib.zeros(1, dtype=lib.float64)
        getattr(lib, op)(lib.tensor(a), lib.tensor(b), out=small)  # resized to the result's shape
        assert tuple(small.shape) == (3, 3)
        np.testing.assert_allclose(small.numpy(), res[-1])
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


def test_out_argument_refusals():
    for lib in (cnnlab, torch):
        with pytest.raises(RuntimeError):
            lib.mul(lib.ones(2, requires_grad=True), 2.0, out=lib.zeros(2))
        with pytest.raises(RuntimeError):
            lib.add(lib.ones(2), 0.5, out=lib.zeros(2, dtype=lib.int64))
    with pytest.raises(RuntimeError, match="mul: functions with out=... arguments don't support automatic "
                                           "differentiation"):
        cnnlab.mul(cnnlab.ones(2, requires_grad=True), 2.0, out=cnnlab.zeros(2))
    with pytest.raises(TypeError, match=r"add: the result dtype cnnlab.float32 can't be cast to the dtype of out. "
                                        r"Got out.dtype=cnnlab.int64"):
        cnnlab.add(cnnlab.ones(2), 0.5, out=cnnlab.zeros(2, dtype=cnnlab.int64))
    with cnnlab.no_grad():
        assert cnnlab.mul(cnnlab.ones(2, requires_grad=True), 2.0, out=cnnlab.zeros(2)).tolist() == [2.0, 2.0]


@pytest.mark.parametrize("sizes", [(6,), (2, 3), (3, 1), (2, 5), (0,), (4, 4)])
def test_resize_matches_torch_on_the_kept_elements(sizes):
    x = rand(2, 3, seed=8)
    c, p = cnnlab.tensor(x), torch.tensor(x)
    assert c.resize_(*sizes) is c and p.resize_(*sizes) is p
    assert tuple(c.shape) == tuple(p.shape) == sizes
    n = min(6, int(np.prod(sizes)))
    np.testing.assert_array_equal(c.numpy().reshape(-1)[:n], p.numpy().reshape(-1)[:n])
    assert not c.numpy().reshape(-1)[n:].any()  # cnnlab fills the new elements with zeros


def test_resize_refuses_tensors_that_require_grad():
    for lib in (cnnlab, torch):
        with pytest.raises(RuntimeError):
            lib.ones(2, requires_grad=True).resize_(4)
    assert cnnlab.ones(2, 3).resize_as_(cnnlab.zeros(3, 2)).shape == (3, 2)


def test_grad_fn_next_functions_match_torch():
    res = []
    for lib in (cnnlab, torch):
        x = lib.ones(2, requires_grad=True)
        w = lib.ones(2)
        loss = ((x * 2).exp() * w).sum()
        chain = []
        node = loss.grad_fn
        while node is not None and node.next_functions:
            chain.append(node.name())
            nexts = [n for n, _ in node.next_functions if n is not None]
            node = nexts[0] if nexts else None
        chain.append(node.name())
        assert node.variable is x
        res.append(chain)
    assert res[0] == res[1]
