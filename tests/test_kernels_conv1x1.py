"""The 'matmul' algorithm (cnnlab/kernels/conv1x1.py) beyond the forced-algorithm suites of test_kernels_conv.py:
where the selector gives it 1x1 convolutions, batch 1 split over the kernel threads where BLAS is held at one
thread, inputs that are views, and the transposed convolution whose input gradient asks for a smaller output."""
import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.kernels import conv1x1, parallel, registry, select
from cnnlab.kernels.geometry import ConvGeometry
from oracle import check, check_float32, rand


def _geom(x_shape, w_shape, stride=(1, 1), groups=1):
    return ConvGeometry.of(x_shape, w_shape, stride, ((0, 0), (0, 0)), (1, 1), groups)


def _all(name, x, w, g, geom):
    a = registry.get(name)
    return a.forward(x, w, geom), a.backward_input(g, w, geom), a.backward_weight(x, g, geom)


@pytest.mark.parametrize("x_shape,w_shape,stride", [
    ((1, 64, 56, 56), (256, 64, 1, 1), (1, 1)),       # ResNet-50's first 1x1, batch 1
    ((1, 1024, 14, 14), (2048, 1024, 1, 1), (2, 2)),  # its last downsample
    ((8, 24, 56, 56), (144, 24, 1, 1), (1, 1)),       # MobileNetV2's expansion, batch 8
    ((8, 512, 7, 7), (2048, 512, 1, 1), (1, 1)),      # a small map with too few rows for 'nhwc'
])
def test_unpadded_1x1_convolutions_are_matmuls(monkeypatch, x_shape, w_shape, stride):
    monkeypatch.setattr(parallel, "_threads", 2)
    geom = _geom(x_shape, w_shape, stride)
    for op in ("forward", "backward_input", "backward_weight"):
        assert select.algorithm(op, geom) == "matmul"


@pytest.mark.parametrize("x_shape,w_shape,expected", [
    ((32, 64, 32, 32), (128, 64, 1, 1), "nhwc"),       # CIFAR ResNet-18's downsample
    ((32, 64, 56, 56), (128, 64, 1, 1), "stack"),      # the bench's 1x1 s2 case
    ((8, 256, 56, 56), (512, 256, 1, 1), "stack"),     # ResNet-50's first downsample, batch 8
    ((8, 512, 28, 28), (1024, 512, 1, 1), "nhwc"),     # its second
])
def test_strided_1x1_on_a_batch_forward_is_a_matmul_its_gradients_stay_strided(monkeypatch, x_shape, w_shape,
                                                                                expected):
    """The forward copies each image's samples on its own thread, then one matmul; for the gradients, from one
    image per thread 'stack' and 'nhwc' read the strided samples faster."""
    monkeypatch.setattr(parallel, "_threads", 2)
    geom = _geom(x_shape, w_shape, (2, 2))
    assert select.algorithm("forward", geom) == "matmul"
    assert {select.algorithm(op, geom) for op in ("backward_input", "backward_weight")} == {expected}


@pytest.mark.parametrize("batch,threads,per_image", [(4, 2, True), (3, 3, True), (3, 2, False), (1, 2, False)])
def test_strided_forward_copies_each_images_samples_on_its_thread(monkeypatch, batch, threads, per_image):
    """A batch of whole images per thread: each image's strided samples are copied by the thread that multiplies
    them (no copy of the whole batch's samples first, which ran on one core); images split in pieces (3 on 2
    threads) or a single image keep the one copy. Either way the result is torch's (float64)."""
    monkeypatch.setattr(parallel, "_threads", threads)
    flattened = []
    real = conv1x1._flat
    monkeypatch.setattr(conv1x1, "_flat", lambda a: flattened.append(a.shape) or real(a))
    x, w = rand(batch, 6, 9, 7), rand(8, 6, 1, 1, seed=1)
    geom = _geom(x.shape, w.shape, (2, 3))
    got = conv1x1.forward(x, w, geom)
    assert (flattened == []) == per_image
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=(2, 3)).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())
    with select.forced("matmul"):
        check(lambda lib, x, w: lib.F.conv2d(x, w, stride=(2, 3)), x, w)


