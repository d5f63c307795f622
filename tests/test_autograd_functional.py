"""cnnlab.autograd.functional against torch.autograd.functional: the same float64 inputs into both, the same
results (values, nesting, tuple-or-single), the same errors, with and without create_graph."""
import numpy as np
import pytest

import cnnlab
from cnnlab.autograd import functional as CAF

torch = pytest.importorskip("torch")
from torch.autograd import functional as TAF  # noqa: E402

from oracle import rand  # noqa: E402

# PyTorch's forward-mode Jacobian (vmap) scripts a helper on first use and warns about torch.jit itself
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def _tensors(lib, arrays):
    return tuple(lib.tensor(a) for a in arrays)


def _np(t):
    return t.detach().numpy()


def _same(got, want, where="result", grad_state=True):
    """Nested tuples of tensors: the same nesting, shapes, dtypes, values and (optionally) requires_grad."""
    if isinstance(want, (tuple, list)):  # (PyTorch's forward-mode jacobian gives lists)
        assert type(got) is type(want) and len(got) == len(want), f"{where}: {type(got)} != torch's {type(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{where}[{i}]", grad_state)
        return
    assert isinstance(got, cnnlab.Tensor), f"{where}: a {type(got)} where torch has a Tensor"
    assert tuple(got.shape) == tuple(want.shape), f"{where}: shape {tuple(got.shape)} != torch {tuple(want.shape)}"
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], where
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-10, atol=1e-12, err_msg=where)
    if grad_state:
        assert got.requires_grad == want.requires_grad, f"{where}: requires_grad {got.requires_grad} != torch"


# Functions written once against the shared names; lib is cnnlab or torch (F is its nn.functional).
def _conv_net(lib, x, w):
    F = lib.nn.functional
    h = F.conv2d(x, w, padding=1).tanh()
    h = F.avg_pool2d(h, 2)
    return (h * h).sum(dim=(1, 2, 3))


FUNCS = {  # name: (fn(lib, *tensors), input arrays)
    "polynomial": (lambda lib, x, y: (x * x * y - y / x, (x * y).sum(dim=0)), [rand(2, 3, seed=0, low=0.5, high=2),
                                                                               rand(2, 3, seed=10)]),
    "single_to_single": (lambda lib, x: (x.exp() * x).sum(dim=1), [rand(3, 4, seed=1)]),
    "single_to_tuple": (lambda lib, x: (x.sin() * x, (x ** 3).sum()), [rand(2, 3, seed=2)]),
    "tuple_to_single": (lambda lib, x, y: (x * y.tanh()).sum(dim=0), [rand(3, 2, seed=3), rand(3, 2, seed=4)]),
    "tuple_to_tuple": (lambda lib, x, y: (x @ y, (x.sigmoid() * 2).sum()), [rand(2, 3, seed=5), rand(3, 2, seed=6)]),
    "zero_d": (lambda lib, x: x * x.exp(), [rand(seed=7)]),
    "conv_net": (_conv_net, [rand(2, 2, 4, 4, seed=8), rand(3, 2, 3, 3, seed=9)]),
}

SCALAR_FUNCS = {  # for hessian, hvp, vhp
    "polynomial": (lambda lib, x, y: (x * x * y * y - x / y).sum(), [rand(2, 2, seed=17), rand(2, 2, seed=18, low=1)]),
    "single": (lambda lib, x: (x.exp() * x.sin()).sum(), [rand(2, 3, seed=11)]),
    "tuple": (lambda lib, x, y: (x * x * y.tanh()).sum() + (x ** 3).sum(), [rand(3, seed=12), rand(3, seed=13)]),
    "zero_d": (lambda lib, x: (x ** 4).sum(), [rand(seed=14)]),
    "conv_net": (lambda lib, x, w: _conv_net(lib, x, w).sum(), [rand(1, 2, 4, 4, seed=15), rand(2, 2, 3, 3, seed=16)]),
}


def _call(lib, caf, name, fn, arrays, pack=True, **kw):
    inputs = _tensors(lib, arrays)
    inputs = inputs if pack and len(inputs) > 1 else inputs[0]
    fn_of = (lambda *xs: fn(lib, *xs))
    return getattr(caf, name)(fn_of, inputs, **kw)


def _both(name, fn, arrays, v_of=None, grad_state=True, **kw):
    """Run name in both libraries (v built by v_of(lib, arrays) when given) and compare the results."""
    def run(lib, caf):
        extra = dict(kw)
        if v_of is not None:
            extra["v"] = v_of(lib, arrays)
        return _call(lib, caf, name, fn, arrays, **extra)
    want = run(torch, TAF)
    got = run(cnnlab, CAF)
    _same(got, want, name, grad_state)
    return got, want


