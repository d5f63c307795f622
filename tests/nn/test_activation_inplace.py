"""hardtanh/relu6 with inplace=True write into their input where no gradient is recorded (as PyTorch's hardtanh_),
and keep the out-of-place result while a graph is recorded."""
import numpy as np
import torch

import cnnlab
import cnnlab.nn.functional as F

from tests.oracle import rand


def test_relu6_inplace_writes_into_the_input_and_matches_torch():
    x = rand(2, 3, 4, seed=1, low=-8, high=8)
    x[0, 0, 0] = np.nan
    mine, ref = cnnlab.from_numpy(x.copy()), torch.from_numpy(x.copy())
    with cnnlab.no_grad():
        out = F.relu6(mine, inplace=True)
    assert out is mine
    np.testing.assert_array_equal(mine.numpy(), torch.nn.functional.relu6(ref, inplace=True).numpy())
    y = cnnlab.from_numpy(x.astype(np.float32))
    assert cnnlab.nn.Hardtanh(-2.0, 2.5, inplace=True)(y) is y
    assert (np.nanmax(y.numpy()), np.nanmin(y.numpy())) == (2.5, -2.0) and np.isnan(y.numpy()[0, 0, 0])


def test_hardtanh_inplace_while_recording_returns_a_new_tensor_with_the_gradient():
    x = cnnlab.from_numpy(rand(5, seed=2, low=-3, high=3)).requires_grad_()
    y = F.hardtanh(x, -1.0, 1.0, inplace=True)
    assert y is not x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), ((x.detach().numpy() > -1) & (x.detach().numpy() < 1)) * 1.0)
