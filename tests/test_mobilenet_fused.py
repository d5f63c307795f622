"""MobileNetV2's inference path (models/mobilenetv2.py -> nn/modules/fusion.py conv_bn_affine(max_val=6) ->
nn/functional/conv_affine.py -> kernels/epilogue.py, or the compiled depthwise loops' own epilogue): the whole model
and its blocks against torchvision in float64 (compiled kernels on and off), float32 within its bound, the path
asserted; the op's ReLU6 clamp against PyTorch with and without a graph; inf and NaN through the compiled epilogue;
and every case that must keep the layers (a graph, hooks, training mode, replaced layers, an ONNX trace)."""
import contextlib

import numpy as np
import pytest

import cnnlab
import cnnlab.models.mobilenetv2 as mv
from cnnlab.kernels import compiled, depthwise_compiled, epilogue, parallel, select
from cnnlab.kernels.geometry import ConvGeometry
from cnnlab.nn.functional.conv_affine import conv2d_affine
from test_kernels_depthwise_compiled import FLOAT32_BOUND, needs_numba
from test_resnet_fused import _twins, check_float32_rounding, check_hooks_and_training_keep_the_layers
from tv import torch, tvm

SWITCH = {"compiled": contextlib.nullcontext, "numpy": compiled.disabled}   # compiled: where numba is installed


@pytest.fixture
def calls(monkeypatch):
    """The (conv's groups, residual given, relu, max_val) of every conv_bn_affine call the MobileNetV2 code makes."""
    seen = []
    real = mv.conv_bn_affine

    def spy(conv, bn, x, residual=None, relu=False, max_val=None):
        seen.append((conv.groups, residual is not None, relu, max_val))
        return real(conv, bn, x, residual=residual, relu=relu, max_val=max_val)

    monkeypatch.setattr(mv, "conv_bn_affine", spy)
    return seen


def _model_pair(dtype="float64", **kwargs):
    return _twins(lambda: tvm.mobilenet_v2(num_classes=10, **kwargs), lambda: mv.mobilenet_v2(num_classes=10, **kwargs),
                  dtype, seed=3)


@pytest.mark.parametrize("switch", list(SWITCH))
@pytest.mark.parametrize("batch,size", [(1, 64), (3, 45)])
def test_whole_model_in_float64_matches_torchvision(batch, size, switch, calls):
    model, ref = _model_pair()
    x = np.random.default_rng(batch).standard_normal((batch, 3, size, size))
    with SWITCH[switch](), cnnlab.no_grad():
        out = model(cnnlab.tensor(x)).numpy()
    with torch.no_grad():
        expected = ref(torch.tensor(x)).numpy()
    assert len(calls) == sum(isinstance(m, cnnlab.nn.Conv2d) for m in model.modules()) == 52
    assert sum(c[1] for c in calls) == 10 and all(c[3] == (6.0 if c[2] else None) for c in calls)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


def test_whole_model_in_float32_within_float32_rounding(calls):
    model, ref = _model_pair("float32", width_mult=0.5)
    check_float32_rounding(model, ref, np.random.default_rng(4).standard_normal((2, 3, 64, 64)).astype(np.float32))
    assert len(calls) == 52


BLOCKS = {  # (inp, oup, stride, expand_ratio): (residual, relu) of each conv_bn_affine call
    "expand-skip": ((8, 8, 1, 6), [(False, True), (False, True), (True, False)]),
    "expand-stride2": ((8, 16, 2, 6), [(False, True), (False, True), (False, False)]),
    "no-expand": ((8, 16, 1, 1), [(False, True), (False, False)]),
}