def _outputs_like(lib, fn, arrays, seed):
    with lib.no_grad():
        outs = fn(lib, *_tensors(lib, arrays))
    rng = np.random.default_rng(seed)
    if isinstance(outs, tuple):
        return tuple(lib.tensor(rng.standard_normal(tuple(o.shape))) for o in outs)
    return lib.tensor(rng.standard_normal(tuple(outs.shape)))


def _inputs_like(lib, arrays, seed):
    rng = np.random.default_rng(seed)
    vs = tuple(lib.tensor(rng.standard_normal(a.shape)) for a in arrays)
    return vs if len(vs) > 1 else vs[0]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", FUNCS)
def test_vjp(name, create_graph):
    fn, arrays = FUNCS[name]
    _both("vjp", fn, arrays, v_of=lambda lib, a: _outputs_like(lib, fn, a, 21), create_graph=create_graph)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", FUNCS)
def test_jvp(name, create_graph):
    fn, arrays = FUNCS[name]
    _both("jvp", fn, arrays, v_of=lambda lib, a: _inputs_like(lib, a, 22), create_graph=create_graph)


@pytest.mark.parametrize("options", [{}, {"create_graph": True}, {"vectorize": True},
                                     {"vectorize": True, "strategy": "forward-mode"}])
@pytest.mark.parametrize("name", FUNCS)
def test_jacobian(name, options):
    fn, arrays = FUNCS[name]
    _both("jacobian", fn, arrays, **options)


@pytest.mark.parametrize("options", [{}, {"create_graph": True}, {"vectorize": True}])
@pytest.mark.parametrize("name", SCALAR_FUNCS)
def test_hessian(name, options):
    fn, arrays = SCALAR_FUNCS[name]
    _both("hessian", fn, arrays, **options)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("which", ["hvp", "vhp"])
@pytest.mark.parametrize("name", SCALAR_FUNCS)
def test_hessian_products(name, which, create_graph):
    fn, arrays = SCALAR_FUNCS[name]
    _both(which, fn, arrays, v_of=lambda lib, a: _inputs_like(lib, a, 23), create_graph=create_graph)


def test_hessian_forward_mode_outer_jacobian():
    fn, arrays = SCALAR_FUNCS["tuple"]
    # PyTorch's result keeps a grad_fn here (its forward-mode path sets requires_grad on the inputs and does not
    # detach); cnnlab's, as every create_graph=False result, has none: the values are compared
    _both("hessian", fn, arrays, vectorize=True, outer_jacobian_strategy="forward-mode", grad_state=False)


def test_default_v_for_single_elements():
    _both("vjp", lambda lib, x: (x * x).sum(), [rand(3, seed=30)])
    _both("jvp", lambda lib, x: x * x.sin(), [rand(1, seed=31)])
    _both("vhp", lambda lib, x: (x ** 3).sum(), [rand(1, seed=32)])
    _both("hvp", lambda lib, x: (x ** 3).sum(), [rand(seed=33)])


def test_create_graph_results_differentiate_again():
    """With create_graph=True the result is a function of the original inputs: differentiate it once more."""
    a = rand(4, seed=40)
    grads = []
    for lib, caf in ((torch, TAF), (cnnlab, CAF)):
        x = lib.tensor(a, requires_grad=True)
        _, hv = caf.hvp(lambda t: (t.exp() * t ** 2).sum(), x, lib.ones(4, dtype=lib.float64), create_graph=True)
        _, jv = caf.jvp(lambda t: t.sin() * t, x, lib.ones(4, dtype=lib.float64), create_graph=True)
        (hv.sum() + (jv * jv).sum()).backward()
        grads.append(x.grad.numpy().copy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10)


def test_inputs_are_fresh_tensors():
    """func's own captured reference to an input is not differentiated (PyTorch issue 32576's rule)."""
    a = rand(3, seed=41)
    for lib, caf in ((torch, TAF), (cnnlab, CAF)):
        x = lib.tensor(a)
        _, g = caf.vjp(lambda t: (t * x).sum(), x)
        np.testing.assert_allclose(_np(g), a)
        assert not g.requires_grad


