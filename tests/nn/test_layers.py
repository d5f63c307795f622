"""Every layer against the PyTorch layer of the same name: the same float64 weights (torch's initial weights loaded
through load_state_dict of `{k: v.detach().numpy()}`), the same input, then outputs, the gradients of the input
and of every parameter (by name), and the buffers after each step (BatchNorm running statistics) must agree, in
train and in eval mode. Extensions PyTorch lacks are checked against an identity or a PyTorch composition."""
import re

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn as nn
from oracle import rand

torch.set_num_threads(1)

F = cnnlab.nn.functional


def _have(*names):
    """Skip while a functional op the layer calls is still missing (ops land from several engineers)."""
    missing = [n for n in names if not hasattr(F, n)]
    if missing:
        pytest.skip(f"cnnlab.nn.functional lacks {missing}")


def _np(t):
    return t.detach().numpy() if isinstance(t, (torch.Tensor, cnnlab.Tensor)) else np.asarray(t)


def _tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def compare(build, *arrays, grad=None, modes=(True, False), steps=1, rtol=1e-7, atol=1e-9, forward=None, seed=0):
    """build(nn) makes the layer for one library. Copies torch's float64 weights into cnnlab's layer, then for
    each mode and step compares outputs, input and parameter gradients, and the state_dict afterwards."""
    pt = build(torch.nn).double()
    cn = build(nn).double()
    cn.load_state_dict({k: v.detach().numpy() for k, v in pt.state_dict().items()})
    pt_names = [n for n, _ in pt.named_parameters()]
    assert [n for n, _ in cn.named_parameters()] == pt_names
    forward = forward or (lambda layer, *xs: layer(*xs))
    grad = grad if grad is not None else [a.dtype.kind == "f" for a in arrays]
    rng = np.random.default_rng(seed + 11)
    for mode in modes:
        cn.train(mode)
        pt.train(mode)
        for step in range(steps):
            xs_cn = [cnnlab.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
            xs_pt = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
            out_cn, out_pt = _tuple(forward(cn, *xs_cn)), _tuple(forward(pt, *xs_pt))
            assert len(out_cn) == len(out_pt)
            for i, (c, p) in enumerate(zip(out_cn, out_pt)):
                c, p = _np(c), _np(p)
                assert c.shape == p.shape and c.dtype == p.dtype, f"output {i}: {c.shape} {c.dtype} vs {p.shape} {p.dtype}"
                np.testing.assert_allclose(c, p, rtol=rtol, atol=atol, err_msg=f"output {i} (train={mode}, step={step})")
            diff = [(c, p) for c, p in zip(out_cn, out_pt) if p.requires_grad]
            if diff:
                loss_cn = loss_pt = 0
                for c, p in diff:
                    g = rng.standard_normal(tuple(p.shape))
                    loss_cn = loss_cn + (c * cnnlab.tensor(g)).sum()
                    loss_pt = loss_pt + (p * torch.tensor(g)).sum()
                loss_cn.backward()
                loss_pt.backward()
                for i, (c, p) in enumerate(zip(xs_cn, xs_pt)):
                    if p.grad is not None:
                        np.testing.assert_allclose(_np(c.grad), _np(p.grad), rtol=rtol, atol=atol,
                                                   err_msg=f"gradient of input {i}")
                for (name, c), (_, p) in zip(cn.named_parameters(), pt.named_parameters()):
                    assert (c.grad is None) == (p.grad is None), name
                    if p.grad is not None:
                        np.testing.assert_allclose(_np(c.grad), _np(p.grad), rtol=rtol, atol=atol,
                                                   err_msg=f"gradient of {name}")
                cn.zero_grad()
                pt.zero_grad()
            sd_cn, sd_pt = cn.state_dict(), pt.state_dict()
            assert list(sd_cn) == list(sd_pt)
            for k in sd_pt:
                np.testing.assert_allclose(_np(sd_cn[k]), _np(sd_pt[k]), rtol=rtol, atol=atol, err_msg=k)
                assert _np(sd_cn[k]).dtype == _np(sd_pt[k]).dtype, k
    return cn, pt


# ---- convolution ----------------------------------------------------------------------------------------------
CONV = [
    (1, dict(), (2, 3, 11)),
    (1, dict(stride=2, padding=2, dilation=2, groups=3, bias=False), (2, 3, 12)),
    (1, dict(padding="same", padding_mode="reflect"), (1, 3, 9)),
    (1, dict(padding=3, padding_mode="circular", stride=2), (2, 3, 10)),
    (2, dict(), (2, 3, 8, 7)),
    (2, dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2)), (2, 3, 9, 8)),
    (2, dict(groups=3, padding=1, bias=False), (1, 3, 6, 6)),
    (2, dict(padding="same", dilation=2), (2, 3, 7, 8)),
    (2, dict(padding="valid"), (2, 3, 7, 8)),
    (2, dict(padding=2, padding_mode="reflect"), (2, 3, 7, 8)),
    (2, dict(padding=(1, 2), padding_mode="replicate", stride=2), (2, 3, 7, 8)),
    (2, dict(padding=1, padding_mode="circular"), (2, 3, 5, 6)),
    (3, dict(), (2, 3, 5, 4, 6)),
    (3, dict(stride=2, padding=1, groups=3, padding_mode="replicate"), (1, 3, 5, 5, 4)),
]


