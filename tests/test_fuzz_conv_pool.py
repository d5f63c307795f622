"""Random configurations of convolution, transposed convolution, pooling, unpooling, adaptive pooling, F.pad and
F.interpolate, compared with PyTorch: float64 values and the gradients of every input under a random upstream
gradient. Where PyTorch rejects a configuration, cnnlab must reject it too, with its own ValueError/TypeError
whose message starts with the op's name (not a NumPy error, not a silent answer).

Derandomized, with few examples per op in the suite. To hunt for bugs, run it alone with many more:
    CNNLAB_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz_conv_pool.py
(CNNLAB_FUZZ_RANDOM=1 draws new configurations on each run instead of the fixed sequence; CNNLAB_FUZZ_LOG=file
appends each configuration to file before running it, to find one that crashes the process.)

Extensions PyTorch lacks are compared with an independent reference instead: strided padding='same' with
the published TensorFlow rule, padding_mode on the functional convs with F.pad then conv, as torch.nn.ConvNd.
"""
import os
import re

import numpy as np
import pytest
from oracle import CN, PT, torch

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

EXAMPLES = int(os.environ.get("CNNLAB_FUZZ_EXAMPLES", "12"))
fuzz = hypothesis.settings(max_examples=EXAMPLES, derandomize=os.environ.get("CNNLAB_FUZZ_RANDOM") != "1",
                           deadline=None, database=None, print_blob=True,
                           suppress_health_check=list(hypothesis.HealthCheck))
ERROR_MESSAGE = re.compile(r"^[A-Za-z_][\w.]*: ")  # DESIGN.md: "<op>: <rule>. Got ..."
LOG = os.environ.get("CNNLAB_FUZZ_LOG")  # a file that gets each configuration before it runs (PyTorch can abort)


def _log(name, cfg):
    if LOG:
        with open(LOG, "a") as f:
            f.write(f"{name} {cfg!r}\n")


def _tensors(lib, arrays, grad):
    return [lib.tensor(a, g) if isinstance(a, np.ndarray) else a for a, g in zip(arrays, grad)]


def _outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _forward(lib, fn, arrays, grad):
    ts = _tensors(lib, arrays, grad)
    return ts, _outputs(fn(lib, *ts))


def _backward(lib, ts, outs, grad, seed):
    """Input gradients of sum(out * g) with a random g per differentiable output."""
    diff = [o for o in outs if getattr(o, "requires_grad", False)]
    if diff:
        rng = np.random.default_rng(seed)
        loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)), False)).sum() for o in diff)
        loss.backward()
    return [t.grad.numpy() if g and t.grad is not None else None for t, g in zip(ts, grad)]


def _numpy(outs):
    return [o.detach().numpy() for o in outs]


