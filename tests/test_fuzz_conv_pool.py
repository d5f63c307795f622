"""Fuzz against PyTorch (see test_fuzz_helpers.py): conv1d/2d/3d (every padding spelling and padding_mode, groups,
depthwise, stride and dilation 1-3, even kernels, unbatched), conv_transpose1d/2d/3d, the conv layers, max pools
with return_indices and max_unpool, avg pools (ceil_mode, count_include_pad, divisor_override), lp pools,
adaptive pools. Each also with inf, -inf and NaN in its inputs (kernels/nonfinite.py): the same NaN positions
and signed infinities as PyTorch, the convs under every forced algorithm.

Extensions PyTorch lacks are compared with an independent reference instead: strided padding='same' with the
published TensorFlow rule, padding_mode on the functional convs with F.pad then conv (as torch.nn.ConvNd), max
pool padding up to half the dilated kernel with -inf padding by F.pad.
"""
import numpy as np
import pytest
from oracle import CN, torch

from cnnlab.kernels import select
from test_fuzz_helpers import (ERROR_MESSAGE, SPECIAL_KINDS, as_tuple, compare, fuzz, hypothesis, input_shape, log,
                               per_dim, st, uniform, with_special)

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # PyTorch's note


# ---- convolution --------------------------------------------------------------------------------------------
def _same_pads(size, k, s, d):
    """TensorFlow's published 'same' rule: out = ceil(in / s), total = max((out-1)*s + d*(k-1) + 1 - in, 0),
    before = total // 2 (PyTorch's own rule at stride 1)."""
    out = -(-size // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _torch_conv(n, stride, padding, dilation, groups, mode):
    """PyTorch's side: F.convNd, through F.pad first (as torch.nn.ConvNd) for a padding_mode and for the
    extensions: strided 'same', 'same_lower' (JAX: the odd pixel before), 'causal', (before, after) pairs."""
    def fn(lib, x, w, b=None):
        conv = getattr(lib.F, f"conv{n}d")
        s, d, k = as_tuple(stride, n), as_tuple(dilation, n), tuple(w.shape[2:])
        extension = (padding == "same" and max(s) > 1) or padding in ("same_lower", "causal") or \
            (isinstance(padding, tuple) and isinstance(padding[0], tuple))
        if (mode == "zeros" and not extension) or min(s) < 1 or min(d) < 1:  # (the latter: PyTorch refuses)
            return conv(x, w, b, stride, padding, dilation, groups)
        if padding in ("same", "same_lower"):
            pads = [_same_pads(x.shape[-n + i], k[i], s[i], d[i]) for i in range(n)]
            pads = [p[::-1] if padding == "same_lower" else p for p in pads]
        elif padding == "causal":
            pads = [(d[0] * (k[0] - 1), 0)]
        elif isinstance(padding, tuple) and isinstance(padding[0], tuple):
            pads = list(padding)
        elif padding == "valid":
            pads = [(0, 0)] * n
        else:
            pads = [(p, p) for p in as_tuple(padding, n)]
        flat = tuple(v for pair in reversed(pads) for v in pair)
        x = lib.F.pad(x, flat, mode="constant" if mode == "zeros" else mode)
        return conv(x, w, b, stride, 0, dilation, groups)
    return fn


@st.composite
def conv_configs(draw, transposed=False):
    n = draw(st.integers(1, 3))
    depthwise = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    per_in, per_out = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    if depthwise:
        per_in = 1
    c_in = groups * per_in + (1 if draw(st.integers(0, 19)) == 0 else 0)  # sometimes groups do not divide
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(n))
    spatial = tuple(draw(st.integers(1, 7 if n < 3 else 5)) for _ in range(n))
    batch = draw(st.sampled_from([None, 1, 2]))  # None: unbatched
    cfg = dict(n=n, groups=groups, c_in=c_in, per_in=per_in, per_out=per_out, kernel=kernel, spatial=spatial,
               batch=batch, bias=draw(st.booleans()), stride=per_dim(draw, n, 1, 3),
               dilation=per_dim(draw, n, 1, 3), seed=draw(st.integers(0, 2**16)))
    if draw(st.integers(0, 19)) == 0:  # an invalid stride or dilation
        cfg[draw(st.sampled_from(["stride", "dilation"]))] = draw(st.integers(-1, 0))
    if transposed:
        s, d = as_tuple(cfg["stride"], n), as_tuple(cfg["dilation"], n)
        cfg["padding"] = per_dim(draw, n, 0, 3)
        slack = 1 if draw(st.integers(0, 9)) == 0 else 0  # sometimes output_padding up to max(stride, dilation)
        cfg["output_padding"] = tuple(draw(st.integers(0, max(max(a, b) - 1 + slack, 0))) for a, b in zip(s, d))
    else:
        cfg["padding"] = draw(st.one_of(st.sampled_from(["same", "valid"]), st.just(None)))
        if cfg["padding"] is None:
            cfg["padding"] = per_dim(draw, n, 0, 3)
        if draw(st.integers(0, 4)) == 0:  # the extensions
            cfg["padding"] = draw(st.sampled_from(["same_lower", "causal" if n == 1 else "same_lower", "pairs"]))
            if cfg["padding"] == "pairs":
                cfg["padding"] = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(n))
        cfg["mode"] = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
        if cfg["mode"] == "zeros" and draw(st.integers(0, 24)) == 0:  # an invalid padding
            cfg["padding"] = draw(st.sampled_from([-1, (0, -2, 1)[:n], "full"]))
    return cfg