@pytest.mark.parametrize("n,kw,shape", CONV, ids=[f"{n}d-{i}" for i, (n, _, _) in enumerate(CONV)])
def test_conv(n, kw, shape):
    _have(f"conv{n}d")
    compare(lambda lib: getattr(lib, f"Conv{n}d")(3, 6, 3, **kw), rand(*shape))


def test_conv_unbatched_input():
    _have("conv2d")
    compare(lambda lib: lib.Conv2d(3, 4, 3, padding=1), rand(3, 6, 5), modes=(True,))


def test_conv_strided_same_extension():
    """Strided 'same' (beyond PyTorch): output ceil(size / stride), equal to torch on explicitly padded input."""
    _have("conv2d")
    conv = nn.Conv2d(3, 4, 3, stride=2, padding="same").double()
    x = rand(2, 3, 9, 8)
    out = conv(cnnlab.tensor(x))
    assert out.shape == (2, 4, 5, 4)
    # ceil(9/2)=5: total pad = (5-1)*2 + 3 - 9 = 2 -> (1, 1); ceil(8/2)=4: (4-1)*2 + 3 - 8 = 1 -> (0, 1).
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(torch.tensor(x), (0, 1, 1, 1)),
                                     torch.tensor(conv.weight.detach().numpy()),
                                     torch.tensor(conv.bias.detach().numpy()), stride=2)
    np.testing.assert_allclose(out.detach().numpy(), ref.numpy(), rtol=1e-10)


