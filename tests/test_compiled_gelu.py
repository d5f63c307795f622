"""The compiled float32 GELU (cnnlab/kernels/jit/activation.py) and layer norm (jit/norm.py) that ConvNeXt's fused
block uses where numba is installed: the GELU against PyTorch's float64 GELU within PyTorch's own float32 error, inf
and NaN as the NumPy float32 path; the block with them against torchvision's in float32, with inf and NaN, with the
switch off, and its compiled layer norm against its NumPy passes."""
import numpy as np
import pytest

import cnnlab
from cnnlab.kernels import compiled
from cnnlab.nn.functional import _activation_f32, fused_block
from test_convnext_fused import _pair
from tv import torch

needs_numba = pytest.mark.skipif(not compiled.available(), reason="numba is not installed (the fast extra: "
                                 "pip install numba) or CNNLAB_COMPILED=0, so the compiled kernels are off")


def _inputs():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.standard_normal(200_000).astype(np.float32) * 3,
                           np.linspace(-20, 20, 40_001, dtype=np.float32),        # the far tails
                           np.float32([1e-30, -1e-30, 1e-45, -5.5, -9, -13, 13, 88, -88])])


@needs_numba
def test_against_torch_float64_within_torch_float32_error():
    """Stated bound: the largest error against float64 is at most PyTorch's own float32 GELU's (measured 4.2e-7
    against 1.2e-6 on these inputs), and at most 4e-7 |x| + 1e-38 everywhere (measured 2.9e-7 |x|: A&S's erfc
    error near x = 0, where gelu(x) ~ x / 2)."""
    x = _inputs()
    got = np.empty_like(x)
    compiled.kernels("activation").gelu(x, got)
    want = torch.nn.functional.gelu(torch.from_numpy(x.astype(np.float64))).numpy()
    torch32 = torch.nn.functional.gelu(torch.from_numpy(x)).numpy().astype(np.float64)
    err = np.abs(got - want)
    assert err.max() <= np.abs(torch32 - want).max()
    assert (err <= 4e-7 * np.abs(x) + 1e-38).all()


@needs_numba
def test_inf_and_nan_as_the_numpy_float32_path():
    """0 and -0 keep their sign, inf -> inf, -inf -> NaN (-inf * 0, as PyTorch's formula), NaN -> NaN, and the
    far left tail is -0 where exp(-x^2 / 2) underflows; in place and into another array alike."""
    x = np.float32([0.0, -0.0, np.inf, -np.inf, np.nan, -88.0, 88.0, -1e30, 1e30])
    want = np.empty_like(x)
    with np.errstate(all="ignore"):                   # as the callers of the NumPy path run it
        _activation_f32.gelu_block(x, want, *_activation_f32.scratch(x.size))
    got, inplace = np.empty_like(x), x.copy()
    compiled.kernels("activation").gelu(x, got)
    compiled.kernels("activation").gelu(inplace, inplace)
    for result in (got, inplace):
        np.testing.assert_array_equal(result, want)
        np.testing.assert_array_equal(np.signbit(result), np.signbit(want))


@needs_numba
@pytest.mark.parametrize("shape", [(1, 96, 56, 56), (2, 384, 14, 14)], ids=["s1", "s3b2"])
def test_fused_block_float32_with_the_compiled_gelu(shape):
    """The block's float32 error against torchvision's float64 stays within 3x PyTorch's own float32 error (the
    bound of tests/test_convnext_fused.py), and the compiled and NumPy GELU give nearly the same block."""
    block, ref = _pair(shape[1], dtype="float32")
    x = (np.random.default_rng(2).standard_normal(shape) * 2).astype(np.float32)
    with cnnlab.no_grad():
        out = block(cnnlab.tensor(x)).numpy()
        with compiled.disabled():
            numpy_gelu = block(cnnlab.tensor(x)).numpy()
    with torch.no_grad():
        pt32 = ref(torch.tensor(x)).numpy()
        pt64 = ref.double()(torch.tensor(x).double()).numpy()
    scale = np.abs(pt64).max()
    assert np.abs(out - pt64).max() <= 3 * max(np.abs(pt32 - pt64).max(), 1e-7 * scale)
    np.testing.assert_allclose(out, numpy_gelu, rtol=0, atol=1e-5 * scale)


@needs_numba
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_nonfinite_float32_block_gives_the_layers_results():
    """inf and NaN through the fused block's compiled GELU land where the layer-by-layer path puts them."""
    block, _ = _pair(8, dtype="float32")
    x = np.random.default_rng(3).standard_normal((2, 8, 9, 9)).astype(np.float32)
    x[0, 3, 4, 4], x[1, :, 2, 2], x[1, 5, 0, 0] = np.inf, -np.inf, np.nan
    with cnnlab.no_grad():
        fused = block(cnnlab.tensor(x)).numpy()
    layers = block(cnnlab.tensor(x)).detach().numpy()   # parameters require grad: the layers run
    np.testing.assert_array_equal(np.isnan(fused), np.isnan(layers))
    np.testing.assert_array_equal(np.isinf(fused), np.isinf(layers))
    finite = np.isfinite(layers)
    np.testing.assert_allclose(fused[finite], layers[finite], rtol=1e-4, atol=1e-5)


def test_switched_off_the_block_runs_the_numpy_gelu(monkeypatch):
    """With the compiled kernels off (or numba absent) the fused block never asks for them and still matches."""
    block, ref = _pair(8, dtype="float32")
    x = np.random.default_rng(4).standard_normal((1, 8, 7, 7)).astype(np.float32)

    def refuse(name="depthwise"):
        raise AssertionError("compiled kernels asked for while switched off")
    monkeypatch.setattr(compiled, "kernels", refuse)
    with compiled.disabled(), cnnlab.no_grad():
        out = block(cnnlab.tensor(x)).numpy()
    with torch.no_grad():
        np.testing.assert_allclose(out, ref(torch.tensor(x)).numpy(), rtol=1e-4, atol=1e-5)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [True, False])
def test_compiled_layer_norm_of_the_block_matches_numpy(dtype, affine):
    """The fused block's layer norm compiled (kernels/jit/norm.py) against its NumPy passes, with and without the
    affine map, on tiles spanning two images (float64 to 1e-12, float32 to float32 rounding)."""
    rng = np.random.default_rng(5)
    C, hidden = 16, 64
    y, x = (rng.standard_normal((3, C, 5, 7)).astype(dtype) for _ in range(2))
    w1, w2 = rng.standard_normal((hidden, C)).astype(dtype), rng.standard_normal((C, hidden)).astype(dtype)
    lnw, lnb = (rng.standard_normal(C).astype(dtype) for _ in range(2)) if affine else (None, None)
    args = (y, x, lnw, lnb, 1e-6, w1, rng.standard_normal(hidden).astype(dtype), w2,
            rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype))
    got = fused_block.convnext_mlp(*args)
    with compiled.disabled():
        want = fused_block.convnext_mlp(*args)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * np.abs(want).max())