def _conv_case(cfg, n, g):
    """The conv op of a configuration for both libraries, its input arrays (x, w[, b]) and PyTorch's side."""
    x = uniform(cfg["seed"], *input_shape(cfg, cfg["c_in"]))
    w = uniform(cfg["seed"] + 1, g * cfg["per_out"], cfg["per_in"], *cfg["kernel"])
    arrays = (x, w) + ((uniform(cfg["seed"] + 2, g * cfg["per_out"]),) if cfg["bias"] else ())
    args = (cfg["stride"], cfg["padding"], cfg["dilation"], g)

    def fn(lib, x, w, b=None):
        return getattr(lib.F, f"conv{n}d")(x, w, b, *args, padding_mode=cfg["mode"])

    return fn, arrays, _torch_conv(n, *args, cfg["mode"])


@fuzz
@hypothesis.given(conv_configs())
def test_fuzz_conv(cfg):
    log("test_fuzz_conv", cfg)
    n, g = cfg["n"], cfg["groups"]
    fn, arrays, torch_fn = _conv_case(cfg, n, g)
    compare(fn, *arrays, torch_fn=torch_fn, seed=cfg["seed"])


@fuzz
@hypothesis.given(conv_configs(), st.sampled_from(select.ALGORITHMS), st.integers(0, 3))
def test_fuzz_conv_algorithms(cfg, algorithm, bigger):
    """Each of the kernels' algorithms forced (select.forced; 'gemm' where it does not support the shape), on
    configurations bent towards what it supports, up to 20 positions and 20 channels per group a side."""
    log("test_fuzz_conv_algorithms", (cfg, algorithm, bigger))
    fn, arrays, torch_fn = _algorithm_case(cfg, algorithm, bigger)
    with select.forced(algorithm):  # forward and both gradients
        compare(fn, *arrays, torch_fn=torch_fn, seed=cfg["seed"], rtol=1e-6)


@fuzz
@hypothesis.given(conv_configs(), st.sampled_from(select.ALGORITHMS), st.integers(0, 3),
                  st.sampled_from(SPECIAL_KINDS), st.sampled_from(["x", "w", "both"]), st.integers(1, 3))