@pytest.mark.parametrize("build,exc,msg", [
    (lambda lib: lib.Conv2d(3, 4, 3, groups=2), ValueError,
     "Conv2d: in_channels must be divisible by groups. Got in_channels=3, groups=2."),
    (lambda lib: lib.Conv1d(4, 3, 3, groups=2), ValueError,
     "Conv1d: out_channels must be divisible by groups. Got out_channels=3, groups=2."),
    (lambda lib: lib.Conv2d(4, 4, 3, groups=0), ValueError, "Conv2d: groups must be a positive integer. Got groups=0."),
    (lambda lib: lib.Conv2d(3, 4, 3, padding_mode="zero"), ValueError,
     "Conv2d: padding_mode must be one of ('zeros', 'reflect', 'replicate', 'circular'). Got padding_mode='zero'."),
    (lambda lib: lib.Conv2d(3, 4, 3, padding="full"), ValueError, "Conv2d: padding must be an int, a tuple, or one of"),
    (lambda lib: lib.Conv2d(3, 4, 3, padding=-1), ValueError, "Conv2d: padding must be non-negative. Got padding=-1."),
    (lambda lib: lib.Conv3d(3, 4, 0), ValueError, "Conv3d: kernel_size must be positive. Got kernel_size=(0, 0, 0)."),
    (lambda lib: lib.ConvTranspose2d(3, 4, 3, padding_mode="reflect"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
], ids=["groups-in", "groups-out", "groups-0", "padding_mode", "padding-str", "padding-neg", "kernel-0", "convT-mode"])
def test_conv_constructor_errors_like_torch(build, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        build(nn)
    if "negative" not in msg and "positive. Got kernel" not in msg:  # PyTorch only fails later, in forward
        with pytest.raises(exc):  # PyTorch rejects the same arguments with the same exception type
            build(torch.nn)


def test_conv_constructor_type_errors_and_forward_errors():
    with pytest.raises(TypeError, match=re.escape("Conv2d: stride must be an int or a tuple of 2 ints. Got "
                                                  "stride=(1, 2, 3).")):
        nn.Conv2d(3, 4, 3, stride=(1, 2, 3))
    with pytest.raises(TypeError, match="Conv2d: in_channels must be an int. Got in_channels=3.0."):
        nn.Conv2d(3.0, 4, 3)
    with pytest.raises(ValueError, match="padding must be an int or a tuple"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(RuntimeError, match=re.escape("conv2d: input channels must equal weight.shape[1] * groups")):
        nn.Conv2d(3, 4, 3)(cnnlab.ones(1, 2, 5, 5))


CONV_T = [
    (1, dict(), (2, 4, 7)),
    (1, dict(stride=2, padding=1, output_padding=1, groups=2, bias=False), (2, 4, 6)),
    (2, dict(), (2, 4, 5, 6)),
    (2, dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=1), (1, 4, 4, 5)),
    (2, dict(stride=2, dilation=2, groups=2), (2, 4, 5, 4)),
    (3, dict(stride=2, padding=1, output_padding=1), (1, 4, 3, 4, 3)),
]


@pytest.mark.parametrize("n,kw,shape", CONV_T, ids=[f"{n}d-{i}" for i, (n, _, _) in enumerate(CONV_T)])
def test_conv_transpose(n, kw, shape):
    _have(f"conv_transpose{n}d")
    compare(lambda lib: getattr(lib, f"ConvTranspose{n}d")(4, 6, 3, **kw), rand(*shape))


@pytest.mark.parametrize("size", [[11, 13], [12, 14], [1, 4, 12, 13]])
def test_conv_transpose_output_size(size):
    _have("conv_transpose2d")
    compare(lambda lib: lib.ConvTranspose2d(4, 2, 3, stride=2, padding=1), rand(1, 4, 6, 7),
            forward=lambda layer, x: layer(x, output_size=size), modes=(True,))


def test_conv_transpose_bad_output_size():
    _have("conv_transpose2d")
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    with pytest.raises(ValueError, match=r"valid sizes range from \[11, 13\] to \[12, 14\]"):
        layer(cnnlab.ones(1, 4, 6, 7), output_size=[13, 13])
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        layer(cnnlab.ones(1, 4, 6, 7), output_size=[13])


# ---- pooling ---------------------------------------------------------------------------------------------------
POOL = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 10)),
    ("MaxPool1d", (2,), dict(dilation=2, ceil_mode=True), (2, 3, 9)),
    ("MaxPool2d", (2,), dict(), (2, 3, 8, 6)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), ceil_mode=True), (2, 3, 9, 7)),
    ("MaxPool3d", (2,), dict(padding=1), (1, 2, 5, 4, 5)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 10)),
    ("AvgPool1d", (2,), dict(ceil_mode=True), (2, 3, 9)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8, 9)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (2, 3, 6, 6)),
    ("AvgPool3d", (2,), dict(stride=1, count_include_pad=False, padding=1), (1, 2, 4, 3, 4)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 9)),
    ("LPPool2d", (3, 2), dict(), (2, 3, 6, 7)),
    ("LPPool2d", (1.5, (2, 3)), dict(stride=1, ceil_mode=True), (2, 3, 6, 7)),
    ("LPPool3d", (2, 2), dict(), (1, 2, 4, 4, 5)),
    ("AdaptiveAvgPool1d", (4,), dict(), (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, None),), dict(), (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), dict(), (2, 3, 7, 5)),
    ("AdaptiveAvgPool3d", ((2, 3, 2),), dict(), (1, 2, 5, 7, 4)),
    ("AdaptiveMaxPool1d", (3,), dict(), (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((3, 4),), dict(return_indices=True), (2, 3, 7, 9)),
    ("AdaptiveMaxPool3d", (2,), dict(), (1, 2, 5, 4, 5)),
    ("MaxPool2d", (2,), dict(return_indices=True), (2, 3, 6, 7)),
]


@pytest.mark.parametrize("cls,args,kw,shape", POOL, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(POOL)])
def test_pool(cls, args, kw, shape):
    op = {"MaxPool": "max_pool", "AvgPool": "avg_pool", "LPPool": "lp_pool", "AdaptiveAvgPool": "adaptive_avg_pool",
          "AdaptiveMaxPool": "adaptive_max_pool"}[cls[:-2]] + cls[-2:].lower()
    _have(op)
    x = rand(*shape)
    if cls.startswith("LPPool"):
        x = np.abs(x) + 0.1  # p-th roots of sums of p-th powers: positive inputs keep the gradient defined
    compare(lambda lib: getattr(lib, cls)(*args, **kw), x)