def compare(fn, *arrays, torch_fn=None, grads=True, cnnlab_must_reject=False, seed=0, rtol=1e-7, atol=1e-9):
    """Run torch_fn (default fn) in PyTorch and fn in cnnlab on the same float64 arrays.

    PyTorch raises -> cnnlab must raise a ValueError/TypeError with an '<op>: ' message. Otherwise outputs and
    (if grads) input gradients must match; where only PyTorch's backward fails (an empty output), cnnlab's must
    still run. cnnlab_must_reject: PyTorch's answer is undefined there (its bugs), and cnnlab refuses.
    """
    mask = [isinstance(a, np.ndarray) and a.dtype.kind == "f" and grads for a in arrays]
    torch_error = None
    try:
        pt_ts, pt_outs = _forward(PT, torch_fn or fn, arrays, mask)
    except (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError) as e:
        torch_error = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    if torch_error or cnnlab_must_reject:
        try:
            fn(CN, *_tensors(CN, arrays, mask))
        except (ValueError, TypeError) as e:
            assert ERROR_MESSAGE.match(str(e)), f"not a cnnlab error message: {type(e).__name__}: {e}"
            return "rejected"
        except Exception as e:  # noqa: BLE001 -- any other type is the failure being looked for
            raise AssertionError(f"PyTorch rejects ({torch_error}); cnnlab raised {type(e).__name__}: {e}") from e
        raise AssertionError(f"PyTorch rejects ({torch_error}); cnnlab returned a result" if torch_error else
                             "PyTorch's result is undefined here; cnnlab returned one instead of raising")
    try:
        pt_grads = _backward(PT, pt_ts, pt_outs, mask, seed)
    except RuntimeError:  # e.g. adaptive pooling to size 0: PyTorch's forward runs, its backward refuses
        pt_grads = [None] * len(arrays)
    cn_ts, cn_outs = _forward(CN, fn, arrays, mask)
    cn_grads = _backward(CN, cn_ts, cn_outs, mask, seed)
    assert len(cn_outs) == len(pt_outs)
    for i, (c, p) in enumerate(zip(_numpy(cn_outs), _numpy(pt_outs))):
        assert c.shape == p.shape, f"output {i}: cnnlab shape {c.shape}, torch {p.shape}"
        assert c.dtype == p.dtype, f"output {i}: cnnlab dtype {c.dtype}, torch {p.dtype}"
        np.testing.assert_allclose(c, p, rtol=rtol, atol=atol, err_msg=f"output {i} differs from torch")
    for i, (c, p) in enumerate(zip(cn_grads, pt_grads)):
        if p is not None:
            assert c is not None, f"input {i}: torch has a gradient, cnnlab none"
            np.testing.assert_allclose(c, p, rtol=rtol, atol=atol, err_msg=f"gradient of input {i} differs")
    return "compared"


