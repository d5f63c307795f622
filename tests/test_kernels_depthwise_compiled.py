"""The optional numba-compiled depthwise algorithm ('depthwise_compiled', cnnlab/kernels/depthwise_compiled.py):
forced against the GEMM lowering and PyTorch (float64 values and gradients with a random upstream gradient,
float32 at its stated bound), inf and NaN as PyTorch's, threads, the switch that turns it off, and that numba is
never imported by `import cnnlab` or a network without depthwise convolutions. The tests that run the compiled
kernels skip where numba is not installed; the fuzz and non-finite suites force it too (select.ALGORITHMS)."""

import numpy as np
import pytest

import cnnlab
from cnnlab.kernels import compiled, depthwise_compiled, parallel, registry, select
from cnnlab.kernels.geometry import ConvGeometry
from fresh_process import run_python
from oracle import check, check_float32, rand
from test_kernels_conv import DEPTHWISE, _data, _functional, _run_all
from test_kernels_conv import test_transposed_conv_uses_the_same_kernels as transposed_check
from test_kernels_depthwise import CASES as PADDING_WIDER
from test_kernels_depthwise import test_padding_wider_than_the_kernel_against_torch as padding_wider_check

NAME = "depthwise_compiled"
needs_numba = pytest.mark.skipif(not compiled.available(), reason="numba is not installed (the fast extra: "
                                 "pip install numba) or CNNLAB_COMPILED=0, so the compiled kernels are off")
FLOAT32_BOUND = 1e-6    # float32 error of any output, relative to the largest |value| of the float64 result
                        # (measured 0.8-2.7e-7 on MobileNetV2 and ConvNeXt-T layers, GEMM lowering 0.9-2.1e-7)
