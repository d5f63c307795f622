"""The process switches (cnnlab/_switches.py): set_num_threads/get_num_threads, use_deterministic_algorithms,
set_printoptions, compile, autocast and testing.assert_close against PyTorch."""
import numpy as np
import pytest

import cnnlab
from cnnlab.kernels import parallel

torch = pytest.importorskip("torch")


@pytest.fixture
def restore_settings():
    threads = parallel._threads
    yield
    parallel.set_num_threads(threads)
    cnnlab.set_printoptions(profile="default")
    cnnlab.use_deterministic_algorithms(False)


def test_num_threads_round_trip_and_reach_the_kernels(restore_settings):
    for n in (1, 3, 2):
        cnnlab.set_num_threads(n)
        assert cnnlab.get_num_threads() == parallel.num_threads() == n
    blas = parallel._find_blas()
    if blas:
        assert blas[0]() == 2
    with pytest.raises(ValueError, match=r"set_num_threads: the number of threads must be a positive int. Got 0"):
        cnnlab.set_num_threads(0)
    with pytest.raises(RuntimeError):
        torch.set_num_threads(0)


def test_deterministic_flag(restore_settings):
    for lib in (cnnlab, torch):
        lib.use_deterministic_algorithms(True)
        assert lib.are_deterministic_algorithms_enabled() and not lib.is_deterministic_algorithms_warn_only_enabled()
        lib.use_deterministic_algorithms(True, warn_only=True)
        assert lib.is_deterministic_algorithms_warn_only_enabled()
        lib.use_deterministic_algorithms(False)
        assert not lib.are_deterministic_algorithms_enabled()
    for lib in (cnnlab, torch):
        with pytest.raises(TypeError):
            lib.use_deterministic_algorithms("yes")


PRINT_DATA = [np.array([1.23456789, 2.0, -3.5]), np.array([1e-5, 1.0, 300.0]), np.array([1.0, 2.0, 3.0]),
              np.arange(2000.0).reshape(40, 50) / 7, np.array([[1.5, 2.25], [3.125, 4.0]]), np.linspace(0, 1, 30),
              np.array(3.14159), np.array([1e10, 1.0]), np.arange(30).reshape(5, 6), np.arange(2000.0) / 3]
PRINT_SETTINGS = [dict(precision=2), dict(precision=6), dict(sci_mode=True), dict(sci_mode=False),
                  dict(threshold=5), dict(edgeitems=1, threshold=10), dict(edgeitems=2, threshold=20, precision=1),
                  dict(profile="short"), dict(profile="full"), dict(linewidth=120), dict(precision=3, sci_mode=True),
                  dict(linewidth=40), dict(edgeitems=0, threshold=10)]


@pytest.mark.parametrize("settings", PRINT_SETTINGS, ids=[str(s) for s in PRINT_SETTINGS])
def test_set_printoptions_matches_torch(settings, restore_settings):
    try:
        for lib in (cnnlab, torch):
            lib.set_printoptions(**settings)
        for x in PRINT_DATA:
            assert repr(cnnlab.tensor(x)).replace("cnnlab", "torch") == repr(torch.tensor(x))
    finally:
        torch.set_printoptions(profile="default")
    assert cnnlab.get_printoptions()["sci_mode"] == settings.get("sci_mode")


LAYOUT_DATA = [np.arange(24).reshape(2, 3, 4), np.arange(5000).reshape(10, 500) - 2500, np.array([True, False]),
               np.arange(3000.0).reshape(3, 10, 100) * 1e-3, np.array([np.nan, 1.5, -np.inf, 0.0]),
               np.random.default_rng(0).standard_normal((2, 2, 3, 40)), np.arange(1001.0), np.array([[1e-8, 1.0]]),
               np.ones((1, 1, 1, 1)), np.array([-1.0, 10.0, 100.0]), np.array(-0.5), np.array(7)]


@pytest.mark.parametrize("k", range(len(LAYOUT_DATA)))
def test_default_layout_matches_torch(k):
    x = LAYOUT_DATA[k]
    for dtype in (None, "float32") if x.dtype.kind == "f" else (None,):
        c = cnnlab.tensor(x, dtype=getattr(cnnlab, dtype) if dtype else None)
        t = torch.tensor(x, dtype=getattr(torch, dtype) if dtype else None)
        assert repr(c).replace("cnnlab", "torch") == repr(t)