def _rand(seed, *shape, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def _per_dim(draw, n, lo, hi):
    """An int, or a tuple of n ints, each in [lo, hi]."""
    if draw(st.booleans()):
        return draw(st.integers(lo, hi))
    return tuple(draw(st.integers(lo, hi)) for _ in range(n))


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


# ---- convolution --------------------------------------------------------------------------------------------
def _same_pads(size, k, s, d):
    """TensorFlow's published 'same' rule: out = ceil(in / s), total = max((out-1)*s + d*(k-1) + 1 - in, 0),
    before = total // 2 (PyTorch's own rule at stride 1)."""
    out = -(-size // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _torch_conv(n, stride, padding, dilation, groups, mode):
    """PyTorch's side: F.convNd, through F.pad first (as torch.nn.ConvNd) for a padding_mode or strided 'same'."""
    def fn(lib, x, w, b=None):
        conv = getattr(lib.F, f"conv{n}d")
        s, d, k = _tuple(stride, n), _tuple(dilation, n), tuple(w.shape[2:])
        strided_same = padding == "same" and max(s) > 1
        if mode == "zeros" and not strided_same:
            return conv(x, w, b, stride, padding, dilation, groups)
        if padding == "same":
            pads = [_same_pads(x.shape[-n + i], k[i], s[i], d[i]) for i in range(n)]
        elif padding == "valid":
            pads = [(0, 0)] * n
        else:
            pads = [(p, p) for p in _tuple(padding, n)]
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
               batch=batch, bias=draw(st.booleans()), stride=_per_dim(draw, n, 1, 3),
               dilation=_per_dim(draw, n, 1, 3), seed=draw(st.integers(0, 2**16)))
    if draw(st.integers(0, 19)) == 0:  # an invalid stride or dilation
        cfg[draw(st.sampled_from(["stride", "dilation"]))] = draw(st.integers(-1, 0))
    if transposed:
        s, d = _tuple(cfg["stride"], n), _tuple(cfg["dilation"], n)
        cfg["padding"] = _per_dim(draw, n, 0, 3)
        cfg["output_padding"] = tuple(draw(st.integers(0, max(max(a, b), 1))) for a, b in zip(s, d))
    else:
        cfg["padding"] = draw(st.one_of(st.sampled_from(["same", "valid"]), st.just(None)))
        if cfg["padding"] is None:
            cfg["padding"] = _per_dim(draw, n, 0, 3)
        cfg["mode"] = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    return cfg


def _shape(cfg, channels):
    lead = () if cfg["batch"] is None else (cfg["batch"],)
    return lead + (channels,) + cfg["spatial"]


@fuzz
@hypothesis.given(conv_configs())
def test_fuzz_conv(cfg):
    _log("test_fuzz_conv", cfg)
    n, g = cfg["n"], cfg["groups"]
    x = _rand(cfg["seed"], *_shape(cfg, cfg["c_in"]))
    w = _rand(cfg["seed"] + 1, g * cfg["per_out"], cfg["per_in"], *cfg["kernel"])
    arrays = (x, w) + ((_rand(cfg["seed"] + 2, g * cfg["per_out"]),) if cfg["bias"] else ())
    args = (cfg["stride"], cfg["padding"], cfg["dilation"], g)

    def fn(lib, x, w, b=None):
        return getattr(lib.F, f"conv{n}d")(x, w, b, *args, padding_mode=cfg["mode"])

    compare(fn, *arrays, torch_fn=_torch_conv(n, *args, cfg["mode"]), seed=cfg["seed"])


@fuzz
@hypothesis.given(conv_configs(transposed=True))
def test_fuzz_conv_transpose(cfg):
    _log("test_fuzz_conv_transpose", cfg)
    n, g = cfg["n"], cfg["groups"]
    x = _rand(cfg["seed"], *_shape(cfg, cfg["c_in"]))
    w = _rand(cfg["seed"] + 1, g * cfg["per_in"], cfg["per_out"], *cfg["kernel"])
    arrays = (x, w) + ((_rand(cfg["seed"] + 2, g * cfg["per_out"]),) if cfg["bias"] else ())

    def fn(lib, x, w, b=None):
        return getattr(lib.F, f"conv_transpose{n}d")(x, w, b, cfg["stride"], cfg["padding"], cfg["output_padding"],
                                                     g, cfg["dilation"])

    compare(fn, *arrays, seed=cfg["seed"])


# ---- pooling ------------------------------------------------------------------------------------------------
@st.composite
def pool_configs(draw, kind):
    n = draw(st.integers(1, 3))
    cfg = dict(n=n, kernel=_per_dim(draw, n, 1, 4), padding=_per_dim(draw, n, 0, 2),
               stride=draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(*[st.integers(1, 3)] * n))),
               ceil_mode=draw(st.booleans()), seed=draw(st.integers(0, 2**16)),
               spatial=tuple(draw(st.integers(1, 9 if n < 3 else 6)) for _ in range(n)),
               batch=draw(st.sampled_from([None, 1, 2])), channels=draw(st.integers(1, 3)))
    if kind == "max":
        cfg["dilation"] = _per_dim(draw, n, 1, 3)
        cfg["unpool_size"] = draw(st.booleans())
    if kind == "avg":
        cfg["count_include_pad"] = draw(st.booleans())
        cfg["divisor_override"] = None if n == 1 else draw(st.sampled_from([None, None, 1, 3, 7]))
    if kind == "lp":
        cfg["n"] = n = draw(st.integers(1, 2)) if n == 3 and not hasattr(torch.nn.functional, "lp_pool3d") else n
        cfg["padding"] = 0  # PyTorch's lp_pool has no padding
        if n == 1:  # PyTorch's lp_pool1d multiplies by kernel_size: an int only
            cfg["kernel"] = _tuple(cfg["kernel"], 1)[0]
        cfg["norm_type"] = draw(st.sampled_from([1, 2, 3, 1.5, 4.0]))
        cfg["positive"] = draw(st.booleans())
    return cfg


def _pool_input(cfg, low=-1.0):
    return _rand(cfg["seed"], *_shape(cfg, cfg["channels"]), low=low)