def test_fuzz_conv_algorithms_nonfinite(cfg, algorithm, bigger, kind, where, count):
    """As above with inf, -inf or NaN in the input, the weight or both: PyTorch's NaN positions and signed
    infinities in the output and both gradients (kernels/nonfinite.py), under each algorithm."""
    log("test_fuzz_conv_algorithms_nonfinite", (cfg, algorithm, bigger, kind, where, count))
    fn, (x, w, *b), torch_fn = _algorithm_case(cfg, algorithm, bigger)
    x = with_special(x, kind if where != "w" else None, cfg["seed"] + 3, count)
    w = with_special(w, kind if where != "x" else None, cfg["seed"] + 4, count)
    with select.forced(algorithm):
        compare(fn, x, w, *b, torch_fn=torch_fn, seed=cfg["seed"], rtol=1e-6)


def _algorithm_case(cfg, algorithm, bigger):
    """_conv_case of cfg bent towards what `algorithm` supports."""
    n, g = cfg["n"], cfg["groups"]
    winograd = algorithm.startswith("winograd")   # F(2x2) or F(4x4)
    depthwise = algorithm in ("depthwise", "depthwise_taps", "depthwise_compiled")
    if winograd or depthwise:  # 2-d, 3x3 (winograd: stride 1)
        first = {"causal": "same_lower"}.get(cfg["padding"], cfg["padding"])
        while isinstance(first, tuple):
            first = first[0]
        n = 2
        cfg.update(n=2, kernel=(3, 3), dilation=1, padding=first, spatial=(cfg["spatial"] * 2)[:2],
                   stride=1 if winograd else as_tuple(cfg["stride"], 1)[0])
    if depthwise:
        cfg["per_in"], cfg["c_in"] = 1, g
    if algorithm == "matmul":                     # 1x1, no padding; any stride
        cfg.update(kernel=(1,) * n, padding=0)
    if algorithm == "fft":                        # any n-d kernel, padding and dilation; stride 1, groups 1
        cfg["stride"] = 1
    if winograd or algorithm == "fft":
        g, cfg["groups"], cfg["c_in"], cfg["per_in"] = 1, 1, cfg["c_in"], cfg["c_in"]
    cfg["spatial"] = tuple(s + 4 * bigger for s in cfg["spatial"])
    if bigger == 3:  # many channels: shift/nhwc/winograd take their matmul paths
        cfg["per_in"], cfg["per_out"] = (1 if depthwise else 20), 20
        cfg["c_in"] = g * cfg["per_in"]
    return _conv_case(cfg, n, g)


@fuzz
@hypothesis.given(conv_configs(transposed=True), st.sampled_from(select.ALGORITHMS),
                  st.sampled_from((None,) * 4 + SPECIAL_KINDS), st.sampled_from(["x", "w"]))
def test_fuzz_conv_transpose(cfg, algorithm, kind, where):
    """Under each forced algorithm too: conv_transpose's forward is conv's input gradient and the other way round.
    A third of the cases put inf or NaN into the input or the weight."""
    log("test_fuzz_conv_transpose", (cfg, algorithm, kind, where))
    n, g = cfg["n"], cfg["groups"]
    x = uniform(cfg["seed"], *input_shape(cfg, cfg["c_in"]))
    w = uniform(cfg["seed"] + 1, g * cfg["per_in"], cfg["per_out"], *cfg["kernel"])
    x = with_special(x, kind if where == "x" else None, cfg["seed"] + 3, 1 + cfg["seed"] % 3)
    w = with_special(w, kind if where == "w" else None, cfg["seed"] + 4, 1 + cfg["seed"] % 3)
    arrays = (x, w) + ((uniform(cfg["seed"] + 2, g * cfg["per_out"]),) if cfg["bias"] else ())

    def fn(lib, x, w, b=None):
        return getattr(lib.F, f"conv_transpose{n}d")(x, w, b, cfg["stride"], cfg["padding"], cfg["output_padding"],
                                                     g, cfg["dilation"])

    with select.forced(algorithm):
        compare(fn, *arrays, seed=cfg["seed"])