@pytest.mark.parametrize("n,shape", [(1, (2, 3, 9)), (2, (2, 3, 7, 6)), (3, (1, 2, 4, 5, 4))])
def test_min_pool_is_negated_max_pool(n, shape):
    _have(f"min_pool{n}d", f"max_pool{n}d")
    x = rand(*shape)
    kw = dict(stride=2, padding=1, ceil_mode=True)
    mn = getattr(nn, f"MinPool{n}d")(3, **kw)
    mx = getattr(torch.nn, f"MaxPool{n}d")(3, **kw)
    xc, xt = cnnlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_c, out_t = mn(xc), -mx(-xt)
    np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), rtol=0)
    g = rand(*out_t.shape, seed=3)
    (out_c * cnnlab.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy())
    assert repr(mn) == repr(mx).replace("MaxPool", "MinPool")


@pytest.mark.parametrize("n,shape,size", [(1, (2, 3, 8), None), (2, (2, 3, 6, 8), None), (2, (1, 2, 7, 9), [7, 9]),
                                          (3, (1, 2, 4, 6, 4), None)])
def test_max_unpool(n, shape, size):
    _have(f"max_pool{n}d", f"max_unpool{n}d")

    def forward(layer, x):
        out, idx = layer[0](x)
        return layer[1](out, idx, output_size=size)

    compare(lambda lib: lib.ModuleList([getattr(lib, f"MaxPool{n}d")(2, return_indices=True),
                                        getattr(lib, f"MaxUnpool{n}d")(2)]), rand(*shape), forward=forward)


# ---- linear, reshaping ---------------------------------------------------------------------------------------------
def test_linear():
    _have("linear")
    compare(lambda lib: lib.Linear(5, 4), rand(3, 5))
    compare(lambda lib: lib.Linear(5, 4, bias=False), rand(2, 3, 5))
    compare(lambda lib: lib.Linear(5, 1), rand(5))


def test_bilinear():
    _have("bilinear")
    compare(lambda lib: lib.Bilinear(3, 4, 5), rand(6, 3), rand(6, 4, seed=1))
    compare(lambda lib: lib.Bilinear(3, 4, 2, bias=False), rand(2, 6, 3), rand(2, 6, 4, seed=1))


@pytest.mark.parametrize("build,shape", [
    (lambda lib: lib.Identity(3, foo=1), (2, 3)),
    (lambda lib: lib.Flatten(), (2, 3, 4, 5)),
    (lambda lib: lib.Flatten(0, 2), (2, 3, 4, 5)),
    (lambda lib: lib.Flatten(-3, -2), (2, 3, 4, 5)),
    (lambda lib: lib.Unflatten(1, (2, 5)), (3, 10)),
    (lambda lib: lib.Unflatten(-1, (2, -1, 3)), (3, 4, 12)),
    (lambda lib: lib.Unflatten(0, [1, 3]), (3, 4)),
], ids=["identity", "flatten", "flatten-0-2", "flatten-neg", "unflatten", "unflatten-neg", "unflatten-list"])
def test_reshaping_layers(build, shape):
    compare(build, rand(*shape))


def test_unflatten_errors():
    with pytest.raises(TypeError, match="unflattened_size must be a tuple or list of ints"):
        nn.Unflatten(1, 5)
    with pytest.raises(ValueError, match=r"must multiply to the size of dim 1. Got unflattened_size=\(3, 3\)"):
        nn.Unflatten(1, (3, 3))(cnnlab.ones(2, 10))


# ---- activations -----------------------------------------------------------------------------------------------------
ACT = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (), dict(alpha=0.7)),
    ("CELU", (1.3,), {}), ("SELU", (), {}), ("GELU", (), {}), ("GELU", (), dict(approximate="tanh")),
    ("SiLU", (), {}), ("Mish", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}), ("Softplus", (2.0, 1.0), {}),
    ("Hardtanh", (-0.5, 0.7), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("Softsign", (), {}),
    ("LogSigmoid", (), {}), ("Threshold", (0.1, -2.0), {}), ("PReLU", (), {}), ("PReLU", (6,), dict(init=0.1)),
    ("GLU", (1,), {}), ("Softmax", (1,), {}), ("LogSoftmax", (-1,), {}), ("Softmin", (0,), {}),
    ("Softmax2d", (), {}),
]


