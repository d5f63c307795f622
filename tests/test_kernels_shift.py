"""The shift lowering's blocks of whole images at stride 1 (kernels/shift.py: padded planes laid end to end, one
matmul per kernel offset over all of them): forward and both gradients against PyTorch in float64 and float32,
with several images per block, a partial last block, groups, one and two threads, and an empty batch."""
import numpy as np
import pytest
import torch

from cnnlab.kernels import parallel, shift
from cnnlab.kernels.geometry import ConvGeometry
from oracle import rand

CASES = [  # (x shape, w shape, padding pairs, dilation, groups)
    ((7, 4, 6, 5), (5, 4, 3, 3), ((1, 1), (1, 1)), (1, 1), 1),
    ((5, 6, 7, 7), (4, 3, 3, 2), ((0, 2), (1, 0)), (2, 1), 2),     # groups, dilation, asymmetric padding
    ((6, 3, 5, 6), (2, 3, 1, 1), ((0, 0), (0, 0)), (1, 1), 1),     # 1x1
    ((5, 2, 9), (3, 2, 3), ((1, 1),), (1,), 1),                     # 1-d
]


def _torch(x, w, g, padding, dilation, groups):
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    wt = torch.from_numpy(w.astype(np.float64)).requires_grad_()
    flat = tuple(v for pair in reversed(padding) for v in pair)
    conv = torch.nn.functional.conv2d if x.ndim == 4 else torch.nn.functional.conv1d
    y = conv(torch.nn.functional.pad(xt, flat), wt, dilation=dilation, groups=groups)
    y.backward(torch.from_numpy(g.astype(np.float64)))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_whole_image_blocks_against_torch(monkeypatch, case, threads, dtype, tol):
    x_shape, w_shape, padding, dilation, groups = case
    monkeypatch.setattr(shift, "IMAGE_BYTES", 3 * w_shape[0] * 12 * 10 * np.dtype(dtype).itemsize)  # 2-3 images
    parallel.set_num_threads(threads)
    try:
        stride = (1,) * (len(x_shape) - 2)
        x, w = rand(*x_shape, dtype=dtype), rand(*w_shape, seed=1, dtype=dtype)
        geom = ConvGeometry.of(x_shape, w_shape, stride, padding, dilation, groups)
        geo = shift._Phases(geom)
        assert shift._images_per_block(geo, w_shape[0], x_shape[0], x.itemsize, x_shape[1] // groups) > 1
        want = _torch(x, w, rand(*(x_shape[:1] + w_shape[:1] + geo.out_size), seed=2), padding, dilation, groups)
        g = rand(*want[0].shape, seed=2, dtype=dtype)
        got = (shift.forward(x, w, geom), shift.backward_input(g, w, geom), shift.backward_weight(x, g, geom))
    finally:
        parallel.set_num_threads(None)
    for a, b, what in zip(got, want, ("forward", "input grad", "weight grad")):
        assert a.dtype == dtype and a.shape == b.shape, what
        np.testing.assert_allclose(a, b, rtol=0, atol=tol * np.abs(b).max(), err_msg=what)


def test_whole_image_blocks_empty_batch():
    x, w, g = np.zeros((0, 4, 6, 5), np.float32), rand(5, 4, 3, 3, dtype=np.float32), np.zeros((0, 5, 6, 5),
                                                                                                 np.float32)
    geom = ConvGeometry.of(x.shape, w.shape, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    assert shift.forward(x, w, geom).shape == (0, 5, 6, 5)
    assert shift.backward_input(g, w, geom).shape == (0, 4, 6, 5)
    dw = shift.backward_weight(x, g, geom)
    assert dw.shape == w.shape and dw.dtype == np.float32 and not dw.any()
