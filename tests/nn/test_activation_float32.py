"""Float32 activations: error against a float64 reference bounded by PyTorch's own float32 error, PyTorch's
results for inf/nan/tails, no RuntimeWarning, and the blocked kernels' edges (0-d, empty, strided, block ends)."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from oracle import check_float32

# name -> fn(lib.F-like module, x): the ops with a float32 fast path
OPS = {
    "gelu": lambda f, x: f.gelu(x),
    "gelu_tanh": lambda f, x: f.gelu(x, approximate="tanh"),
    "silu": lambda f, x: f.silu(x),
    "mish": lambda f, x: f.mish(x),
    "softplus": lambda f, x: f.softplus(x),
    "softplus_beta2": lambda f, x: f.softplus(x, beta=2.0, threshold=3.0),
    "softplus_beta0.5_thr50": lambda f, x: f.softplus(x, 0.5, 50.0),
    "elu": lambda f, x: f.elu(x),
    "elu_0.5": lambda f, x: f.elu(x, alpha=0.5),
    "selu": lambda f, x: f.selu(x),
    "celu_0.7": lambda f, x: f.celu(x, alpha=0.7),
    "hardswish": lambda f, x: f.hardswish(x),
    "hardsigmoid": lambda f, x: f.hardsigmoid(x),
}
TF = torch.nn.functional


def _points(n=1_000_000, seed=0):
    """n float32 points over a wide range: uniform on [-100, 100], normal, log-spaced magnitudes 1e-30..1e30
    of both signs (tails, tiny and huge values)."""
    rng = np.random.default_rng(seed)
    parts = [rng.uniform(-100, 100, n // 4), rng.standard_normal(n // 4) * 4,
             rng.uniform(-12, 12, n // 4)]
    mag = 10.0 ** rng.uniform(-30, 30, n - 3 * (n // 4))
    parts.append(np.where(rng.random(mag.size) < 0.5, -mag, mag))
    return np.concatenate(parts).astype(np.float32)


def _errors(y, ref):
    """(max |y - ref| / max(|ref|, 1), max relative error where |ref| is a normal float32): the first bounds
    absolute error near 0 and relative error elsewhere; the second is strict everywhere a float32 can say it."""
    y, ref = y.astype(np.float64), ref.astype(np.float64)
    diff = np.abs(y - ref)
    mixed = np.max(diff / np.maximum(np.abs(ref), 1.0))
    normal = np.abs(ref) >= np.finfo(np.float32).tiny
    return mixed, np.max(diff[normal] / np.abs(ref[normal]))


def _torch_run(name, a, g):
    t = torch.tensor(a, requires_grad=True)
    out = OPS[name](TF, t)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), t.grad.numpy()


def _cn_run(name, a, g):
    t = cnnlab.tensor(a, requires_grad=True)
    out = OPS[name](F, t)
    out.backward(cnnlab.tensor(g))
    return out.detach().numpy(), t.grad.numpy()


# hardsigmoid is left out: PyTorch's float64 backward multiplies by the float constant 1.0f/6 (off by 3e-8
# relative), so it is no reference at float32 precision; its float32 path is plain float32 arithmetic
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(set(OPS) - {"hardsigmoid"}))
def test_float32_error_within_torch_float32_error(name):
    x = _points()
    g = np.random.default_rng(1).standard_normal(x.size).astype(np.float32)
    with np.errstate(all="ignore"):  # the float64 references are torch's and may overflow where x is huge
        ref_out, ref_grad = _torch_run(name, x.astype(np.float64), g.astype(np.float64))
        pt_out, pt_grad = _torch_run(name, x, g)
    out, grad = _cn_run(name, x, g)
    assert out.dtype == np.float32 and grad.dtype == np.float32
    finite = np.isfinite(ref_out) & np.isfinite(ref_grad)  # float64 finite where float32 overflows: x ~ 1e30
    finite &= np.isfinite(pt_out) & np.isfinite(pt_grad)
    for what, ours, theirs, ref in (("forward", out, pt_out, ref_out), ("backward", grad, pt_grad, ref_grad)):
        ours_err, torch_err = _errors(ours[finite], ref[finite]), _errors(theirs[finite], ref[finite])
        assert ours_err[0] <= torch_err[0], (what, "mixed", ours_err, torch_err)
        assert ours_err[1] <= torch_err[1], (what, "relative", ours_err, torch_err)


SPECIALS = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, -1e-45, 1e-38, -1e-38, 3.0, -3.0, 20.0, 20.5,
                     88.0, 89.0, -88.0, -104.0, -105.0, 1e19, -1e19], dtype=np.float32)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(OPS))
def test_float32_specials_match_torch(name):
    """inf, nan, signed zeros, subnormals, overflow edges: the same non-finite results and signs as PyTorch's
    float32, finite values close (their accuracy is the test above). One deliberate difference: PyTorch's
    float32 exact GELU gives NaN at +inf, its float64 (and ours, both dtypes) inf."""
    g = np.linspace(-1.5, 2.0, SPECIALS.size).astype(np.float32)
    pt_out, pt_grad = _torch_run(name, SPECIALS, g)
    if name == "gelu":
        assert np.isnan(pt_out[0])   # if PyTorch changes this, drop the exception
        pt_out[0] = _torch_run(name, SPECIALS.astype(np.float64), g.astype(np.float64))[0][0]
    out, grad = _cn_run(name, SPECIALS, g)
    np.testing.assert_array_equal(np.signbit(out[out == 0]), np.signbit(pt_out[out == 0]))  # signed zeros
    for ours, theirs in ((out, pt_out), (grad, pt_grad)):
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        np.testing.assert_array_equal(ours[np.isinf(theirs)], theirs[np.isinf(theirs)])
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-37, equal_nan=True)  # PyTorch: 1e-4 off at -3


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("make", [
    lambda rng: np.array(rng.standard_normal() * 3, np.float32),                      # 0-d
    lambda rng: np.zeros((0, 3), np.float32),                                          # empty
    lambda rng: rng.standard_normal((5, 70001)).astype(np.float32).T * 3,              # strided, several blocks
    lambda rng: rng.standard_normal((32768 + 1,)).astype(np.float32) * 5,              # one past a block
], ids=["0d", "empty", "strided", "block_edge"])
def test_float32_layouts_match_torch(name, make):
    # mish's float32 second derivative: torch's is 5e-6 from the float64 one, cnnlab's 4e-7 (test_double_activation)
    check_float32(lambda lib, x: OPS[name](lib.F, x), make(np.random.default_rng(3)), rtol=1e-5, atol=3e-6,
                  second_order=False if name == "mish" else None)
