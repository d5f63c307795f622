"""Shared machinery of the fuzz tests (test_fuzz_conv_pool.py, test_fuzz_pad_resize.py): run one op in PyTorch
and in cnnlab on the same float64 arrays and compare values and the gradients of every input under a random
upstream gradient; where PyTorch rejects a configuration, cnnlab must reject it too, with its own
ValueError/TypeError whose message starts with the op's name (not a NumPy error, not a silent answer).

The fuzz tests are derandomized, with CNNLAB_FUZZ_EXAMPLES examples per op (default 200). To hunt for bugs, run
them alone with many more:
    CNNLAB_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz_conv_pool.py tests/test_fuzz_pad_resize.py
CNNLAB_FUZZ_RANDOM=1 draws new configurations on each run instead of the fixed sequence; CNNLAB_FUZZ_LOG=file
appends each configuration (and whether it was compared or rejected) to file before running it, to find one
that crashes the process.
"""
import os
import re

import numpy as np
import pytest
from oracle import CN, PT

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

EXAMPLES = int(os.environ.get("CNNLAB_FUZZ_EXAMPLES", "200"))
fuzz = hypothesis.settings(max_examples=EXAMPLES, derandomize=os.environ.get("CNNLAB_FUZZ_RANDOM") != "1",
                           deadline=None, database=None, print_blob=True,
                           suppress_health_check=list(hypothesis.HealthCheck))
ERROR_MESSAGE = re.compile(r"^[A-Za-z_][\w.]*: ")  # DESIGN.md: "<op>: <rule>. Got ..."
LOG = os.environ.get("CNNLAB_FUZZ_LOG")  # a file that gets each configuration before it runs (PyTorch can abort)


def log(name, cfg):
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
        with np.errstate(invalid="ignore"):  # a -inf output (a max pool window in the padding) sums to NaN
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
            log("  rejected", torch_error)
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
    log("  compared", [tuple(o.shape) for o in cn_outs])
    return "compared"


def uniform(seed, *shape, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


SPECIAL_KINDS = ("inf", "-inf", "nan", "mix")


def with_special(a, kind, seed, count=1):
    """A copy of a with `count` entries (drawn by seed) set to inf, -inf or nan, or cycling through all three
    (kind 'mix'); a itself for kind None."""
    if kind is None or a.size == 0:
        return a
    a = a.copy()
    rng = np.random.default_rng(seed)
    values = [np.inf, -np.inf, np.nan] if kind == "mix" else [{"inf": np.inf, "-inf": -np.inf, "nan": np.nan}[kind]]
    for i in range(count):
        a[tuple(rng.integers(0, s) for s in a.shape)] = values[i % len(values)]
    return a


def per_dim(draw, n, lo, hi):
    """An int, or a tuple of n ints, each in [lo, hi]."""
    if draw(st.booleans()):
        return draw(st.integers(lo, hi))
    return tuple(draw(st.integers(lo, hi)) for _ in range(n))


def as_tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n



def input_shape(cfg, channels):
    """(batch, channels, *spatial), or (channels, *spatial) when cfg["batch"] is None (unbatched)."""
    lead = () if cfg["batch"] is None else (cfg["batch"],)
    return lead + (channels,) + cfg["spatial"]