def _window_in_padding(spatial, k, s, p, d, ceil_mode):
    """Whether some window of a max pool has all its taps in the padding (PyTorch's output-size rule)."""
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
    _log("test_fuzz_max_pool_and_unpool", cfg)
    n, k, s, p, d = cfg["n"], cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"]
    kt, pt, dt = _tuple(k, n), _tuple(p, n), _tuple(d, n)
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

    if _window_in_padding(cfg["spatial"], kt, _tuple(s or k, n), pt, dt, cfg["ceil_mode"]):
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
        default = [(i - 1) * s_ - 2 * p_ + k_ for i, s_, p_, k_ in zip(pooled, _tuple(s or k, n), pt, kt)]
        # PyTorch unpools to an empty default size without checking the indices (its backward then fails).
        compare(pool_unpool, _pool_input(cfg), seed=cfg["seed"], cnnlab_must_reject=size is None and min(default) < 1)


@fuzz
@hypothesis.given(pool_configs("avg"))
def test_fuzz_avg_pool(cfg):
    _log("test_fuzz_avg_pool", cfg)
    n = cfg["n"]
    extra = {} if n == 1 else {"divisor_override": cfg["divisor_override"]}

    def fn(lib, x):
        return getattr(lib.F, f"avg_pool{n}d")(x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["ceil_mode"],
                                               cfg["count_include_pad"], **extra)

    compare(fn, _pool_input(cfg), seed=cfg["seed"])


@fuzz
@hypothesis.given(pool_configs("lp"))
def test_fuzz_lp_pool(cfg):
    _log("test_fuzz_lp_pool", cfg)
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
                kind=draw(st.sampled_from(["avg", "max"])), seed=draw(st.integers(0, 2**16)))


@fuzz
@hypothesis.given(adaptive_configs())
def test_fuzz_adaptive_pool(cfg):
    _log("test_fuzz_adaptive_pool", cfg)
    n, kind = cfg["n"], cfg["kind"]

    def fn(lib, x):
        op = getattr(lib.F, f"adaptive_{kind}_pool{n}d")
        return op(x, cfg["out"], return_indices=True) if kind == "max" else op(x, cfg["out"])

    compare(fn, _pool_input(cfg), seed=cfg["seed"])