@pytest.mark.parametrize("cls,args,kw", ACT, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(ACT)])
def test_activation(cls, args, kw):
    x = rand(2, 6, 3, 4, low=-4, high=4)
    x[0, 0, 0, :] = [0.3, -0.2, 3.0, 6.5]  # points near the kinks (not on them: both libraries pick a side)
    compare(lambda lib: getattr(lib, cls)(*args, **kw), x)


def test_softmax_implicit_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        out = nn.Softmax()(cnnlab.tensor(rand(2, 3)))
    np.testing.assert_allclose(out.sum(1).numpy(), 1.0)


@pytest.mark.parametrize("cls", ["ReLU", "LeakyReLU", "ELU", "Hardtanh", "ReLU6", "SiLU"])
def test_inplace_activation_outside_graph(cls):
    x = rand(3, 4)
    t = cnnlab.tensor(x)
    out = getattr(nn, cls)(inplace=True)(t)
    ref = getattr(torch.nn, cls)()(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-7, atol=1e-12)


# ---- dropout -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,shape", [("Dropout", (4, 5)), ("Dropout1d", (2, 3, 5)), ("Dropout2d", (2, 3, 4, 4)),
                                       ("Dropout3d", (2, 3, 2, 3, 3)), ("AlphaDropout", (4, 5))])
def test_dropout_eval_is_identity_like_torch(cls, shape):
    _have(cls.lower().replace("alphadropout", "alpha_dropout"))
    compare(lambda lib: getattr(lib, cls)(0.4), rand(*shape), modes=(False,))
    compare(lambda lib: getattr(lib, cls)(0.0), rand(*shape), modes=(True,))


@pytest.mark.parametrize("p", [0.25, 0.5, 0.8])
def test_dropout_train_drops_and_rescales(p):
    _have("dropout")
    cnnlab.manual_seed(0)
    x = np.abs(rand(200, 100)) + 0.5
    out = nn.Dropout(p)(cnnlab.tensor(x)).numpy()
    dropped = out == 0
    np.testing.assert_allclose(out[~dropped], x[~dropped] / (1 - p), rtol=1e-12)
    assert abs(dropped.mean() - p) < 0.015


def test_dropout2d_drops_whole_channels():
    _have("dropout2d")
    cnnlab.manual_seed(1)
    out = nn.Dropout2d(0.5)(cnnlab.ones(8, 16, 3, 3)).numpy()
    per_channel = out.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0.2 < (per_channel == 0).all(-1).mean() < 0.8


def test_dropout_rejects_bad_p():
    with pytest.raises(ValueError, match=r"Dropout: dropout probability has to be between 0 and 1. Got p=1.5"):
        nn.Dropout(1.5)


# ---- normalisation -------------------------------------------------------------------------------------------------------
BN = [
    ("BatchNorm1d", (3,), {}, (6, 3)),
    ("BatchNorm1d", (3,), dict(momentum=None), (4, 3, 5)),
    ("BatchNorm2d", (3,), {}, (4, 3, 5, 4)),
    ("BatchNorm2d", (3,), dict(momentum=None, eps=1e-3), (2, 3, 3, 4)),
    ("BatchNorm2d", (3,), dict(affine=False), (2, 3, 3, 4)),
    ("BatchNorm2d", (3,), dict(track_running_stats=False), (2, 3, 3, 4)),
    ("BatchNorm2d", (3,), dict(bias=False, momentum=0.3), (2, 3, 3, 4)),
    ("BatchNorm3d", (3,), {}, (2, 3, 3, 2, 4)),
]


@pytest.mark.parametrize("cls,args,kw,shape", BN, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(BN)])
def test_batch_norm_train_steps_then_eval(cls, args, kw, shape):
    """Three training steps move the running statistics (compared after each), then eval mode uses them."""
    _have("batch_norm")
    x = rand(*shape) * 3 + 1
    compare(lambda lib: getattr(lib, cls)(*args, **kw), x, steps=3)