def test_a_padded_1x1_or_a_larger_kernel_is_not_supported():
    assert not conv1x1.supports(ConvGeometry.of((1, 4, 5, 5), (4, 4, 1, 1), (1, 1), ((1, 1), (0, 0)), (1, 1), 1))
    assert not conv1x1.supports(_geom((1, 4, 5, 5), (4, 4, 3, 1)))


@pytest.mark.parametrize("x_shape,w_shape,stride,groups", [
    ((1, 6, 9, 7), (8, 6, 1, 1), (1, 1), 1),
    ((1, 6, 9, 7), (8, 3, 1, 1), (2, 3), 2),
])
def test_one_image_split_over_the_kernel_threads_when_blas_is_held(monkeypatch, x_shape, w_shape, stride, groups):
    """Inside parallel.own_threads (BLAS at one thread: ConvNeXt's forward) one image's matmuls are split over the
    kernel threads (parallel.matmul): the same results as the GEMM lowering's."""
    geom = _geom(x_shape, w_shape, stride, groups)
    x, w, g = rand(*x_shape), rand(*w_shape, seed=1), rand(*geom.y_shape, seed=2)
    want = _all("gemm", x, w, g, geom)
    monkeypatch.setattr(parallel, "_threads", 3)
    monkeypatch.setattr(parallel, "MATMUL_SPLIT_FLOPS", 1)
    calls = []
    real = parallel.run
    monkeypatch.setattr(parallel, "run", lambda fn, items, threads=None: calls.append(len(list(items))) or
                        real(fn, items, threads))
    with parallel.own_threads():
        got = _all("matmul", x, w, g, geom)
    assert max(calls) > 1 or not parallel._find_blas()              # split (where BLAS can be held at all)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())


def test_views_as_inputs_match_torch():
    """A channel slice and a transposed array reach the kernel as views with odd strides."""
    big = rand(2, 10, 7, 6)
    x = rand(2, 6, 5, 7)
    with select.forced("matmul"):
        check(lambda lib, x, w: lib.F.conv2d(x[:, 2:7], w), big, rand(4, 5, 1, 1, seed=1))
        check(lambda lib, x, w: lib.F.conv2d(x.transpose(2, 3), w, stride=2), x, rand(3, 6, 1, 1, seed=1))


@pytest.mark.parametrize("stride,output_padding", [(2, 1), (3, 2), (1, 0)])
def test_transposed_1x1_matches_torch(stride, output_padding):
    """conv_transpose2d with a 1x1 kernel: its forward is the input gradient of the strided 1x1 convolution (the
    output_padding rows get zeros), its weight gradient the forward's, both by 'matmul' (chosen by itself for one
    image)."""
    x, w, b = rand(2, 20, 4, 5), rand(20, 18, 1, 1, seed=1), rand(18, seed=2)
    geom = _geom((1, 18, 4 * stride, 5 * stride), (20, 18, 1, 1), (stride, stride))   # the conv it is the adjoint of
    assert select.algorithm("backward_input", geom) == "matmul"

    def fn(lib, x, w, b):
        return lib.F.conv_transpose2d(x, w, b, stride=stride, output_padding=output_padding)
    with select.forced("matmul"):
        check(fn, x, w, b)
        check_float32(fn, x, w, b)


def test_float32_error_of_a_resnet_1x1():
    """Kaiming-scaled weights on unit-variance activations, 256 -> 64 channels: float32 within 2e-6 of float64,
    relative to the largest value (one dot product of 256 terms per output, like PyTorch's)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 256, 14, 14))
    w = rng.standard_normal((64, 256, 1, 1)) * np.sqrt(2.0 / 256)
    g = rng.standard_normal((2, 64, 14, 14))
    geom = _geom(x.shape, w.shape)
    want = _all("gemm", x, w, g, geom)
    got = _all("matmul", x.astype(np.float32), w.astype(np.float32), g.astype(np.float32), geom)
    for a, b in zip(got, want):
        assert a.dtype == np.float32
        assert np.abs(a - b).max() <= 2e-6 * np.abs(b).max()
    xt = torch.from_numpy(x.astype(np.float32))
    wt = torch.from_numpy(w.astype(np.float32))
    y = cnnlab.nn.functional.conv2d(cnnlab.tensor(x.astype(np.float32)), cnnlab.tensor(w.astype(np.float32)))
    np.testing.assert_allclose(y.numpy(), torch.nn.functional.conv2d(xt, wt).numpy(), rtol=0,
                               atol=2e-6 * np.abs(want[0]).max())