@pytest.mark.parametrize("switch", list(SWITCH))
@pytest.mark.parametrize("kind", list(BLOCKS))
def test_blocks_match_torchvision_in_float64(kind, switch, calls):
    args, expected_calls = BLOCKS[kind]
    block, ref = _twins(lambda: tvm.mobilenetv2.InvertedResidual(*args), lambda: mv.InvertedResidual(*args))
    x = np.random.default_rng(5).standard_normal((2, args[0], 11, 9)) * 3     # values past ReLU6's 6
    with SWITCH[switch](), cnnlab.no_grad():
        out = block(cnnlab.tensor(x)).numpy()
    assert [c[1:3] for c in calls] == expected_calls
    with torch.no_grad():
        np.testing.assert_allclose(out, ref(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)


def test_layers_run_where_the_fused_path_would_hide_something(calls):
    block, ref = _twins(lambda: tvm.mobilenetv2.InvertedResidual(8, 8, 1, 6), lambda: mv.InvertedResidual(8, 8, 1, 6))
    x = np.random.default_rng(6).standard_normal((2, 8, 6, 6)) * 3
    y = block(cnnlab.tensor(x))                        # eval, parameters requiring grad: a graph is recorded
    assert y.requires_grad and calls == []
    g = np.random.default_rng(7).standard_normal(y.shape)
    (y * cnnlab.tensor(g)).sum().backward()
    ref(torch.tensor(x)).backward(torch.tensor(g))
    for ours, theirs in ((block.conv[1][0], ref.conv[1][0]), (block.conv[0][0], ref.conv[0][0])):
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    check_hooks_and_training_keep_the_layers(block, x, (block.conv, block.conv[0], block.conv[1][2], block.conv[2],
                                                        block.conv[3]), calls)
    assert block.conv[3].num_batches_tracked.item() == 1
    with torch.no_grad():
        ref.train()(torch.tensor(x))                   # the same running statistics on both sides
    block.eval(), ref.eval()
    block.conv[1][2] = cnnlab.nn.Hardtanh(0.0, 6.0)    # not an exact ReLU6: the layers run
    with cnnlab.no_grad():
        block(cnnlab.tensor(x))
    assert calls == []
    block.conv[1][2] = cnnlab.nn.ReLU6()
    block.conv[1][2].max_val = 4.0                     # a changed bound is the one applied
    with cnnlab.no_grad():
        out = block(cnnlab.tensor(x)).numpy()
    ref.conv[1][2].max_val = 4.0
    with torch.no_grad():
        np.testing.assert_allclose(out, ref(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)
    assert [c[3] for c in calls] == [6.0, 4.0, None]
    with cnnlab.no_grad():
        assert block(cnnlab.zeros(0, 8, 6, 6, dtype=cnnlab.float64)).shape == (0, 8, 6, 6)  # empty: the layers


@pytest.mark.parametrize("part,fused", [("features", 50), ("stem", 51), ("last", 51)])
def test_a_hook_on_the_features_their_stem_or_last_layer_fires(part, fused, calls):
    model, ref = _model_pair(width_mult=0.25)
    x = np.random.default_rng(8).standard_normal((1, 3, 32, 32))
    seen = []
    {"features": model.features, "stem": model.features[0], "last": model.features[-1]}[part] \
        .register_forward_hook(lambda *_: seen.append(part))
    with cnnlab.no_grad():
        out = model(cnnlab.tensor(x)).numpy()
    assert seen == [part] and len(calls) == fused                # the inverted residuals still decide alone
    with torch.no_grad():
        np.testing.assert_allclose(out, ref(torch.tensor(x)).numpy(), rtol=1e-10, atol=1e-10)


def test_a_skip_block_ending_in_a_clamp_and_a_relu6_not_from_0_keep_the_layers(calls):
    block = mv.InvertedResidual(8, 8, 1, 1).eval()
    block.conv = cnnlab.nn.Sequential(block.conv[0])            # the skip would come after the ReLU6: layers
    x = cnnlab.randn(2, 8, 6, 6) * 3
    with cnnlab.no_grad():
        np.testing.assert_array_equal(block(x).numpy(), (x + block.conv(x)).numpy())
    assert calls == []
    block, ref = _twins(lambda: tvm.mobilenetv2.InvertedResidual(8, 8, 1, 6), lambda: mv.InvertedResidual(8, 8, 1, 6))
    block.conv[0][2].min_val = ref.conv[0][2].min_val = -1.0   # not a ReLU6 any more: conv_bn_affine clamps at 0
    x = np.random.default_rng(9).standard_normal((2, 8, 6, 6)) * 3
    with cnnlab.no_grad():
        out = block(cnnlab.tensor(x)).numpy()
    assert calls == []
    with torch.no_grad():
        np.testing.assert_allclose(out, ref(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)


def test_onnx_export_traces_the_layers(calls, tmp_path):
    onnx = pytest.importorskip("onnx")
    from cnnlab.onnx import export
    model = mv.mobilenet_v2(num_classes=4, width_mult=0.25).eval()
    with cnnlab.no_grad():
        export(model, cnnlab.randn(1, 3, 32, 32), str(tmp_path / "m.onnx"))
    ops = [n.op_type for n in onnx.load(str(tmp_path / "m.onnx")).graph.node]
    assert calls == [] and ops.count("Conv") == ops.count("BatchNormalization") == 52 and ops.count("Clip") == 35


# ---- the op's ReLU6 clamp ----------------------------------------------------------------------------------------
CASES = [  # (x shape, w shape, stride, padding, groups): MobileNetV2's three kinds of convolution
    ((2, 4, 9, 7), (12, 4, 1, 1), 1, 0, 1),
    ((2, 6, 9, 9), (6, 1, 3, 3), 2, 1, 6),
    ((1, 5, 8, 7), (5, 1, 3, 3), 1, 1, 5),
    ((1, 3, 15, 15), (8, 3, 3, 3), 2, 1, 1),
    ((2, 3, 8, 8), (6, 1, 3, 3), 1, 1, 3),      # a depthwise conv with a channel multiplier of 2
]


@pytest.mark.parametrize("switch", list(SWITCH))
@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[0])))
def test_conv2d_affine_relu6_matches_torch_with_and_without_a_graph(case, switch):
    xs, ws, stride, padding, groups = case
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal(xs) * 2, rng.standard_normal(ws)
    t = rng.standard_normal(ws[0])
    tx, tw, tt = (torch.tensor(v, requires_grad=True) for v in (x, w, t))
    y = torch.nn.functional.relu6(torch.nn.functional.conv2d(tx, tw, None, stride, padding, 1, groups) +
                                  tt[:, None, None])
    expected = y.detach().numpy()
    assert (expected == 6).any() and (expected == 0).any()
    with SWITCH[switch](), cnnlab.no_grad():
        out = conv2d_affine(cnnlab.tensor(x), cnnlab.tensor(w), None, cnnlab.tensor(t), stride, padding, 1, groups,
                            relu=True, max_val=6.0)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    xc, wc, tc = (cnnlab.tensor(v, requires_grad=True) for v in (x, w, t))
    out = conv2d_affine(xc, wc, None, tc, stride, padding, 1, groups, relu=True, max_val=6.0)
    g = rng.standard_normal(out.shape)
    (out * cnnlab.tensor(g)).sum().backward()
    y.backward(torch.tensor(g))
    for ours, theirs in ((xc, tx), (wc, tw), (tc, tt)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_max_val_needs_relu():
    with pytest.raises(ValueError, match=r"conv2d_affine: max_val clamps after the ReLU and needs relu=True\. "
                                         r"Got relu=False, max_val=6\.0\."):
        conv2d_affine(cnnlab.randn(1, 2, 4, 4), cnnlab.randn(2, 1, 3, 3), groups=2, max_val=6.0)


def test_epilogue_clamps_at_max_val_and_passes_nan():
    out = np.array([-1.0, 3.0, 7.0, np.nan, np.inf, -np.inf]).reshape(1, 1, 6)
    got = epilogue.affine(out, shift=np.array([0.5]), relu=True, max_val=6.0)
    np.testing.assert_array_equal(got.ravel(), [0.0, 3.5, 6.0, np.nan, 6.0, 0.0])


@needs_numba
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("relu,max_val", [(False, None), (True, None), (True, 6.0)])
def test_compiled_depthwise_epilogue_float32_bound_and_non_finite(relu, max_val, threads, monkeypatch):
    """The depthwise loops' own shift and clamps: float32 within the algorithm's bound of the float64 result, and
    inf and NaN (in the input, the weight and the shift) as PyTorch's composition of the layers; on one thread,
    on two (a share each), and on three (a batch of 2 below the threads: the calling thread alone)."""
    monkeypatch.setattr(depthwise_compiled, "THREADED_MACS", 0)
    monkeypatch.setattr(parallel, "_threads", threads)      # set_num_threads(threads), undone after the test
    shares, ranges = [], parallel.ranges
    monkeypatch.setattr(parallel, "ranges", lambda n, k=None: shares.append(len(ranges(n, k))) or ranges(n, k))
    rng = np.random.default_rng(9)
    x, w, t = rng.standard_normal((2, 6, 9, 9)) * 3, rng.standard_normal((6, 1, 3, 3)), rng.standard_normal(6)
    geom = ConvGeometry.of(x.shape, w.shape, (2, 2), ((1, 1), (1, 1)), (1, 1), 6)

    def reference(x, w, t):
        y = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(t), 2, 1, 1, 6)
        y = torch.relu(y) if relu else y
        return (y.clamp(max=max_val) if max_val is not None else y).numpy()

    expected = reference(x, w, t)
    got = depthwise_compiled.forward_affine(*(a.astype(np.float32) for a in (x, w)), geom, t.astype(np.float32),
                                            relu, max_val)
    assert got.dtype == np.float32 and shares[0] == (1 if threads == 3 else threads)   # _run's shares
    assert np.abs(got - expected).max() <= FLOAT32_BOUND * np.abs(expected).max()
    x[0, 1, 2, 3], x[1, 4, 0, 0], w[2, 0, 1, 1], t[5] = np.nan, np.inf, -np.inf, np.nan
    got, expected = depthwise_compiled.forward_affine(x, w, geom, t, relu, max_val), reference(x, w, t)
    assert np.isnan(expected).any() and np.isinf(expected).any() == (max_val is None)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)   # the same NaN and inf positions