def test_printoptions_reset_and_errors(restore_settings):
    cnnlab.set_printoptions(precision=1)
    cnnlab.set_printoptions(profile="default")
    assert repr(cnnlab.tensor([1.23456])) == "tensor([1.2346])"
    with pytest.raises(ValueError, match="set_printoptions: profile must be 'default', 'short' or 'full'. Got 'x'"):
        cnnlab.set_printoptions(profile="x")
    with pytest.raises(ValueError, match="set_printoptions: precision must be a non-negative number. Got precision=-1"):
        cnnlab.set_printoptions(precision=-1)


CLOSE_CASES = [
    lambda lib: ([lib.tensor([1.0, 2.0, 3.0]), lib.tensor([1.0, 2.5, 3.0])], {}),
    lambda lib: ([lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0, 3.0])], {}),
    lambda lib: ([lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0], dtype=lib.float64)], {}),
    lambda lib: ([lib.tensor([1, 2]), lib.tensor([1, 3])], {}),
    lambda lib: ([1.0, 1.5], {}),
    lambda lib: ([lib.tensor([1.0, float("nan")]), lib.tensor([1.0, float("nan")])], {}),
    lambda lib: ([lib.tensor([[1.0, 2.0], [3.0, 4.0]]), lib.tensor([[1.0, 2.0], [3.0, 4.1]])], dict(msg="custom")),
    lambda lib: ([[lib.tensor(1.0)], [lib.tensor(2.0)]], {}),
    lambda lib: ([{"a": lib.tensor(1.0)}, {"a": lib.tensor(1.5)}], {}),
    lambda lib: ([lib.tensor([0.0, 0.0]), lib.tensor([0.0, 1.0])], {}),
    lambda lib: ([lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.1], dtype=lib.float64)], dict(check_dtype=False)),
    lambda lib: ([lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.01])], dict(rtol=0.0, atol=0.001)),
    lambda lib: ([lib.tensor([True, False]), lib.tensor([True, True])], {}),
    lambda lib: ([lib.tensor(2), lib.tensor(3)], {}),
    lambda lib: ([lib.tensor([1.0, float("inf")]), lib.tensor([1.0, float("inf")])], {}),
    lambda lib: ([lib.tensor([1.0, float("nan")]), lib.tensor([1.0, float("nan")])], dict(equal_nan=True)),
    lambda lib: ([lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0 + 1e-6])], {}),
    lambda lib: ([lib.tensor([1.0, 2.0], dtype=lib.float64), lib.tensor([1.0, 2.0 + 1e-6], dtype=lib.float64)], {}),
    lambda lib: ([(lib.tensor([1.0]), 2), (lib.tensor([1.0]), 3)], {}),
    lambda lib: ([[1, 2], [1, 2, 3]], {}),
]


def _outcome(lib, case):
    args, kwargs = case(lib)
    try:
        lib.testing.assert_close(*args, **kwargs)
    except AssertionError as e:
        return "AssertionError", str(e).replace("cnnlab", "torch")
    return None


@pytest.mark.parametrize("k", range(len(CLOSE_CASES)))
def test_assert_close_matches_torch(k):
    assert _outcome(cnnlab, CLOSE_CASES[k]) == _outcome(torch, CLOSE_CASES[k])


def test_assert_close_argument_errors():
    for lib in (cnnlab, torch):
        with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted, but got "
                                             "no atol."):
            lib.testing.assert_close(lib.ones(1), lib.ones(1), rtol=1e-3)
        with pytest.raises(TypeError, match="No comparison pair was able to handle inputs of type"):
            lib.testing.assert_close(lib.ones(2), [1.0, 1.0])
        lib.testing.assert_close(lib.nn.Parameter(lib.ones(2)), lib.ones(2))
        lib.testing.assert_close(lib.ones(2), lib.ones(2), msg=lambda m: "never used")
    with pytest.raises(AssertionError, match="^wrapped: Tensor-likes are not close!"):
        cnnlab.testing.assert_close(cnnlab.ones(2), cnnlab.zeros(2), msg=lambda m: "wrapped: " + m)