def test_batch_norm_random_affine_and_eval_after_varying_batches():
    _have("batch_norm")

    def build(lib):
        bn = lib.BatchNorm2d(4, momentum=None)
        with (torch.no_grad() if lib is torch.nn else cnnlab.no_grad()):
            bn.weight.uniform_(0.5, 1.5) if lib is torch.nn else None
        return bn

    pt, cn = torch.nn.BatchNorm2d(4, momentum=None).double(), nn.BatchNorm2d(4, momentum=None).double()
    with torch.no_grad():
        pt.weight.uniform_(0.5, 1.5)
        pt.bias.uniform_(-1, 1)
    cn.load_state_dict(pt.state_dict())  # torch tensors load too
    for seed in range(4):  # different batches: the cumulative average weights each batch 1/k
        x = rand(3, 4, 5, 2, seed=seed) * (seed + 1)
        np.testing.assert_allclose(cn(cnnlab.tensor(x)).detach().numpy(), pt(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-7, atol=1e-9)
    for k, v in pt.state_dict().items():
        np.testing.assert_allclose(cn.state_dict()[k].numpy(), v.numpy(), rtol=1e-10, err_msg=k)
    assert int(cn.num_batches_tracked) == 4 and cn.num_batches_tracked.dtype == cnnlab.int64
    cn.eval(), pt.eval()
    x = rand(2, 4, 3, 3, seed=9)
    np.testing.assert_allclose(cn(cnnlab.tensor(x)).detach().numpy(), pt(torch.tensor(x)).detach().numpy(), rtol=1e-7)


@pytest.mark.parametrize("cls,shape,msg", [
    ("BatchNorm1d", (2, 3, 4, 5), r"BatchNorm1d: expects a 2-d or 3-d input \(N, C or N, C, L\). Got input.shape=\(2, 3, 4, 5\)"),
    ("BatchNorm2d", (2, 3, 4), r"BatchNorm2d: expects a 4-d input \(N, C, H, W\). Got input.shape=\(2, 3, 4\)"),
    ("BatchNorm3d", (2, 3, 4, 4), r"BatchNorm3d: expects a 5-d input"),
])
def test_batch_norm_input_dims(cls, shape, msg):
    with pytest.raises(ValueError, match=msg):
        getattr(nn, cls)(3)(cnnlab.ones(*shape))
    with pytest.raises(ValueError):  # PyTorch raises ValueError too
        getattr(torch.nn, cls)(3)(torch.ones(*shape))


NORM = [
    ("LayerNorm", (5,), {}, (3, 4, 5)),
    ("LayerNorm", ((4, 5),), dict(eps=1e-3), (3, 4, 5)),
    ("LayerNorm", ([5],), dict(elementwise_affine=False), (2, 5)),
    ("LayerNorm", (5,), dict(bias=False), (2, 3, 5)),
    ("GroupNorm", (2, 6), {}, (2, 6, 3, 4)),
    ("GroupNorm", (3, 6), dict(affine=False), (2, 6, 5)),
    ("GroupNorm", (6, 6), dict(eps=1e-2), (3, 6, 2, 2)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 7)),
    ("InstanceNorm2d", (3,), dict(affine=True), (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), dict(track_running_stats=True), (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {}, (3, 4, 5)),
    ("InstanceNorm3d", (2,), dict(affine=True, track_running_stats=True, momentum=None), (2, 2, 3, 3, 4)),
    ("LocalResponseNorm", (3,), {}, (2, 6, 4, 4)),
    ("LocalResponseNorm", (2,), dict(alpha=0.1, beta=0.5, k=2.0), (2, 5, 7)),
]


@pytest.mark.parametrize("cls,args,kw,shape", NORM, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(NORM)])
def test_normalization(cls, args, kw, shape):
    op = {"LayerNorm": "layer_norm", "GroupNorm": "group_norm", "LocalResponseNorm": "local_response_norm"}.get(
        cls, "instance_norm")
    _have(op)

    def build(lib):
        layer = getattr(lib, cls)(*args, **kw)
        for name, p in layer.named_parameters():  # non-trivial affine parameters
            with torch.no_grad():
                if isinstance(p, torch.Tensor):
                    p.copy_(torch.linspace(0.5, 1.5, p.numel()).reshape(p.shape))
        return layer

    compare(build, rand(*shape) * 2 + 0.5, steps=2)


def test_group_norm_rejects_indivisible_channels():
    with pytest.raises(ValueError, match="GroupNorm: num_channels must be divisible by num_groups. Got "
                                         "num_channels=6, num_groups=4."):
        nn.GroupNorm(4, 6)


# ---- padding, fold, upsample ------------------------------------------------------------------------------------------
PAD = [
    ("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)), ("ZeroPad3d", (1,), (1, 2, 3, 3, 2)),
    ("ConstantPad1d", ((1, 3), 2.5), (2, 3, 5)), ("ConstantPad2d", (2, -1.0), (2, 3, 4, 5)),
    ("ConstantPad3d", ((1, 0, 2, 1, 0, 1), 0.5), (1, 2, 3, 3, 2)),
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 2)), ("ReplicationPad1d", ((3, 1),), (2, 3, 5)),
    ("ReplicationPad2d", (2,), (2, 3, 4, 5)), ("ReplicationPad3d", ((1, 2, 0, 1, 2, 0),), (1, 2, 3, 3, 2)),
    ("CircularPad1d", (2,), (2, 3, 5)), ("CircularPad2d", ((1, 2, 2, 1),), (2, 3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 3, 2)),
]


