"""Shape edge cases against PyTorch: empty dims in every conv/pool/norm/resize op, geometry tuples of the wrong
length, sizes computed from non-finite or negative floats. Where PyTorch accepts the input, cnnlab gives the
same shape, values and gradients; where PyTorch refuses it, cnnlab raises a RuntimeError-class error that names
the op (never a NumPy message or a ZeroDivisionError)."""
import re

import numpy as np
import pytest

import cnnlab
from oracle import CN, PT

torch = pytest.importorskip("torch")


def _z(lib, *shape, grad=True):
    x = lib.torch.tensor(np.random.default_rng(sum(shape)).standard_normal(shape))
    return x.requires_grad_(grad)


def _conv(n, name, xs, ws, **kw):
    return lambda lib: getattr(lib.F, name)(_z(lib, *xs), _z(lib, *ws),
                                            **{k: _z(lib, v) if k == "bias" else v for k, v in kw.items()})


CASES = {}
for _n in (1, 2, 3):
    _sp, _k = (5,) * _n, (3,) * _n
    CASES.update({
        f"conv{_n}d batch0": _conv(_n, f"conv{_n}d", (0, 4) + _sp, (6, 4) + _k, bias=6, padding=1),
        f"conv{_n}d channels0": _conv(_n, f"conv{_n}d", (2, 0) + _sp, (6, 0) + _k, bias=6),
        f"conv{_n}d channels0 groups": _conv(_n, f"conv{_n}d", (2, 0) + _sp, (6, 0) + _k, groups=2),
        f"conv{_n}d unbatched channels0": _conv(_n, f"conv{_n}d", (0,) + _sp, (6, 0) + _k),
        f"conv{_n}d out_channels0": _conv(_n, f"conv{_n}d", (2, 4) + _sp, (0, 4) + _k),
        f"conv{_n}d spatial0": _conv(_n, f"conv{_n}d", (2, 4, 0) + _sp[1:], (6, 4) + _k),
        f"conv{_n}d spatial0 padded": _conv(_n, f"conv{_n}d", (2, 4, 0) + _sp[1:], (6, 4) + _k, padding=2),
        f"conv_transpose{_n}d batch0": _conv(_n, f"conv_transpose{_n}d", (0, 4) + _sp, (4, 6) + _k, bias=6,
                                             stride=2, output_padding=1),
        f"conv_transpose{_n}d channels0": _conv(_n, f"conv_transpose{_n}d", (2, 0) + _sp, (0, 6) + _k),
        f"conv_transpose{_n}d out_channels0": _conv(_n, f"conv_transpose{_n}d", (2, 4) + _sp, (4, 0) + _k),
        f"conv_transpose{_n}d spatial0": _conv(_n, f"conv_transpose{_n}d", (2, 4, 0) + _sp[1:], (4, 6) + _k),
    })
    for _pool, _call in (("max_pool", lambda F, f, x: f(x, 2)), ("avg_pool", lambda F, f, x: f(x, 2)),
                         ("lp_pool", lambda F, f, x: f(x, 2, 2)), ("adaptive_max_pool", lambda F, f, x: f(x, 2))):
        for _what, _xs in (("batch0", (0, 3) + (4,) * _n), ("channels0", (2, 0) + (4,) * _n),
                           ("spatial0", (2, 3, 0) + (4,) * (_n - 1)), ("unbatched channels0", (0,) + (4,) * _n)):
            CASES[f"{_pool}{_n}d {_what}"] = (lambda name, xs, call: lambda lib: call(
                lib.F, getattr(lib.F, name), _z(lib, *xs)))(f"{_pool}{_n}d", _xs, _call)
    CASES[f"adaptive_avg_pool{_n}d batch0"] = lambda lib, n=_n: getattr(lib.F, f"adaptive_avg_pool{n}d")(
        _z(lib, 0, 3, *(4,) * n), 2)
