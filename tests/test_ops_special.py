"""cnnlab.ops.special: erf and erfc as tensor ops, against torch.erf / torch.erfc (values, gradients, dtypes)."""
import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.ops.special import erf, erf_array, erfc, erfc_array
from oracle import check, check_float32, gradcheck, rand


def _ops(name):
    return lambda lib, x: (erf if name == "erf" else erfc)(x) if lib.name == "cnnlab" else getattr(lib.torch, name)(x)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_matches_torch_float64_and_float32(name):
    x = np.concatenate([rand(40, seed=1, low=-4, high=4), [0.0, -0.5, 1.0, 3.5, 6.0]])
    check(_ops(name), x, rtol=1e-10, atol=1e-14)
    check_float32(_ops(name), x)
    check(_ops(name), rand(2, 3, 4, seed=2, low=-2, high=2), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_finite_differences(name):
    gradcheck(erf if name == "erf" else erfc, rand(7, seed=3, low=-2, high=2))


def test_integer_input_gives_default_float_and_same_values_as_arrays():
    out = erf(cnnlab.tensor([0, 1, -2]))
    assert out.dtype == cnnlab.float32
    np.testing.assert_allclose(out.numpy(), torch.erf(torch.tensor([0, 1, -2])).numpy(), rtol=1e-6)
    x = rand(10, seed=4, low=-3, high=3)
    np.testing.assert_array_equal(erfc(cnnlab.tensor(x)).numpy(), erfc_array(x))
    np.testing.assert_array_equal(erf(cnnlab.tensor(x)).numpy(), erf_array(x))


def test_activation_module_still_exports_the_array_functions():
    from cnnlab.nn.functional import activation
    assert activation.erf is erf_array and activation.erfc is erfc_array
    assert cnnlab.nn.functional.softmax is activation.softmax