@pytest.mark.parametrize("cls,args,shape", PAD, ids=[c for c, _, _ in PAD])
def test_padding_layers(cls, args, shape):
    _have("pad")
    compare(lambda lib: getattr(lib, cls)(*args), rand(*shape))


def test_fold_unfold():
    _have("fold", "unfold")
    compare(lambda lib: lib.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), rand(2, 3, 6, 7))
    compare(lambda lib: lib.Fold((5, 6), 2, padding=1, stride=(1, 2)), rand(2, 12, 24))


UPSAMPLE = [
    dict(scale_factor=2), dict(size=(7, 5)), dict(scale_factor=(2, 1.5), mode="bilinear"),
    dict(size=(9, 4), mode="bilinear", align_corners=True), dict(scale_factor=3, mode="bicubic"),
    dict(scale_factor=2, mode="nearest-exact"),
]


@pytest.mark.parametrize("kw", UPSAMPLE, ids=[str(i) for i in range(len(UPSAMPLE))])
def test_upsample(kw):
    _have("interpolate")
    compare(lambda lib: lib.Upsample(**kw), rand(2, 3, 4, 3))


def test_upsample_1d_3d_and_old_names():
    _have("interpolate")
    compare(lambda lib: lib.Upsample(scale_factor=2, mode="linear"), rand(2, 3, 5))
    compare(lambda lib: lib.Upsample(size=(4, 5, 3), mode="trilinear"), rand(1, 2, 2, 3, 2))
    compare(lambda lib: lib.UpsamplingNearest2d(scale_factor=2), rand(1, 2, 3, 3))
    compare(lambda lib: lib.UpsamplingBilinear2d(size=(5, 7)), rand(1, 2, 3, 3))


# ---- losses ------------------------------------------------------------------------------------------------------------
def _probs(*shape, seed=0):
    return rand(*shape, seed=seed, low=0.05, high=0.95)


def _labels(n, c, seed=0):
    return np.random.default_rng(seed).integers(0, c, n).astype(np.int64)


W5 = np.linspace(0.5, 2.0, 5)

LOSSES = [
    ("CrossEntropyLoss", lambda lib: lib.CrossEntropyLoss(), lambda: (rand(6, 5), _labels(6, 5))),
    ("CrossEntropyLoss-weight", lambda lib: lib.CrossEntropyLoss(
        weight=(torch.tensor if lib is torch.nn else cnnlab.tensor)(W5), ignore_index=2, label_smoothing=0.1),
     lambda: (rand(6, 5, 3), _labels(18, 5).reshape(6, 3))),
    ("CrossEntropyLoss-probs", lambda lib: lib.CrossEntropyLoss(reduction="sum"),
     lambda: (rand(4, 5), _probs(4, 5, seed=1))),
    ("NLLLoss", lambda lib: lib.NLLLoss(reduction="none"), lambda: (rand(6, 5), _labels(6, 5))),
    ("NLLLoss-weight", lambda lib: lib.NLLLoss(weight=(torch.tensor if lib is torch.nn else cnnlab.tensor)(W5)),
     lambda: (rand(6, 5), _labels(6, 5))),
    ("BCELoss", lambda lib: lib.BCELoss(), lambda: (_probs(4, 3), _probs(4, 3, seed=1))),
    ("BCELoss-weight", lambda lib: lib.BCELoss(weight=(torch.tensor if lib is torch.nn else cnnlab.tensor)(
        np.array([0.5, 1.0, 2.0])), reduction="sum"), lambda: (_probs(4, 3), _probs(4, 3, seed=1))),
    ("BCEWithLogitsLoss", lambda lib: lib.BCEWithLogitsLoss(
        pos_weight=(torch.tensor if lib is torch.nn else cnnlab.tensor)(np.array([1.0, 2.0, 3.0]))),
     lambda: (rand(4, 3) * 3, _probs(4, 3, seed=1))),
    ("MSELoss", lambda lib: lib.MSELoss(), lambda: (rand(4, 3), rand(4, 3, seed=1))),
    ("MSELoss-none", lambda lib: lib.MSELoss(reduction="none"), lambda: (rand(4, 3), rand(4, 3, seed=1))),
    ("L1Loss", lambda lib: lib.L1Loss(reduction="sum"), lambda: (rand(4, 3), rand(4, 3, seed=1))),
    ("SmoothL1Loss", lambda lib: lib.SmoothL1Loss(beta=0.5), lambda: (rand(4, 3) * 2, rand(4, 3, seed=1))),
    ("HuberLoss", lambda lib: lib.HuberLoss(delta=0.7), lambda: (rand(4, 3) * 2, rand(4, 3, seed=1))),
    ("KLDivLoss", lambda lib: lib.KLDivLoss(reduction="batchmean"),
     lambda: (np.log(_probs(4, 3)), _probs(4, 3, seed=1))),
    ("KLDivLoss-log", lambda lib: lib.KLDivLoss(reduction="sum", log_target=True), lambda: (rand(4, 3), rand(4, 3, seed=1))),
    ("SoftMarginLoss", lambda lib: lib.SoftMarginLoss(), lambda: (rand(4, 3), np.sign(rand(4, 3, seed=1)))),
]