for _what, _xs in (("batch0", (0, 3, 4, 4)), ("channels0", (2, 0, 4, 4)), ("spatial0", (2, 3, 0, 4))):
    CASES.update({
        f"interpolate {_what}": lambda lib, xs=_xs: lib.F.interpolate(_z(lib, *xs), scale_factor=2),
        f"interpolate bilinear {_what}": lambda lib, xs=_xs: lib.F.interpolate(_z(lib, *xs), size=(3, 3),
                                                                              mode="bilinear"),
        f"batch_norm train {_what}": lambda lib, xs=_xs: lib.F.batch_norm(_z(lib, *xs), None, None, training=True),
        f"group_norm {_what}": lambda lib, xs=_xs: lib.F.group_norm(_z(lib, *xs), 1),
        f"layer_norm {_what}": lambda lib, xs=_xs: lib.F.layer_norm(_z(lib, *xs), xs[2:]),
        f"softmax {_what}": lambda lib, xs=_xs: lib.F.softmax(_z(lib, *xs), 1),
        f"log_softmax {_what}": lambda lib, xs=_xs: lib.F.log_softmax(_z(lib, *xs), 2),
        f"grid_sample {_what}": lambda lib, xs=_xs: lib.F.grid_sample(_z(lib, *xs), _z(lib, xs[0], 3, 3, 2),
                                                                      align_corners=False),
        f"unfold {_what}": lambda lib, xs=_xs: lib.F.unfold(_z(lib, *xs), 2),
        f"max_unpool2d {_what}": lambda lib, xs=_xs: lib.F.max_unpool2d(
            *lib.F.max_pool2d(_z(lib, *xs), 1, return_indices=True), 1),
    })
CASES.update({
    "instance_norm spatial0": lambda lib: lib.F.instance_norm(_z(lib, 2, 3, 0, 4)),
    "instance_norm batch0": lambda lib: lib.F.instance_norm(_z(lib, 0, 3, 2, 4)),
    "fold batch0": lambda lib: lib.F.fold(_z(lib, 0, 12, 9), (4, 4), 2),
    # geometry tuples whose length does not match the input (PyTorch: "It is expected kernel_size equals to 2")
    "unfold kernel_size of 3 on a batch": lambda lib: lib.F.unfold(_z(lib, 2, 3, 6, 7), (2, 2, 2)),
    "unfold padding of 3": lambda lib: lib.F.unfold(_z(lib, 2, 3, 6, 7), 2, padding=(1, 1, 1)),
    "unfold stride of 1": lambda lib: lib.F.unfold(_z(lib, 2, 3, 6, 7), (2, 2), stride=(1,)),
    "unfold 5-d input": lambda lib: lib.F.unfold(_z(lib, 2, 3, 6, 7, 3), 2),
    "fold kernel_size of 3": lambda lib: lib.F.fold(_z(lib, 2, 12, 20), (5, 6), (2, 2, 2)),
    "fold dilation of 3": lambda lib: lib.F.fold(_z(lib, 2, 12, 20), (5, 6), 2, dilation=(1, 1, 1)),
    "fold 4-d input": lambda lib: lib.F.fold(_z(lib, 1, 2, 12, 20), (5, 6), 2),
    # floats that become sizes
    "interpolate scale nan": lambda lib: lib.F.interpolate(_z(lib, 1, 1, 4, 4), scale_factor=float("nan")),
    "interpolate scale inf": lambda lib: lib.F.interpolate(_z(lib, 1, 1, 4, 4), scale_factor=float("inf")),
    "interpolate scale (2, nan)": lambda lib: lib.F.interpolate(_z(lib, 1, 1, 4, 4), scale_factor=(2.0, float("nan"))),
    "interpolate scale -1": lambda lib: lib.F.interpolate(_z(lib, 1, 1, 4, 4), scale_factor=-1.0),
    "interpolate scale 0": lambda lib: lib.F.interpolate(_z(lib, 1, 1, 4, 4), scale_factor=0.0),
    "Upsample scale nan": lambda lib: lib.torch.nn.Upsample(scale_factor=float("nan"))(_z(lib, 1, 1, 4, 4)),
    "Upsample bilinear scale inf": lambda lib: lib.torch.nn.Upsample(scale_factor=float("inf"), mode="bilinear")(
        _z(lib, 1, 1, 4, 4)),
    "adaptive_avg_pool2d -1": lambda lib: lib.F.adaptive_avg_pool2d(_z(lib, 1, 1, 4, 4), -1),
    "adaptive_max_pool2d (2, -2)": lambda lib: lib.F.adaptive_max_pool2d(_z(lib, 1, 1, 4, 4), (2, -2)),
    "AdaptiveAvgPool2d -1": lambda lib: lib.torch.nn.AdaptiveAvgPool2d(-1)(_z(lib, 1, 1, 4, 4)),
    "adaptive_avg_pool2d 0": lambda lib: lib.F.adaptive_avg_pool2d(_z(lib, 1, 1, 4, 4), 0),
    "dropout p nan": lambda lib: lib.F.dropout(_z(lib, 2), float("nan")),
    "local_response_norm size 0": lambda lib: lib.F.local_response_norm(_z(lib, 1, 2, 3, 3), 0),
})