# ---- F.pad --------------------------------------------------------------------------------------------------
@st.composite
def pad_configs(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    k = draw(st.integers(1, 3))
    ndim = draw(st.integers(k + 1, k + 2)) if mode != "constant" else draw(st.integers(k, 4))
    if draw(st.integers(0, 19)) == 0:  # a rank the mode does not support
        ndim = draw(st.integers(1, 5))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    pad = tuple(draw(st.integers(-4, 5)) for _ in range(2 * k))
    value = draw(st.sampled_from([None, 0.0, 2.5])) if mode == "constant" else None
    return dict(mode=mode, shape=shape, pad=pad, value=value, seed=draw(st.integers(0, 2**16)))


def _circular_undefined(shape, pad):
    """PyTorch's circular pad copies each wrapped strip out of the part its crop keeps: a strip longer than that
    part reads memory not yet written (garbage or an overlap error), unless the result is empty."""
    dims = [(len(shape) - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]
    out = [shape[d] + b + a for d, b, a in dims]
    kept = [shape[d] + min(b, 0) + min(a, 0) for d, b, a in dims]
    return 0 not in out and any(max(b, a) > kp for (_, b, a), kp in zip(dims, kept))


@fuzz
@hypothesis.given(pad_configs())
def test_fuzz_pad(cfg):
    _log("test_fuzz_pad", cfg)
    mode, shape, pad = cfg["mode"], cfg["shape"], cfg["pad"]
    undefined = mode == "circular" and len(pad) // 2 <= len(shape) and _circular_undefined(shape, pad)
    out_shape = list(shape)
    for i in range(min(len(pad) // 2, len(shape))):
        out_shape[-1 - i] += pad[2 * i] + pad[2 * i + 1]
    empty = min(out_shape) == 0  # PyTorch's reflect gradient of an empty result is uninitialised memory
    kwargs = {"mode": mode} if cfg["value"] is None else {"mode": mode, "value": cfg["value"]}
    compare(lambda lib, x: lib.F.pad(x, pad, **kwargs), _rand(cfg["seed"], *shape), grads=not empty,
            cnnlab_must_reject=undefined, seed=cfg["seed"])


# ---- F.interpolate ------------------------------------------------------------------------------------------
@st.composite
def interpolate_configs(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"]))
    n = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode) or draw(st.integers(1, 3))
    if draw(st.integers(0, 24)) == 0:
        n = draw(st.integers(1, 3))  # a rank the mode does not fit
    spatial = tuple(draw(st.integers(1, 8)) for _ in range(n))
    scale = st.integers(20, 350).map(lambda v: v / 100)
    if draw(st.booleans()):
        size, factor = draw(st.one_of(st.integers(1, 12), st.tuples(*[st.integers(1, 12)] * n))), None
    else:
        size, factor = None, draw(st.one_of(scale, st.sampled_from([1.0, 2.0, 0.5]), st.tuples(*[scale] * n)))
    interp = mode in ("linear", "bilinear", "bicubic", "trilinear")
    align = draw(st.sampled_from([None, False, True])) if interp or draw(st.integers(0, 19)) == 0 else None
    return dict(mode=mode, spatial=spatial, size=size, factor=factor, align=align,
                recompute=draw(st.sampled_from([None, True, False])) if factor is not None else None,
                antialias=mode in ("bilinear", "bicubic") and draw(st.booleans()),
                batch=draw(st.integers(1, 2)), seed=draw(st.integers(0, 2**16)))


@fuzz
@hypothesis.given(interpolate_configs())
def test_fuzz_interpolate(cfg):
    _log("test_fuzz_interpolate", cfg)
    x = _rand(cfg["seed"], cfg["batch"], 2, *cfg["spatial"])
    grads = True
    if cfg["factor"] is not None and not cfg["recompute"]:
        # Where a scale_factor other than 1 (or 2) leaves a size unchanged (or exactly doubles it), PyTorch's
        # backward copies (halves) the index while its forward does not, so its gradient is not the adjoint of
        # its forward: 'nearest' 1-d/3-d, 'bicubic', and the antialiased modes (forward copies, backward not).
        # test_resize checks cnnlab's gradient there by finite differences.
        n = len(cfg["spatial"])
        factors = _tuple(cfg["factor"], n)
        sizes = [int(np.floor(i * f)) for i, f in zip(cfg["spatial"], factors)]
        same = any(i == o and f != 1 for i, o, f in zip(cfg["spatial"], sizes, factors))
        double = any(o == 2 * i and f != 2 for i, o, f in zip(cfg["spatial"], sizes, factors))
        grads = not ((cfg["mode"] == "nearest" and n != 2 and (same or double)) or
                     (cfg["mode"] == "bicubic" and same) or (cfg["antialias"] and same))

    def fn(lib, x):
        return lib.F.interpolate(x, cfg["size"], cfg["factor"], cfg["mode"], cfg["align"], cfg["recompute"],
                                 cfg["antialias"])

    def transposed(lib, x):
        """PyTorch's antialiased resize is wrong when the output is 1 wide (every row repeats the first); the
        same resize of the transposed image is the reference there."""
        size = cfg["size"][::-1] if isinstance(cfg["size"], tuple) else cfg["size"]
        factor = cfg["factor"][::-1] if isinstance(cfg["factor"], tuple) else cfg["factor"]
        y = lib.F.interpolate(x.transpose(2, 3), size, factor, cfg["mode"], cfg["align"], cfg["recompute"], True)
        return y.transpose(2, 3)

    one_wide = False
    if cfg["antialias"] and len(cfg["spatial"]) == 2:
        try:
            one_wide = fn(PT, torch.tensor(x)).shape[-1] == 1
        except (RuntimeError, ValueError):
            pass
    compare(fn, x, grads=grads, seed=cfg["seed"], torch_fn=transposed if one_wide else None)
