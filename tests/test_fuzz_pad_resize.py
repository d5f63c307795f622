"""Fuzz against PyTorch (see test_fuzz_helpers.py): F.pad in every mode and rank with negative pads, F.unfold /
F.fold, F.interpolate in every mode with size or scale_factor, align_corners, recompute_scale_factor, antialias.
Where PyTorch's own answer is wrong or undefined (its bugs, listed at each place), cnnlab is checked another way.
"""
import numpy as np
from oracle import PT, torch
from test_fuzz_helpers import as_tuple, compare, fuzz, hypothesis, input_shape, log, per_dim, st, uniform


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
    value = draw(st.sampled_from([None, 0.0, 2.5])) if mode == "constant" or draw(st.integers(0, 9)) == 0 else None
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
    log("test_fuzz_pad", cfg)
    mode, shape, pad = cfg["mode"], cfg["shape"], cfg["pad"]
    undefined = mode == "circular" and len(pad) // 2 <= len(shape) and _circular_undefined(shape, pad)
    out_shape = list(shape)
    for i in range(min(len(pad) // 2, len(shape))):
        out_shape[-1 - i] += pad[2 * i] + pad[2 * i + 1]
    empty = min(out_shape) == 0  # PyTorch's reflect gradient of an empty result is uninitialised memory
    kwargs = {"mode": mode} if cfg["value"] is None else {"mode": mode, "value": cfg["value"]}
    compare(lambda lib, x: lib.F.pad(x, pad, **kwargs), uniform(cfg["seed"], *shape), grads=not empty,
            cnnlab_must_reject=undefined, seed=cfg["seed"])


# ---- F.unfold / F.fold (PyTorch: 4-d images, unbatched 3-d) -----------------------------------------------
@st.composite
def fold_configs(draw):
    return dict(kernel=per_dim(draw, 2, 1, 4), dilation=per_dim(draw, 2, 1, 3), padding=per_dim(draw, 2, 0, 2),
                stride=per_dim(draw, 2, 1, 3), spatial=tuple(draw(st.integers(1, 8)) for _ in range(2)),
                batch=draw(st.sampled_from([None, 1, 2])), channels=draw(st.integers(1, 3)),
                fold=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@fuzz
@hypothesis.given(fold_configs())
def test_fuzz_unfold_fold(cfg):
    log("test_fuzz_unfold_fold", cfg)
    args = dict(kernel_size=cfg["kernel"], dilation=cfg["dilation"], padding=cfg["padding"], stride=cfg["stride"])
    x = uniform(cfg["seed"], *input_shape(cfg, cfg["channels"]))
    if compare(lambda lib, x: lib.F.unfold(x, **args), x, seed=cfg["seed"]) == "compared" and cfg["fold"]:
        cols = tuple(torch.nn.functional.unfold(torch.tensor(x), **args).shape)
        compare(lambda lib, y: lib.F.fold(y, cfg["spatial"], **args), uniform(cfg["seed"] + 1, *cols), seed=cfg["seed"])


# ---- F.interpolate ------------------------------------------------------------------------------------------
@st.composite
def interpolate_configs(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"] * 9
                                + ["cubic"]))  # sometimes an unknown mode
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
    log("test_fuzz_interpolate", cfg)
    x = uniform(cfg["seed"], cfg["batch"], 2, *cfg["spatial"])
    grads = True
    if cfg["factor"] is not None and not cfg["recompute"]:
        # Where a scale_factor other than 1 (or 2) leaves a size unchanged (or exactly doubles it), PyTorch's
        # backward copies (halves) the index while its forward does not, so its gradient is not the adjoint of
        # its forward: 'nearest' 1-d/3-d, 'bicubic', and the antialiased modes (forward copies, backward not).
        # test_resize checks cnnlab's gradient there by finite differences.
        n = len(cfg["spatial"])
        factors = as_tuple(cfg["factor"], n)
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