def _run(lib, case):
    try:
        out = CASES[case](lib)
    except Exception as e:  # noqa: BLE001 - the type is what the test compares
        return None, e
    out = out[0] if isinstance(out, tuple) else out
    return out, None


@pytest.mark.parametrize("case", sorted(CASES))
def test_edge_case_matches_torch(case):
    want, torch_error = _run(PT, case)
    got, error = _run(CN, case)
    if torch_error is not None:
        assert error is not None, f"PyTorch raises {torch_error!r}; cnnlab returned shape {tuple(got.shape)}"
        assert isinstance(error, RuntimeError), f"{type(error).__name__}: {error}"
        assert isinstance(error, type(torch_error)) or isinstance(torch_error, RuntimeError), (torch_error, error)
        assert re.match(r"[A-Za-z_0-9]+: \S", str(error)), error  # "<op>: <rule>", not a NumPy message
        return
    assert error is None, f"PyTorch returns shape {tuple(want.shape)}; cnnlab raised {error!r}"
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
    g = np.random.default_rng(1).standard_normal(tuple(want.shape))
    try:
        (want * torch.tensor(g)).sum().backward()
    except RuntimeError:
        pytest.skip("PyTorch's own backward fails here")
    (got * cnnlab.tensor(g)).sum().backward()


def test_conv_empty_input_gradients_match_torch():
    """A 0 batch or 0 input channels: the weight and bias gradients are zeros of their shapes, as in PyTorch."""
    for xs, ws in (((0, 4, 5, 5), (6, 4, 3, 3)), ((2, 0, 5, 5), (6, 0, 3, 3))):
        grads = []
        for lib in (torch, cnnlab):
            x, w = lib.zeros(*xs, requires_grad=True), lib.ones(*ws, requires_grad=True)
            b = lib.ones(6, requires_grad=True)
            y = lib.nn.functional.conv2d(x, w, b, padding=1)
            y.sum().backward()
            grads.append([tuple(y.shape), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
        assert grads[0][0] == grads[1][0]
        for a, c in zip(grads[0][1:], grads[1][1:]):
            np.testing.assert_array_equal(c, a)


def test_conv_error_messages_name_the_rule_and_values():
    F = cnnlab.nn.functional
    with pytest.raises(RuntimeError, match=r"conv2d: weight.shape\[0\] \(out_channels\) must be at least 1\. Got "
                                           r"weight.shape=\(0, 4, 3, 3\)\."):
        F.conv2d(cnnlab.zeros(2, 4, 5, 5), cnnlab.zeros(0, 4, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv_transpose2d: only the batch and channel dims of the input may be "
                                           r"0, not a spatial dim .* Got input.shape=\(2, 4, 0, 5\)\."):
        F.conv_transpose2d(cnnlab.zeros(2, 4, 0, 5), cnnlab.zeros(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"unfold: expects a 5-d \(batched\) input .* for 3 spatial dims "
                                           r"\(kernel_size=\(2, 2, 2\)\)\. Got input.shape=\(2, 3, 6, 7\)\."):
        F.unfold(cnnlab.zeros(2, 3, 6, 7), (2, 2, 2))
    with pytest.raises(RuntimeError, match=r"interpolate: scale_factor must be finite\. Got scale_factor=nan"):
        F.interpolate(cnnlab.zeros(1, 1, 4, 4), scale_factor=float("nan"))


@pytest.mark.parametrize("shape", [(0, 3, 4, 4), (2, 3, 0, 4)])
def test_batchnorm_module_on_empty_input_matches_torch(shape):
    """Training and evaluation: an empty output, running statistics untouched, num_batches_tracked counted,
    zero gradients for weight and bias, exactly as PyTorch."""
    seen = []
    for lib in (torch, cnnlab):
        bn = lib.nn.BatchNorm2d(3)
        with lib.no_grad():
            bn.running_mean += 0.5
        x = lib.zeros(*shape, requires_grad=True)
        y = bn(x)
        y.sum().backward()
        row = [tuple(y.shape), bn.running_mean.tolist(), bn.running_var.tolist(), int(bn.num_batches_tracked),
               bn.weight.grad.tolist(), bn.bias.grad.tolist(), tuple(x.grad.shape)]
        bn.eval()
        row += [tuple(bn(lib.zeros(*shape)).shape), bn.running_mean.tolist()]
        seen.append(row)
    assert seen[1] == seen[0]
