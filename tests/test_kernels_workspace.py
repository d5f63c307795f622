"""Scratch buffers kept between convolution calls (cnnlab/kernels/workspace.py): every algorithm, run on a sequence
of geometries whose buffers have the same shapes but different zero layouts, with the undefined-content buffers
poisoned (all bits set: NaN) before each call, gives PyTorch's forward and gradients (float64 and float32)."""
import numpy as np
import pytest
import torch

from cnnlab.kernels import registry, workspace
from cnnlab.kernels.geometry import ConvGeometry
from oracle import rand

# (x shape, w shape, stride, padding pairs, dilation, groups): pairs with equal padded sizes and outputs
SEQUENCE = [
    ((2, 4, 8, 8), (5, 4, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((2, 4, 10, 10), (5, 4, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),     # same padded size, no padding
    ((2, 4, 8, 8), (5, 4, 3, 3), (1, 1), ((2, 0), (0, 2)), (1, 1), 1),       # same size, other interior
    ((2, 4, 9, 8), (5, 4, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),       # odd output: partial tiles
    ((2, 4, 8, 8), (5, 4, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),       # the first again
    ((2, 4, 8, 8), (6, 4, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 1),       # strided
]


def _poison():
    """Set every bit of this thread's buffers whose contents are undefined (no zero layout): NaN as floats."""
    for buf, layout in workspace._store().values():
        if layout is None:
            buf[...] = 255


def _torch(x, w, g, case):
    _, _, stride, padding, dilation, groups = case
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    wt = torch.from_numpy(w.astype(np.float64)).requires_grad_()
    flat = tuple(v for pair in reversed(padding) for v in pair)
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, flat), wt, stride=stride, dilation=dilation,
                                   groups=groups)
    y.backward(torch.from_numpy(g.astype(np.float64)))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize("name", ["gemm", "shift", "stack", "nhwc", "winograd", "winograd4", "toeplitz", "fft"])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_reused_buffers_across_geometries(name, dtype, tol):
    algorithm = registry.get(name)
    for repeat in range(2):
        for i, case in enumerate(SEQUENCE):
            x_shape, w_shape, stride, padding, dilation, groups = case
            if name.startswith("winograd") and stride != (1, 1) or name == "fft" and (stride != (1, 1) or groups > 1):
                continue
            x, w = rand(*x_shape, seed=i, dtype=dtype), rand(*w_shape, seed=10 + i, dtype=dtype)
            geom = ConvGeometry.of(*case)
            g = rand(*geom.y_shape, seed=20 + i, dtype=dtype)
            want = _torch(x, w, g, case)
            _poison()
            got = [algorithm.forward(x, w, geom)]
            _poison()
            got.append(algorithm.backward_input(g, w, geom))
            _poison()
            got.append(algorithm.backward_weight(x, g, geom))
            for a, b, what in zip(got, want, ("forward", "input grad", "weight grad")):
                assert a.dtype == dtype and a.shape == b.shape, (what, case)
                np.testing.assert_allclose(a, b, rtol=0, atol=tol * np.abs(b).max(), err_msg=f"{what} {case}")


def test_zeros_refills_on_a_new_layout_and_empty_grows():
    workspace.clear()
    z = workspace.zeros("test.z", (3, 4), np.float32, layout="a")
    z[1:2, 1:3] = 7.0
    assert workspace.zeros("test.z", (3, 4), np.float32, layout="a").sum() == 14.0  # same layout: kept as it is
    assert workspace.zeros("test.z", (3, 4), np.float32, layout="b").sum() == 0.0   # another layout: refilled
    workspace.empty("test.z", (3, 4), np.float32)                                     # an empty() use forgets it
    assert workspace.zeros("test.z", (3, 4), np.float32, layout="b").sum() == 0.0
    big = workspace.empty("test.e", (100, 100), np.float64)
    assert big.shape == (100, 100) and big.dtype == np.float64 and big.flags.c_contiguous
    assert workspace.empty("test.e", (0, 5), np.float32).shape == (0, 5)
    workspace.clear()
    assert workspace._store() == {}


@pytest.mark.parametrize("name", ["gemm", "shift", "stack", "nhwc", "winograd", "winograd4", "toeplitz", "fft"])
@pytest.mark.parametrize("kernel", [1, 3])
def test_results_are_not_reused_buffers(name, kernel):
    """A result stays as it was when the same algorithm runs again (no result is a view of a kept buffer)."""
    if name.startswith("winograd") and kernel == 1:
        pytest.skip("Winograd computes 3x3 kernels only")
    algorithm = registry.get(name)
    pads = ((kernel // 2,) * 2,) * 2
    x, w, g = rand(3, 4, 6, 6), rand(5, 4, kernel, kernel, seed=1), rand(3, 5, 6, 6, seed=2)
    geom = ConvGeometry.of(x.shape, w.shape, (1, 1), pads, (1, 1), 1)
    first = [algorithm.forward(x, w, geom), algorithm.backward_input(g, w, geom), algorithm.backward_weight(x, g, geom)]
    kept = [a.copy() for a in first]
    x2, w2, g2 = 2 * x + 1, 3 * w - 1, g - 2
    algorithm.forward(x2, w2, geom)
    algorithm.backward_input(g2, w2, geom)
    algorithm.backward_weight(x2, g2, geom)
    for a, b, what in zip(first, kept, ("forward", "input grad", "weight grad")):
        np.testing.assert_array_equal(a, b, err_msg=what)