CASES = DEPTHWISE + [
    ((2, 6, 9, 9), (6, 1, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 6),      # MobileNet's stride 2
    ((1, 4, 5, 5), (4, 1, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 4),      # no padding
    ((3, 5, 7, 7), (5, 1, 7, 7), (1, 1), ((3, 3), (3, 3)), (1, 1), 5),      # ConvNeXt's 7x7 on a 7x7 map
    ((1, 3, 40, 37), (3, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 3),    # rows longer than a vector run
    ((2, 4, 33, 35), (8, 1, 3, 3), (2, 2), ((1, 0), (0, 1)), (1, 1), 4),    # long strided rows, multiplier 2
    ((1, 3, 10, 11), (3, 1, 3, 3), (2, 2), ((0, 0), (0, 0)), (1, 1), 3),    # a last row and column no tap reads
    ((2, 2, 12, 13), (4, 1, 3, 2), (3, 3), ((0, 1), (1, 0)), (1, 1), 2),    # stride 3, multiplier 2, leftovers
]


@needs_numba
@pytest.mark.parametrize("x_shape,k,stride", [((1, 960, 7, 7), 3, 1), ((8, 144, 56, 56), 3, 2),
                                              ((1, 96, 56, 56), 7, 1), ((32, 96, 56, 56), 7, 1)])
def test_selected_for_every_depthwise_conv_and_both_gradients(x_shape, k, stride):
    """With numba it wins on MobileNetV2's and ConvNeXt-T's depthwise layers (benchmarks/NOTES.md), all three ops."""
    c = x_shape[1]
    geom = ConvGeometry.of(x_shape, (c, 1, k, k), (stride, stride), ((k // 2,) * 2,) * 2, (1, 1), c)
    assert all(select.algorithm(op, geom) == NAME for op in ("forward", "backward_input", "backward_weight"))


@needs_numba
@pytest.mark.parametrize("case", CASES)
def test_the_case_is_one_the_algorithm_supports(case):
    """Else the forced tests below would silently test the GEMM fallback."""
    with select.forced(NAME):
        assert select.explain("forward", ConvGeometry.of(*case)) == (NAME, "forced")


@needs_numba
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, FLOAT32_BOUND)])
def test_against_the_gemm_path(case, dtype, tol):
    """Forward, input gradient and weight gradient equal the GEMM lowering's (in float64), in the input's dtype."""
    x, w, g = _data(case, dtype)
    ref = _run_all("gemm", x.astype(np.float64), w.astype(np.float64), g.astype(np.float64), *case[2:])
    for got, want, what in zip(_run_all(NAME, x, w, g, *case[2:]), ref, ("forward", "input grad", "weight grad")):
        assert got.dtype == dtype and got.shape == want.shape, what
        np.testing.assert_allclose(got, want, rtol=0, atol=tol * np.abs(want).max(), err_msg=what)


@needs_numba
@pytest.mark.parametrize("case", CASES)
def test_against_torch(case):
    """Through the public API, forced: values and the gradients of input, weight and bias with a random upstream
    gradient, float64 then float32."""
    x_shape, w_shape = case[:2]
    x, w, b = rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2)
    with select.forced(NAME):
        check(_functional(case), x, w, b)
        check_float32(_functional(case), x, w, b)


@needs_numba
@pytest.mark.parametrize("case", [DEPTHWISE[0], DEPTHWISE[3], CASES[7]])
def test_transposed_conv_uses_the_same_kernels(case):
    """conv_transpose2d through the compiled kernels (its forward is their input gradient), against PyTorch."""
    transposed_check(NAME, case)


@needs_numba
@pytest.mark.parametrize("case", PADDING_WIDER, ids=[str(i) for i in range(len(PADDING_WIDER))])
def test_padding_wider_than_the_kernel_against_torch(case):
    """Padding wider than the kernel's span: phase planes with whole rows and columns of zeros, against PyTorch."""
    padding_wider_check(case, NAME)


@needs_numba
@pytest.mark.parametrize("case", [DEPTHWISE[1], CASES[-1]])
def test_empty_batch(case):
    """No images: empty outputs, a zero weight gradient (its kernel still writes every channel's sums)."""
    x, w = np.zeros((0,) + case[0][1:]), rand(*case[1])
    geom = ConvGeometry.of(x.shape, w.shape, *case[2:])
    y, dx, dw = _run_all(NAME, x, w, np.zeros(geom.y_shape), *case[2:])
    assert y.shape == geom.y_shape and dx.shape == x.shape and dw.shape == w.shape and not dw.any()


@needs_numba
def test_float32_error_on_mobilenet_and_convnext_sized_layers():
    """The stated float32 bound on realistic sizes (long sums of 49 taps), against float64 through the same kernels."""
    for case in [((1, 96, 56, 56), (96, 1, 7, 7), (1, 1), ((3, 3), (3, 3)), (1, 1), 96),
                 ((2, 144, 28, 28), (144, 1, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 144)]:
        x, w, g = _data(case, np.float32)
        ref = _run_all(NAME, x.astype(np.float64), w.astype(np.float64), g.astype(np.float64), *case[2:])
        for got, want in zip(_run_all(NAME, x, w, g, *case[2:]), ref):
            assert np.abs(got - want).max() <= FLOAT32_BOUND * np.abs(want).max()


@needs_numba
@pytest.mark.parametrize("threads", [1, 3])
def test_threads_split_the_planes_without_changing_the_result(threads, monkeypatch):
    """Each thread computes whole planes (channels for the weight gradient): the same numbers on any count."""
    case = CASES[-1]
    x, w, g = _data(case)
    ref = _run_all(NAME, x, w, g, *case[2:])
    monkeypatch.setattr(depthwise_compiled, "THREADED_MACS", 0)     # a case this small runs in one thread else
    calls = []
    real_run = parallel.run
    monkeypatch.setattr(parallel, "run", lambda fn, items, threads=None: (calls.append(len(items)),
                                                                           real_run(fn, items, threads))[1])
    parallel.set_num_threads(threads)
    try:
        for got, want in zip(_run_all(NAME, x, w, g, *case[2:]), ref):
            np.testing.assert_array_equal(got, want)
    finally:
        parallel.set_num_threads(None)
    assert calls == [min(threads, 8), min(threads, 4), min(threads, 2)]   # planes, input planes, channels


@needs_numba
def test_inf_weight_over_the_padding_gives_nan_as_torch():
    """The padding zeros are multiplied like PyTorch's (0 * inf = NaN): the forward is exact (exact_forward), so
    kernels/conv.py returns it without a check and it must not skip the padding."""
    import torch
    x, w = rand(1, 2, 4, 4), rand(2, 1, 3, 3, seed=1)
    w[0, 0, 0, 0] = np.inf
    with select.forced(NAME):
        got = cnnlab.nn.functional.conv2d(cnnlab.tensor(x), cnnlab.tensor(w), padding=1, groups=2).numpy()
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1, groups=2).numpy()
    assert np.isnan(want).any() and np.isinf(want).any() and np.isfinite(want).any()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)   # NaN and signed inf where torch has them


def test_float16_goes_to_the_numpy_algorithm():
    """A dtype the kernels are not compiled for runs kernels/depthwise.py, checked (the algorithm declares itself
    exact); this runs with or without numba."""
    case = DEPTHWISE[0]
    x, w, g = (a.astype(np.float16) for a in _data(case))
    geom = ConvGeometry.of(*case)
    got = depthwise_compiled.forward(x, w, geom)
    want = registry.get("gemm").forward(x.astype(np.float64), w.astype(np.float64), geom)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, want, rtol=0, atol=5e-3 * np.abs(want).max())