@needs_numba
def test_compiled_depthwise_epilogue_leaves_a_forced_algorithm_to_the_selector():
    x, w = np.ones((1, 2, 5, 5)), np.ones((2, 1, 3, 3))
    geom = ConvGeometry.of(x.shape, w.shape, (1, 1), ((1, 1), (1, 1)), (1, 1), 2)
    assert depthwise_compiled.forward_affine(x, w, geom, None, True, 6.0)[0, 0, 2, 2] == 6.0
    with select.forced("depthwise_taps"):
        assert depthwise_compiled.forward_affine(x, w, geom, None, True, 6.0) is None
    with compiled.disabled():
        assert depthwise_compiled.forward_affine(x, w, geom, None, True, 6.0) is None
    assert depthwise_compiled.forward_affine(x.astype(np.float16), w.astype(np.float16), geom, None, True, 6.0) is None


# ---- the compiled epilogue ---------------------------------------------------------------------------------------
@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parts", [("scale", "shift", "residual"), ("shift",), ("scale",), ("residual",), ()])
@pytest.mark.parametrize("relu,max_val", [(False, None), (True, None), (True, 6.0)])
def test_compiled_epilogue_is_numpys_bit_for_bit(parts, relu, max_val, dtype, monkeypatch):
    """kernels/jit/epilogue.py against kernels/epilogue.py's NumPy steps (compiled kernels off), with NaN, inf,
    -0.0 and values past both clamps; blocks ending inside an image on three threads. Bit for bit but for a zero's
    sign under both clamps (NumPy's two-sided np.clip keeps -0.0)."""
    compiled.kernels()                                           # loaded: epilogue.affine may use them
    monkeypatch.setattr(epilogue, "BLOCK_BYTES", 3 * 11 * np.dtype(dtype).itemsize)
    monkeypatch.setattr(epilogue, "THREADED_BYTES", 0)
    rng = np.random.default_rng(10)
    out, res = (rng.standard_normal((3, 7, 11)) * 4).astype(dtype), rng.standard_normal((3, 7, 11)).astype(dtype)
    out[0, 1, :4] = np.nan, np.inf, -np.inf, -0.0
    res[1, 2, :3] = np.inf, np.nan, -0.0
    scale, shift = rng.standard_normal(7).astype(dtype), rng.standard_normal(7).astype(dtype)
    scale[3] = 0.0
    args = dict(scale=scale if "scale" in parts else None, shift=shift if "shift" in parts else None,
                residual=res if "residual" in parts else None, relu=relu, max_val=max_val)
    with compiled.disabled():
        expected = epilogue.affine(out.copy(), **args)
    parallel.set_num_threads(3)
    try:
        got = epilogue.affine(out.copy(), **args)
    finally:
        parallel.set_num_threads(None)
    assert compiled.loaded("epilogue") is not None
    if max_val is None:                                          # the bits, signs of zero too
        np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
    else:                                                        # np.clip keeps -0.0: the values, NaN where NaN
        np.testing.assert_array_equal(got, expected)
