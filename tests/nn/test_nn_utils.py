"""cnnlab.nn.utils against torch.nn.utils: the same gradients in give the same gradients out and the same returned
norm (every norm type, clipping and not, non-finite gradients, mixed dtypes, parameters listed twice), and the
same errors; parameters_to_vector / vector_to_parameters give the same vectors and parameters."""
import warnings

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn as nn
from cnnlab.errors import GradError

torch.set_num_threads(1)

SHAPES = [(3, 4), (5,), (2, 1, 3), (1,)]
INF = float("inf")


def grads(dtype=np.float64, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(scale * rng.standard_normal(s)).astype(dtype) for s in SHAPES]


def make(lib, arrays, with_grad=(0, 1, 2, 3)):
    """One parameter per array, all zeros; parameter i gets array i as its .grad if i is in with_grad."""
    params = []
    for i, g in enumerate(arrays):
        if lib is torch:
            p = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
            p.grad = torch.from_numpy(g.copy()) if i in with_grad else None
        else:
            p = nn.Parameter(cnnlab.zeros(*g.shape, dtype=cnnlab.tensor(g).dtype))
            p.grad = cnnlab.tensor(g.copy()) if i in with_grad else None
        params.append(p)
    return params


def _np(t):
    return None if t is None else (t.detach().numpy() if isinstance(t, torch.Tensor) else np.array(t._data))


def assert_same(cn_params, pt_params, rtol, atol=0.0):
    for i, (c, p) in enumerate(zip(cn_params, pt_params)):
        if p.grad is None:
            assert c.grad is None, f"param {i}"
            continue
        assert _np(c.grad).dtype == _np(p.grad).dtype, f"param {i}"
        np.testing.assert_allclose(_np(c.grad), _np(p.grad), rtol=rtol, atol=atol, err_msg=f"param {i}")


# ---- clip_grad_norm_ ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, 0.5, INF, -INF, 0, -1.0, "inf"])
@pytest.mark.parametrize("max_norm", [0.3, 1e4])  # clipping, and a bound above the norm (factor 1)
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-13), (np.float32, 2e-6)])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype, rtol):
    arrays = grads(dtype)
    cn, pt = make(cnnlab, arrays, (0, 2, 3)), make(torch, arrays, (0, 2, 3))  # param 1 has no grad
    cn_norm = nn.utils.clip_grad_norm_(cn, max_norm, norm_type=norm_type)
    pt_norm = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type=norm_type)
    assert isinstance(cn_norm, cnnlab.Tensor) and cn_norm.shape == () and not cn_norm.requires_grad
    assert _np(cn_norm).dtype == _np(pt_norm).dtype == dtype
    np.testing.assert_allclose(_np(cn_norm), _np(pt_norm), rtol=rtol)
    assert_same(cn, pt, rtol)
    if max_norm < 1 and norm_type not in (0, -1.0, -INF):
        assert not np.allclose(_np(cn[0].grad), arrays[0])  # the gradients did change