@fuzz
@hypothesis.given(conv_configs(), st.booleans())
def test_fuzz_conv_modules(cfg, transposed):
    """nn.ConvNd / nn.ConvTransposeNd built with the same arguments (PyTorch refusing a layer -> cnnlab too), the
    same weights, then forward (with a requested output_size for transposed layers) and backward."""
    log("test_fuzz_conv_modules", cfg)
    n, g = cfg["n"], cfg["groups"]
    c_in, c_out = cfg["c_in"], g * cfg["per_out"]
    if transposed:
        padding = cfg["padding"]
        while isinstance(padding, tuple) and isinstance(padding[0], tuple):  # no pairs (an extension) here
            padding = padding[0]
        padding = 1 if isinstance(padding, str) else padding
        kwargs = dict(stride=cfg["stride"], padding=padding, groups=g, bias=cfg["bias"], dilation=cfg["dilation"])
    else:
        padding = cfg["padding"]
        if (padding == "same" and max(as_tuple(cfg["stride"], n)) > 1) or padding in ("same_lower", "causal") or \
                (isinstance(padding, tuple) and isinstance(padding[0], tuple)):
            return  # an extension; test_fuzz_conv compares it with the published rule
        kwargs = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=g,
                      bias=cfg["bias"], padding_mode=cfg["mode"])
    name = f"Conv{'Transpose' if transposed else ''}{n}d"
    extra = cfg["seed"] % 3  # transposed: ask for an output_size this far above the smallest one

    def fn(lib, x, w, b=None):
        layer = getattr(lib.torch.nn, name)(c_in, c_out, cfg["kernel"], dtype=lib.torch.float64, **kwargs)
        with lib.torch.no_grad():
            layer.weight.copy_(w)
            if b is not None:
                layer.bias.copy_(b)
        if not transposed:
            return layer(x)
        small = [(i - 1) * s - 2 * p + d * (k - 1) + 1 for i, s, p, d, k in zip(
            x.shape[-n:], layer.stride, layer.padding, layer.dilation, layer.kernel_size)]
        return layer(x, output_size=[v + extra for v in small])

    w_shape = (c_in, cfg["per_out"]) if transposed else (c_out, cfg["per_in"])
    x = uniform(cfg["seed"], *input_shape(cfg, c_in))
    w = uniform(cfg["seed"] + 1, *w_shape, *cfg["kernel"]) if c_in % g == 0 else None
    if w is None:  # the layer itself must be refused
        with pytest.raises(ValueError):
            getattr(torch.nn, name)(c_in, c_out, cfg["kernel"], **kwargs)
        with pytest.raises(ValueError, match=ERROR_MESSAGE):
            getattr(CN.torch.nn, name)(c_in, c_out, cfg["kernel"], **kwargs)
        return
    arrays = (x, w) + ((uniform(cfg["seed"] + 2, c_out),) if cfg["bias"] else ())
    compare(fn, *arrays, seed=cfg["seed"])


# ---- pooling ------------------------------------------------------------------------------------------------
@st.composite
def pool_configs(draw, kind):
    n = draw(st.integers(1, 3))
    kernel, padding = per_dim(draw, n, 1, 4), per_dim(draw, n, 0, 2)
    if draw(st.integers(0, 4)):  # mostly at most half the kernel, PyTorch's limit
        padding = tuple(min(p, k // 2) for p, k in zip(as_tuple(padding, n), as_tuple(kernel, n)))
    cfg = dict(n=n, kernel=kernel, padding=padding,
               stride=draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(*[st.integers(1, 3)] * n))),
               ceil_mode=draw(st.booleans()), seed=draw(st.integers(0, 2**16)),
               spatial=tuple(draw(st.integers(1, 9 if n < 3 else 6)) for _ in range(n)),
               batch=draw(st.sampled_from([None, 1, 2])), channels=draw(st.integers(1, 3)),
               special=draw(st.sampled_from((None,) * 4 + SPECIAL_KINDS)))  # a third: inf or NaN in the input
    if kind == "max":
        cfg["dilation"] = per_dim(draw, n, 1, 3)
        cfg["unpool_size"] = draw(st.booleans())
    if kind == "avg":
        cfg["count_include_pad"] = draw(st.booleans())
        cfg["divisor_override"] = None if n == 1 else draw(st.sampled_from([None, None, 1, 3, 7]))
    if kind == "lp":
        cfg["n"] = n = draw(st.integers(1, 2)) if n == 3 and not hasattr(torch.nn.functional, "lp_pool3d") else n
        cfg["padding"] = 0  # PyTorch's lp_pool has no padding
        if n == 1:  # PyTorch's lp_pool1d multiplies by kernel_size: an int only
            cfg["kernel"] = as_tuple(cfg["kernel"], 1)[0]
        cfg["norm_type"] = draw(st.sampled_from([1, 2, 3, 1.5, 4.0]))
        cfg["positive"] = draw(st.booleans())
    if draw(st.integers(0, 24)) == 0:  # an invalid kernel_size, stride or padding
        name = draw(st.sampled_from(["kernel", "stride"] + (["padding"] if kind != "lp" else [])))
        cfg[name] = draw(st.sampled_from([0, -1] if name != "kernel" else [0]))
    return cfg