@pytest.mark.parametrize("name,build,inputs", LOSSES, ids=[n for n, _, _ in LOSSES])
def test_loss(name, build, inputs):
    arrays = inputs()
    compare(build, *arrays, grad=[True] + [False] * (len(arrays) - 1), modes=(True,))


def test_margin_ranking_loss():
    compare(lambda lib: lib.MarginRankingLoss(margin=0.2), rand(5), rand(5, seed=1), np.sign(rand(5, seed=2)),
            grad=[True, True, False], modes=(True,))


def test_loss_weight_is_a_buffer_like_torch():
    w = np.linspace(0.5, 2.0, 5)
    cn, pt = nn.CrossEntropyLoss(weight=cnnlab.tensor(w)), torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(cn.state_dict()) == list(pt.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=cnnlab.ones(3)).state_dict()) == ["pos_weight"]


def test_loss_legacy_arguments_warn_and_map_to_reduction():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.L1Loss(reduce=False).reduction == "none"
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be one of \('none', 'mean', 'sum'\)"):
        nn.MSELoss(reduction="avg")


# ---- float32 and whole models --------------------------------------------------------------------------------------------
def test_float32_layers_keep_float32():
    _have("conv2d", "max_pool2d", "batch_norm", "linear")
    cnnlab.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 3), nn.LogSoftmax(1))
    x = cnnlab.tensor(rand(2, 3, 8, 8, dtype=np.float32))
    out = model(x)
    assert out.dtype == cnnlab.float32
    out.sum().backward()
    assert all(p.grad.dtype == cnnlab.float32 for p in model.parameters())
    assert model[1].running_mean.dtype == cnnlab.float32


def _small_cnn(lib):
    return lib.Sequential(
        lib.Conv2d(3, 5, 5), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(5, 10, 5), lib.ReLU(), lib.MaxPool2d(2),
        lib.Flatten(), lib.Linear(250, 32), lib.ReLU(), lib.Linear(32, 1))


def _bn_net(lib):
    return lib.Sequential(
        lib.Sequential(lib.Conv2d(3, 4, 3, padding=1, bias=False), lib.BatchNorm2d(4), lib.ReLU()),
        lib.Sequential(lib.Conv2d(4, 6, 3, stride=2), lib.BatchNorm2d(6, momentum=None), lib.LeakyReLU(0.1),
                       lib.Dropout(0.0)),
        lib.AdaptiveAvgPool2d(1), lib.Flatten(), lib.Linear(6, 3), lib.LogSoftmax(dim=1))


@pytest.mark.parametrize("build,shape", [(_small_cnn, (2, 3, 32, 32)), (_bn_net, (3, 3, 9, 9))],
                         ids=["small-cnn", "bn-net"])
def test_whole_models_match_torch(build, shape):
    _have("conv2d", "max_pool2d", "linear", "batch_norm", "adaptive_avg_pool2d", "dropout")
    compare(build, rand(*shape), steps=2, rtol=1e-6, atol=1e-9)


def test_model_input_gradient_by_finite_differences():
    from oracle import gradcheck
    cnnlab.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(3), nn.Tanh(),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Linear(3 * 2 * 2, 2), nn.LogSoftmax(1)).double()
    gradcheck(lambda x: model(x), rand(2, 2, 4, 5))