def test_switched_off_the_numpy_algorithms_take_its_shapes():
    """With the switch off (as CNNLAB_COMPILED=0 does, or without numba) supports() is false, the selector gives
    the depthwise shapes to the NumPy algorithms, and the network still matches PyTorch."""
    geom = ConvGeometry.of(*CASES[-1])
    with compiled.disabled():
        assert not compiled.available() and not depthwise_compiled.supports(geom)
        assert all(select.algorithm(op, geom) != NAME for op in ("forward", "backward_input", "backward_weight"))
        x, w, b = rand(*CASES[0][0]), rand(*CASES[0][1], seed=1), rand(CASES[0][1][0], seed=2)
        check(_functional(CASES[0]), x, w, b)


DEPTHWISE_CONV = ("x = cnnlab.tensor(np.ones((1, 4, 8, 8), np.float32))\n"   # y[0, 0, 3, 3] = 9.0
                  "y = F.conv2d(x, cnnlab.tensor(np.ones((4, 1, 3, 3), np.float32)), padding=1, groups=4)\n")


def _run(code, **env):
    return run_python(code, timeout=300, **env)   # a cold numba cache compiles for a while


def test_import_and_a_network_without_depthwise_convs_never_import_numba():
    """`import cnnlab`, a ResNet-style conv, its inference path (conv_bn_affine: the compiled epilogue runs only
    where another kernel has loaded numba) and a training GELU stay free of numba's import (the cold-start case)."""
    out = _run("import sys, numpy as np, cnnlab, cnnlab.nn as nn, cnnlab.nn.functional as F\n"
               "from cnnlab.nn.modules.fusion import conv_bn_affine\n"
               "x = cnnlab.tensor(np.ones((1, 3, 16, 16), np.float32))\n"
               "F.conv2d(x, cnnlab.tensor(np.ones((8, 3, 3, 3), np.float32)), padding=1)\n"
               "conv, bn = nn.Conv2d(3, 8, 3, padding=1).eval(), nn.BatchNorm2d(8).eval()\n"
               "with cnnlab.no_grad():\n"
               "    conv_bn_affine(conv, bn, cnnlab.randn(2, 3, 32, 32), relu=True)\n"
               "F.gelu(cnnlab.randn(1000, requires_grad=True)).sum().backward()\n"
               "print('numba' in sys.modules)")
    assert out == ["False"]


def test_the_environment_switch_turns_it_off():
    """CNNLAB_COMPILED=0: a depthwise conv runs without importing numba, on a NumPy algorithm."""
    out = _run("import sys, numpy as np, cnnlab, cnnlab.nn.functional as F\n"
               "from cnnlab.kernels import compiled\n"
               + DEPTHWISE_CONV +
               "print('numba' in sys.modules, compiled.available(), float(y.numpy()[0, 0, 3, 3]))",
               CNNLAB_COMPILED="0")
    assert out == ["False", "False", "9.0"]


@needs_numba
def test_the_compiled_path_runs_in_a_new_process_without_warnings():
    """The first depthwise conv of a process imports numba and compiles or loads the cached kernels, with every
    warning an error (a cache directory numba cannot write makes it compile per process, not warn)."""
    out = _run("import sys, warnings, numpy as np\n"
               "warnings.simplefilter('error')\n"
               "import cnnlab, cnnlab.nn.functional as F\n"
               + DEPTHWISE_CONV +
               "print('numba' in sys.modules, float(y.numpy()[0, 0, 3, 3]))")
    assert out == ["True", "9.0"]


@needs_numba
def test_no_writable_cache_directory_compiles_per_process_without_warnings():
    """Where numba finds no directory to write its cache (a read-only install and home), the kernels are compiled
    in the process instead (kernels/jit/common.py), with every warning an error."""
    out = _run("import sys, warnings, numpy as np\n"
               "warnings.simplefilter('error')\n"
               "from numba.core import caching\n"
               "caching.CacheImpl._locator_classes = []      # as if no cache location were writable\n"
               "import cnnlab, cnnlab.nn.functional as F\n"
               "from cnnlab.kernels import compiled\n"
               + DEPTHWISE_CONV +
               "print(type(compiled.kernels().forward._cache).__name__, float(y.numpy()[0, 0, 3, 3]))")
    assert out == ["NullCache", "9.0"]


def test_numba_that_fails_to_import_falls_back_to_numpy():
    """numba found but failing at import (e.g. built for another NumPy): the first call computes with the NumPy
    algorithm (checked, as this algorithm declares itself exact) and the selector leaves it from then on."""
    out = _run("import sys, numpy as np\n"
               "sys.modules['numba'] = None                 # import numba raises ImportError\n"
               "import cnnlab, cnnlab.nn.functional as F\n"
               "from cnnlab.kernels import compiled, select\n"
               "compiled._available = True                  # as if find_spec had found it\n"
               + DEPTHWISE_CONV +
               "from cnnlab.kernels.geometry import ConvGeometry\n"
               "geom = ConvGeometry.of((1, 4, 8, 8), (4, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 4)\n"
               "print(float(y.numpy()[0, 0, 3, 3]), compiled.available(), select.algorithm('forward', geom))")
    assert out[:2] == ["9.0", "False"] and out[2] != NAME