def _pool_input(cfg, low=-1.0):
    x = uniform(cfg["seed"], *input_shape(cfg, cfg["channels"]), low=low)
    return with_special(x, cfg.get("special"), cfg["seed"] + 1, 1 + cfg["seed"] % 3)


def _window_in_padding(spatial, k, s, p, d, ceil_mode):
    """Whether some window of a max pool has all its taps in the padding (PyTorch's output-size rule)."""
    if min(k + s + d) < 1 or min(p) < 0:
        return False  # refused anyway
    for size, k_, s_, p_, d_ in zip(spatial, k, s, p, d):
        out = (size + 2 * p_ - d_ * (k_ - 1) - 1 + (s_ - 1 if ceil_mode else 0)) // s_ + 1
        if ceil_mode and (out - 1) * s_ >= size + p_:
            out -= 1
        if any(all(not 0 <= o * s_ - p_ + j * d_ < size for j in range(k_)) for o in range(max(out, 0))):
            return True
    return False


@fuzz
@hypothesis.given(pool_configs("max"))
def test_fuzz_max_pool_and_unpool(cfg):
    log("test_fuzz_max_pool_and_unpool", cfg)
    n, k, s, p, d = cfg["n"], cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"]
    kt, pt, dt = as_tuple(k, n), as_tuple(p, n), as_tuple(d, n)
    if any(k_ // 2 < p_ <= (d_ * (k_ - 1) + 1) // 2 for k_, p_, d_ in zip(kt, pt, dt)) and \
            all(p_ <= (d_ * (k_ - 1) + 1) // 2 for k_, p_, d_ in zip(kt, pt, dt)):
        # Padding up to half the dilated kernel: PyTorch's max_pool1d allows it (without return_indices), its
        # other paths refuse more than half the undilated kernel; cnnlab allows it everywhere. Reference: -inf
        # padding by F.pad, then no padding.
        def torch_fn(lib, x):
            flat = tuple(v for q in reversed(pt) for v in (q, q))
            return getattr(lib.F, f"max_pool{n}d")(lib.F.pad(x, flat, value=-np.inf), k, s, 0, d)

        compare(lambda lib, x: getattr(lib.F, f"max_pool{n}d")(x, k, s, p, d), _pool_input(cfg), torch_fn=torch_fn,
                seed=cfg["seed"])
        return

    def pool(lib, x):
        return getattr(lib.F, f"max_pool{n}d")(x, k, s, p, d, cfg["ceil_mode"], return_indices=True)

    if _window_in_padding(cfg["spatial"], kt, as_tuple(s or k, n), pt, dt, cfg["ceil_mode"]):
        # A dilated window with every tap in the padding: -inf, and an index past the input that PyTorch's own
        # backward trips over (an IndexError, or an abort). cnnlab's gradient skips it; values are compared.
        compare(pool, _pool_input(cfg), grads=False, seed=cfg["seed"])
        return

    def pool_unpool(lib, x):
        y, idx = pool(lib, x)
        return y, idx, getattr(lib.F, f"max_unpool{n}d")(y, idx, k, s, p, output_size=size)

    if compare(pool, _pool_input(cfg), seed=cfg["seed"]) == "compared":
        size = cfg["spatial"] if cfg["unpool_size"] else None
        pooled = pool(CN, CN.tensor(_pool_input(cfg), False))[0].shape[-n:]
        default = [(i - 1) * s_ - 2 * p_ + k_ for i, s_, p_, k_ in zip(pooled, as_tuple(s or k, n), pt, kt)]
        # PyTorch unpools to an empty default size without checking the indices (its backward then fails).
        compare(pool_unpool, _pool_input(cfg), seed=cfg["seed"], cnnlab_must_reject=size is None and min(default) < 1)
        _check_min_pool(n, _pool_input(cfg), (k, s, p, d, cfg["ceil_mode"]), cfg["seed"])


def _check_min_pool(n, x, args, seed):
    """min_pool (beyond PyTorch) against the identity min_pool(x) == -max_pool(-x): values, indices, gradient."""
    g = np.random.default_rng(seed).standard_normal
    a, b = CN.tensor(x, True), CN.tensor(-x, True)
    y_min, i_min = getattr(CN.F, f"min_pool{n}d")(a, *args, return_indices=True)
    y_max, i_max = getattr(CN.F, f"max_pool{n}d")(b, *args, return_indices=True)
    np.testing.assert_array_equal(y_min.detach().numpy(), -y_max.detach().numpy())
    np.testing.assert_array_equal(i_min.numpy(), i_max.numpy())
    up = CN.tensor(g(tuple(y_min.shape)), False)
    (y_min * up).sum().backward()
    (y_max * up).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=0, atol=0)


@fuzz
@hypothesis.given(pool_configs("avg"))
def test_fuzz_avg_pool(cfg):
    log("test_fuzz_avg_pool", cfg)
    n = cfg["n"]
    extra = {} if n == 1 else {"divisor_override": cfg["divisor_override"]}

    def fn(lib, x):
        return getattr(lib.F, f"avg_pool{n}d")(x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["ceil_mode"],
                                               cfg["count_include_pad"], **extra)

    compare(fn, _pool_input(cfg), seed=cfg["seed"])


@fuzz
@hypothesis.given(pool_configs("lp"))
def test_fuzz_lp_pool(cfg):
    log("test_fuzz_lp_pool", cfg)
    n = cfg["n"]

    def fn(lib, x):
        return getattr(lib.F, f"lp_pool{n}d")(x, cfg["norm_type"], cfg["kernel"], cfg["stride"], cfg["ceil_mode"])

    compare(fn, _pool_input(cfg, low=0.05 if cfg["positive"] else -1.0), seed=cfg["seed"], rtol=1e-6)


@st.composite
def adaptive_configs(draw):
    n = draw(st.integers(1, 3))
    entry = st.integers(1, 8) if n == 1 else st.one_of(st.none(), st.integers(1, 8))  # PyTorch's 1-d: no None
    out = draw(st.one_of(st.integers(0, 8), st.tuples(*[entry] * n)))
    return dict(n=n, out=out, spatial=tuple(draw(st.integers(1, 9)) for _ in range(n)),
                batch=draw(st.sampled_from([None, 1, 2])), channels=draw(st.integers(1, 3)),
                kind=draw(st.sampled_from(["avg", "max"])), seed=draw(st.integers(0, 2**16)),
                special=draw(st.sampled_from((None,) * 4 + SPECIAL_KINDS)))


@fuzz
@hypothesis.given(adaptive_configs())
def test_fuzz_adaptive_pool(cfg):
    log("test_fuzz_adaptive_pool", cfg)
    n, kind = cfg["n"], cfg["kind"]

    def fn(lib, x):
        op = getattr(lib.F, f"adaptive_{kind}_pool{n}d")
        return op(x, cfg["out"], return_indices=True) if kind == "max" else op(x, cfg["out"])

    compare(fn, _pool_input(cfg), seed=cfg["seed"])