def test_unused_input_gives_zeros_or_strict_error():
    fn = lambda lib, x, y: x * 2  # noqa: E731
    arrays = [rand(3, seed=42), rand(2, seed=43)]
    _both("vjp", fn, arrays, v_of=lambda lib, a: lib.ones(3, dtype=lib.float64))
    _both("jacobian", fn, arrays)
    _errors_match("vjp", fn, arrays, v_of=lambda lib, a: lib.ones(3, dtype=lib.float64), strict=True)
    _errors_match("jacobian", fn, arrays, strict=True)
    _errors_match("jacobian", fn, arrays, strict=True, vectorize=True)
    _errors_match("jacobian", fn, arrays, strict=True, strategy="forward-mode", vectorize=True)
    _errors_match("hessian", lambda lib, x, y: (x * x).sum(), arrays, strict=True)
    _errors_match("vhp", lambda lib, x: (x * 3).sum(), arrays[:1], v_of=lambda lib, a: lib.ones(3, dtype=lib.float64),
                  strict=True)


def _errors_match(name, fn, arrays, v_of=None, pack=True, **kw):
    """Both libraries refuse, with the same exception family and the same words."""
    messages = []
    for lib, caf, expected in ((torch, TAF, (RuntimeError, TypeError, NotImplementedError)),
                               (cnnlab, CAF, (cnnlab.GradError, TypeError, NotImplementedError))):
        extra = dict(kw)
        if v_of is not None:
            extra["v"] = v_of(lib, arrays)
        with pytest.raises(expected) as info:
            _call(lib, caf, name, fn, arrays, pack=pack, **extra)
        messages.append((type(info.value), str(info.value).replace("torch.", "").replace("cnnlab.", "")))
    (pt_type, pt_msg), (cn_type, cn_msg) = messages
    assert issubclass(cn_type, pt_type) or pt_type is RuntimeError and issubclass(cn_type, RuntimeError)
    assert cn_msg.replace(" ", "") == pt_msg.replace(" ", "")  # PyTorch writes "isonly" once


def test_errors_in_pytorch_words():
    x = [rand(3, seed=50)]
    _errors_match("vjp", lambda lib, t: t * 2, x)  # v=None for a non-scalar output
    _errors_match("vjp", lambda lib, t: t * 2, x, v_of=lambda lib, a: lib.ones(2, dtype=lib.float64))
    _errors_match("vjp", lambda lib, t: (t * 2, t), x, v_of=lambda lib, a: (lib.ones(3, dtype=lib.float64),))
    _errors_match("jvp", lambda lib, t: t * 2, x)
    _errors_match("jvp", lambda lib, t, u: t * u, x * 2,
                  v_of=lambda lib, a: (lib.ones(3, dtype=lib.float64), lib.ones(4, dtype=lib.float64)))
    _errors_match("hessian", lambda lib, t: t * 2, x)
    _errors_match("hessian", lambda lib, t: ((t * t).sum(), t.sum()), x)
    _errors_match("vhp", lambda lib, t: t * t, x, v_of=lambda lib, a: lib.ones(3, dtype=lib.float64))
    _errors_match("hvp", lambda lib, t: t * t, x)
    _errors_match("vjp", lambda lib, t: lib.zeros(1, dtype=lib.float64), x, strict=True)
    _errors_match("jacobian", lambda lib, t: t * t, x, create_graph=True, strategy="forward-mode", vectorize=True)
    _errors_match("jacobian", lambda lib, t: t * t, x, strategy="forward-mode")
    for lib, caf in ((torch, TAF), (cnnlab, CAF)):
        with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
            caf.vjp(lambda t: t, [lib.ones(2)], lib.ones(2))


def test_unknown_strategy():
    with pytest.raises(ValueError, match='strategy must be either "forward-mode" or "reverse-mode"'):
        CAF.jacobian(lambda t: t, cnnlab.ones(2), strategy="sideways")
    with pytest.raises(ValueError, match="outer_jacobian_strategy must be"):
        CAF.hessian(lambda t: t.sum(), cnnlab.ones(2), outer_jacobian_strategy="sideways")


def test_strict_linear_function_has_no_hessian():
    """strict=True refuses a Hessian that cannot depend on the inputs (a linear function)."""
    _errors_match("hessian", lambda lib, t: (t * 3).sum(), [rand(3, seed=51)], strict=True)
    _errors_match("vhp", lambda lib, t: (t * 3).sum(), [rand(3, seed=51)],
                  v_of=lambda lib, a: lib.ones(3, dtype=lib.float64), strict=True)
    _errors_match("hvp", lambda lib, t: (t * 3).sum(), [rand(3, seed=51)],
                  v_of=lambda lib, a: lib.ones(3, dtype=lib.float64), strict=True)