def test_memory_formats_are_accepted_like_torch():
    for lib in (cnnlab, torch):
        x = lib.ones(2, 3, 4, 5)
        for fmt in (lib.contiguous_format, lib.preserve_format, lib.channels_last):
            assert isinstance(fmt, lib.memory_format)
            assert lib.zeros_like(x, memory_format=fmt).shape == x.shape
        assert x.to(memory_format=lib.channels_last).shape == x.shape
        assert x.contiguous(memory_format=lib.channels_last).shape == x.shape
        assert isinstance(lib.channels_last_3d, lib.memory_format)
    assert repr(cnnlab.channels_last) == "cnnlab.channels_last" and repr(torch.channels_last) == "torch.channels_last"


def test_compile_and_autocast_run_code_written_for_torch():
    model = cnnlab.nn.Linear(3, 2)
    assert cnnlab.compile(model) is model and cnnlab.compile(mode="reduce-overhead")(model) is model

    @cnnlab.compile
    def double(x):
        return x * 2
    assert double(cnnlab.ones(1)).tolist() == [2.0]
    x = cnnlab.ones(2, 3)
    with cnnlab.autocast(device_type="cpu", enabled=False):
        assert cnnlab.equal(model(x), model(x))
    cnnlab._switches.autocast._warned = False
    with pytest.warns(UserWarning, match="autocast: cnnlab does not emulate mixed precision"):
        with cnnlab.autocast("cpu", dtype=cnnlab.float16):
            assert model(x).dtype == cnnlab.float32

    @cnnlab.autocast("cpu", enabled=False)
    def run(t):
        return model(t)
    assert run(x).shape == (2, 2)
    with pytest.raises(ValueError, match="autocast: device_type must be a device name"):
        cnnlab.autocast("tpu-x")


@pytest.mark.parametrize("kwargs", [{"mode": "fastest"}, {"mode": 3}, {"mode": "default", "options": {}},
                                    {"mode": "max-autotune", "options": {"a": 1}, "disable": True}])
def test_compile_rejects_the_settings_torch_rejects(kwargs):
    model, torch_model = cnnlab.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    rule = ("mode and options cannot both be given" if "options" in kwargs else
            r"mode must be one of default, lite, reduce-overhead, max-autotune-no-cudagraphs, max-autotune")
    with pytest.raises(RuntimeError):
        torch.compile(torch_model, **kwargs)
    with pytest.raises(RuntimeError):  # as a decorator, once applied
        torch.compile(**kwargs)(torch_model)
    for apply in (lambda: cnnlab.compile(model, **kwargs), lambda: cnnlab.compile(**kwargs)(model)):
        with pytest.raises(ValueError, match=rf"compile: {rule}.* Got mode={kwargs['mode']!r}"):
            apply()
        with pytest.raises(RuntimeError):
            apply()


@pytest.mark.parametrize("mode", ["default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs",
                                  "max-autotune"])
def test_compile_accepts_every_torch_mode(mode):
    model = cnnlab.nn.Linear(2, 2)
    torch.compile(torch.nn.Linear(2, 2), mode=mode)  # no error there either
    assert cnnlab.compile(model, mode=mode) is model


def test_compile_checks_the_mode_only_for_inductor_and_takes_options_alone():
    model = cnnlab.nn.Linear(2, 2)
    torch.compile(torch.nn.Linear(2, 2), mode="fastest", backend="eager")
    assert cnnlab.compile(model, mode="fastest", backend="eager") is model
    assert cnnlab.compile(model, options={"trace.enabled": False}) is model


@pytest.mark.parametrize("model", [3, "model"])
def test_compile_rejects_what_is_not_callable(model):
    with pytest.raises(AssertionError, match="A callable function is expected"):
        torch.compile(model)
    with pytest.raises(TypeError, match=rf"compile: model must be callable \(a Module or function\). Got "
                                        rf"{type(model).__name__}: {model!r}"):
        cnnlab.compile(model)
    with pytest.raises(AssertionError):
        cnnlab.compile(fullgraph=True)(model)
