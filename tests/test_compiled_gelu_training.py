"""The training GELU's compiled loops (kernels/jit/activation.py gelu with Phi kept, gelu_grad), which
nn/functional/_activation_f32.py runs where an earlier kernel loaded numba (ConvNeXt's depthwise convs): the float32
suite of tests/nn/test_activation_float32.py (error within PyTorch's own float32 error against float64, specials,
layouts) on the compiled path and on the NumPy path, the path asserted; the compiled gradient against the NumPy
one; and that a GELU alone never imports numba."""
import contextlib
import importlib.util
import pathlib

import numpy as np
import pytest

from cnnlab.kernels import compiled
from cnnlab.nn.functional import _activation_f32
from test_kernels_depthwise_compiled import needs_numba

_spec = importlib.util.spec_from_file_location(
    "activation_float32_suite", pathlib.Path(__file__).parent / "nn" / "test_activation_float32.py")
suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(suite)


@pytest.fixture
def jit_calls(monkeypatch):
    """The names of the compiled GELU kernels called (the kernels module loaded first)."""
    module, seen = compiled.kernels("activation"), []
    for name in ("gelu", "gelu_grad"):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name: seen.append(_name) or _real(*a))
    return seen


@needs_numba
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("path", ["compiled", "numpy"])
def test_float32_suite_on_both_paths(path, jit_calls):
    with compiled.disabled() if path == "numpy" else contextlib.nullcontext():
        suite.test_float32_error_within_torch_float32_error("gelu")
        suite.test_float32_specials_match_torch("gelu")
        for make in suite.test_float32_layouts_match_torch.pytestmark[0].args[1]:
            suite.test_float32_layouts_match_torch("gelu", make)
    assert (set(jit_calls) == {"gelu", "gelu_grad"}) == (path == "compiled") and (path == "compiled" or not jit_calls)


@needs_numba
def test_compiled_gradient_is_the_numpy_one_up_to_its_rounding(jit_calls):
    """Both compute in float64 and round once: they differ by at most one float32 rounding step."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(300_001) * 4, np.linspace(-40, 40, 9999)]).astype(np.float32)
    g = rng.standard_normal(x.size).astype(np.float32)
    _, cdf = _activation_f32.gelu(x)
    got = _activation_f32.gelu_grad(g, x, cdf)
    with compiled.disabled():
        want = _activation_f32.gelu_grad(g, x, cdf)
    assert set(jit_calls) == {"gelu", "gelu_grad"}                  # gelu: once a block
    assert (np.abs(got - want) <= np.spacing(np.abs(want))).all()