def test_clip_grad_norm_after_a_real_backward():
    """The same two-layer model in both libraries, gradients large enough that clipping happens."""
    x = np.random.default_rng(1).standard_normal((8, 5))
    torch.manual_seed(0)
    pt_model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)).double()
    cn_model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    cn_model.load_state_dict({k: v.detach().numpy() for k, v in pt_model.state_dict().items()})
    out = []
    for lib, model in ((cnnlab, cn_model), (torch, pt_model)):
        (model(lib.tensor(x)) ** 2).sum().mul(50.0).backward()
        norm = (nn if lib is cnnlab else torch.nn).utils.clip_grad_norm_(model.parameters(), max_norm=2.0)
        out.append((_np(norm), [_np(p.grad) for p in model.parameters()]))
    assert out[0][0] > 10.0  # the gradients really were clipped
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    for a, b in zip(out[0][1], out[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    total = np.sqrt(sum((g ** 2).sum() for g in out[0][1]))
    np.testing.assert_allclose(total, 2.0, rtol=1e-5)  # after clipping the norm is max_norm (less 1e-6)


def test_clip_grad_norm_single_tensor_duplicates_and_in_place():
    arrays = grads()
    cn, pt = make(cnnlab, arrays), make(torch, arrays)
    held = cn[0].grad
    n1 = nn.utils.clip_grad_norm_(cn[0], 0.5)  # one tensor alone
    n2 = torch.nn.utils.clip_grad_norm_(pt[0], 0.5)
    np.testing.assert_allclose(_np(n1), _np(n2), rtol=1e-13)
    assert held is cn[0].grad  # same grad tensor, changed in place
    # a parameter listed twice: counted twice in the norm and scaled twice, as in PyTorch
    cn, pt = make(cnnlab, arrays), make(torch, arrays)
    n1 = nn.utils.clip_grad_norm_([cn[0], cn[1], cn[0]], 0.5)
    n2 = torch.nn.utils.clip_grad_norm_([pt[0], pt[1], pt[0]], 0.5)
    np.testing.assert_allclose(_np(n1), _np(n2), rtol=1e-13)
    assert_same(cn, pt, 1e-13)


def test_clip_grad_norm_empty_and_generator_warning():
    for lib, F in ((cnnlab, nn), (torch, torch.nn)):
        norm = F.utils.clip_grad_norm_([], 1.0)
        assert _np(norm).dtype == np.float32 and float(norm) == 0.0
        with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
            F.utils.clip_grad_norm_((p for p in []), 1.0)
        p = make(lib, grads(), with_grad=())[0]  # parameters without gradients: norm 0, nothing happens
        assert float(F.utils.clip_grad_norm_([p], 1.0)) == 0.0 and p.grad is None


def test_clip_grad_norm_mixed_dtypes():
    a64, a32 = grads(np.float64)[0], grads(np.float32, seed=3)[1]
    cn, pt = make(cnnlab, [a64, a32]), make(torch, [a64, a32])
    n1 = nn.utils.clip_grad_norm_(cn, 0.5)
    n2 = torch.nn.utils.clip_grad_norm_(pt, 0.5)
    assert _np(n1).dtype == _np(n2).dtype == np.float64
    np.testing.assert_allclose(_np(n1), _np(n2), rtol=1e-7)
    assert_same(cn, pt, 1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("norm_type", [2.0, INF, 1.0])
def test_clip_grad_norm_non_finite(bad, norm_type):
    arrays = grads()
    arrays[1][2] = bad
    cn, pt = make(cnnlab, arrays), make(torch, arrays)
    with pytest.raises(RuntimeError, match="non-finite") as info:
        nn.utils.clip_grad_norm_(cn, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    assert isinstance(info.value, GradError)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(pt, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    assert_same(cn, pt, 0.0)  # the error left the gradients alone
    # without the flag both scale by the non-finite norm (zeros and nans)
    n1 = nn.utils.clip_grad_norm_(cn, 1.0, norm_type=norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(pt, 1.0, norm_type=norm_type)
    np.testing.assert_array_equal(_np(n1), _np(n2))
    assert_same(cn, pt, 0.0)


def test_clip_grad_norm_errors_like_torch():
    for lib, F in ((cnnlab, nn), (torch, torch.nn)):
        params = make(lib, grads())
        with pytest.raises(ValueError):
            F.utils.clip_grad_norm_(params, "a")
        with pytest.raises(ValueError):
            F.utils.clip_grad_norm_(params, 1.0, norm_type="fro")
        with pytest.raises(ValueError):
            F.utils.clip_grad_value_(params, "a")
    with pytest.raises(ValueError, match=r"clip_grad_norm_: max_norm must be a number. Got max_norm='a'"):
        nn.utils.clip_grad_norm_(make(cnnlab, grads()), "a")
    with pytest.raises(TypeError, match="parameters must be tensors. Got an element of type int at index 1"):
        nn.utils.clip_grad_norm_([make(cnnlab, grads())[0], 3], 1.0)
    empty = nn.Parameter(cnnlab.zeros(0))
    empty.grad = cnnlab.zeros(0)
    with pytest.raises(RuntimeError, match="empty tensor"):
        nn.utils.clip_grad_norm_([empty], 1.0, norm_type=INF)
    tp = torch.nn.Parameter(torch.zeros(0))
    tp.grad = torch.zeros(0)
    with pytest.raises(RuntimeError, match="empty tensor"):
        torch.nn.utils.clip_grad_norm_([tp], 1.0, norm_type=INF)


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    arrays = grads(scale=3.0)
    cn_t = [cnnlab.tensor(a) for a in arrays]
    pt_t = [torch.from_numpy(a.copy()) for a in arrays]
    for p in (2.0, 3.0, INF):
        np.testing.assert_allclose(_np(nn.utils.get_total_norm(cn_t, p)),
                                   _np(torch.nn.utils.get_total_norm(pt_t, p)), rtol=1e-13)
    cn, pt = make(cnnlab, arrays), make(torch, arrays)
    nn.utils.clip_grads_with_norm_(cn, 1.5, cnnlab.tensor(7.0, dtype=cnnlab.float64))
    torch.nn.utils.clip_grads_with_norm_(pt, 1.5, torch.tensor(7.0, dtype=torch.float64))
    assert_same(cn, pt, 1e-15)


# ---- clip_grad_value_ -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("clip_value", [0.5, 2.0, 0.0, -0.3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_value_matches_torch(clip_value, dtype):
    arrays = grads(dtype, scale=2.0)
    arrays[0][0, 0] = np.nan
    cn, pt = make(cnnlab, arrays, (0, 1, 3)), make(torch, arrays, (0, 1, 3))
    held = cn[1].grad
    assert nn.utils.clip_grad_value_(cn, clip_value) is None
    torch.nn.utils.clip_grad_value_(pt, clip_value)
    assert_same(cn, pt, 0.0)
    assert held is cn[1].grad
    if clip_value > 0:
        assert np.nanmax(np.abs(_np(cn[1].grad))) == pytest.approx(clip_value)  # something was clamped


# ---- parameters_to_vector / vector_to_parameters ----------------------------------------------------------------
def test_parameters_to_vector_matches_torch_and_is_differentiable():
    arrays = grads()
    cn = [nn.Parameter(cnnlab.tensor(a)) for a in arrays]
    pt = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in arrays]
    v1, v2 = nn.utils.parameters_to_vector(cn), torch.nn.utils.parameters_to_vector(pt)
    np.testing.assert_array_equal(_np(v1), _np(v2))
    assert v1.requires_grad and v1.shape == (sum(a.size for a in arrays),)
    g = np.random.default_rng(5).standard_normal(v1.shape)
    (v1 * cnnlab.tensor(g)).sum().backward()
    (v2 * torch.from_numpy(g)).sum().backward()
    assert_same(cn, pt, 0.0)
    # a single tensor is iterated along its first dim, as in PyTorch
    np.testing.assert_array_equal(_np(nn.utils.parameters_to_vector(cn[0])),
                                  _np(torch.nn.utils.parameters_to_vector(pt[0])))


def test_vector_to_parameters_matches_torch():
    arrays = grads()
    vec = np.random.default_rng(7).standard_normal(sum(a.size for a in arrays) + 3)  # extra values are ignored
    cn = [nn.Parameter(cnnlab.tensor(a.astype(np.float32))) for a in arrays]
    pt = [torch.nn.Parameter(torch.from_numpy(a.astype(np.float32))) for a in arrays]
    cv, tv = cnnlab.tensor(vec), torch.from_numpy(vec.copy())
    assert nn.utils.vector_to_parameters(cv, cn) is None
    torch.nn.utils.vector_to_parameters(tv, pt)
    for c, p in zip(cn, pt):
        assert c.shape == tuple(p.shape) and _np(c).dtype == _np(p).dtype == np.float64  # takes vec's dtype
        np.testing.assert_array_equal(_np(c), _np(p))
        assert c.requires_grad and isinstance(c, nn.Parameter)
    assert np.shares_memory(cn[1]._data, cv._data)  # the parameters are views of vec, as in PyTorch
    # round trip through a model
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    v = nn.utils.parameters_to_vector(model.parameters()).detach() * 2
    nn.utils.vector_to_parameters(v, model.parameters())
    np.testing.assert_array_equal(_np(nn.utils.parameters_to_vector(model.parameters())), _np(v))


def test_vector_conversion_errors_like_torch():
    cn, pt = make(cnnlab, grads()), make(torch, grads())
    with pytest.raises(TypeError, match="expected a cnnlab Tensor for vec. Got list"):
        nn.utils.vector_to_parameters([1.0, 2.0], cn)
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        torch.nn.utils.vector_to_parameters([1.0, 2.0], pt)
    with pytest.raises(RuntimeError, match=r"vec is too short .* parameter 1 of shape \(5,\) \(5 values\) at "
                                           r"offset 12, vec\[12:17\] holds 3 values"):
        nn.utils.vector_to_parameters(cnnlab.zeros(15), cn)
    with pytest.raises(RuntimeError, match="invalid for input of size"):
        torch.nn.utils.vector_to_parameters(torch.zeros(15), pt)
    with pytest.raises(ValueError, match="non-empty"):
        nn.utils.parameters_to_vector([])
    with pytest.raises(ValueError):
        torch.nn.utils.parameters_to_vector([])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.utils.clip_grad_value_((p for p in []), 1.0)  # no warning here (PyTorch warns only in the norm)
