"""ResNet's inference path (nn/modules/fusion.py conv_bn_affine -> nn/functional/conv_affine.py ->
kernels/epilogue.py, taken by the zoo's blocks and stem when no graph is recorded): against torchvision in float64
and float32, the path asserted; the op itself against PyTorch (with its gradients where it records a graph); and
every case that must keep the layers (a graph, hooks, training mode, an ONNX trace, replaced layers)."""
import numpy as np
import pytest

import cnnlab
import cnnlab.models.resnet as rn
import cnnlab.nn.functional as F
from cnnlab.kernels import epilogue, parallel
from cnnlab.nn.functional import conv_affine
from cnnlab.nn.functional.conv_affine import conv2d_affine
from modelcheck import copy_weights
from tv import torch, tvm


@pytest.fixture
def calls(monkeypatch):
    """The (conv's weight shape, residual given, relu) of every conv_bn_affine call the ResNet code makes."""
    seen = []
    real = rn.conv_bn_affine

    def spy(conv, bn, x, residual=None, relu=False):
        seen.append((tuple(conv.weight.shape), residual is not None, relu))
        return real(conv, bn, x, residual=residual, relu=relu)

    monkeypatch.setattr(rn, "conv_bn_affine", spy)
    return seen


def _randomise(ref, seed):
    """Batch-norm statistics and affine parameters away from 0 and 1 (a step left out shows); weights scaled so
    deep stacks keep their outputs near 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) * 0.5 + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.3)


def _twins(make_ref, make_ours, dtype="float64", seed=0):
    ref, ours = make_ref(), make_ours()
    _randomise(ref, seed)
    copy_weights(ref, ours)
    return ours.to(getattr(cnnlab, dtype)).eval(), ref.to(getattr(torch, dtype)).eval()


BLOCKS = {  # (our class, torchvision's, inplanes, planes, stride, with a downsample)
    "basic": (rn.BasicBlock, tvm.resnet.BasicBlock, 8, 8, 1, False),
    "basic-down": (rn.BasicBlock, tvm.resnet.BasicBlock, 8, 16, 2, True),
    "bottleneck": (rn.Bottleneck, tvm.resnet.Bottleneck, 32, 8, 1, False),
    "bottleneck-down": (rn.Bottleneck, tvm.resnet.Bottleneck, 16, 8, 2, True),
}


def _block_pair(kind, dtype="float64"):
    ours_cls, ref_cls, inplanes, planes, stride, down = BLOCKS[kind]
    outplanes = planes * ours_cls.expansion

    def make(cls, nn):
        ds = nn.Sequential(nn.Conv2d(inplanes, outplanes, 1, stride=stride, bias=False),
                           nn.BatchNorm2d(outplanes)) if down else None
        return lambda: cls(inplanes, planes, stride, ds)

    return _twins(make(ref_cls, torch.nn), make(ours_cls, cnnlab.nn), dtype, seed=inplanes + planes)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("kind", list(BLOCKS))
def test_blocks_match_torchvision_in_float64(kind, threads, calls):
    block, ref = _block_pair(kind)
    x = np.random.default_rng(1).standard_normal((2, block.conv1.in_channels, 11, 9)) * 2
    parallel.set_num_threads(threads)
    try:
        with cnnlab.no_grad():
            out = block(cnnlab.tensor(x)).numpy()
    finally:
        parallel.set_num_threads(None)
    convs = 2 if kind.startswith("basic") else 3
    # (residual, relu) per call: the first convs, the downsample (an argument of the last call), the last conv
    expected = [(False, True)] * (convs - 1) + ([(False, False)] if block.downsample is not None else []) + \
        [(True, True)]
    assert [c[1:] for c in calls] == expected
    with torch.no_grad():
        np.testing.assert_allclose(out, ref(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,batch,size", [("resnet18", 2, 64), ("resnet50", 1, 48), ("resnet50", 3, 40)])
def test_whole_model_in_float64_matches_torchvision(name, batch, size, calls):
    model, ref = _twins(lambda: getattr(tvm, name)(num_classes=10), lambda: getattr(rn, name)(num_classes=10))
    x = np.random.default_rng(2).standard_normal((batch, 3, size, size))
    with cnnlab.no_grad():
        out = model(cnnlab.tensor(x)).numpy()
    with torch.no_grad():
        expected = ref(torch.tensor(x)).numpy()
    convs = sum(isinstance(m, cnnlab.nn.Conv2d) for m in model.modules())
    assert len(calls) == convs                         # the stem, every block conv and every downsample
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


def check_float32_rounding(model, ref, x):
    """model's float32 output for x (no graph) within a small multiple of PyTorch's own float32 error against
    float64 (folded or scaled batch norms); ref is torchvision's twin in float32 (made float64 here)."""
    with cnnlab.no_grad():
        out = model(cnnlab.tensor(x)).numpy()
    with torch.no_grad():
        pt32 = ref(torch.tensor(x)).numpy()
        pt64 = ref.double()(torch.tensor(x).double()).numpy()
    assert out.dtype == np.float32
    assert np.abs(out - pt64).max() <= 4 * max(np.abs(pt32 - pt64).max(), 1e-6 * np.abs(pt64).max())


def test_whole_model_in_float32_within_float32_rounding(calls):
    model, ref = _twins(lambda: tvm.resnet50(num_classes=10), lambda: rn.resnet50(num_classes=10), "float32")
    check_float32_rounding(model, ref, np.random.default_rng(3).standard_normal((2, 3, 64, 64)).astype(np.float32))
    assert len(calls) == 53


def check_hooks_and_training_keep_the_layers(block, x, modules, calls):
    """With a forward hook on any of `modules` the hook sees its module's output and the fused path stays unused
    (calls, the spy's list, stays empty); in training mode too (batch statistics: the layers; block left in it)."""
    for module in modules:
        seen = []
        handle = module.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape)))
        with cnnlab.no_grad():
            block(cnnlab.tensor(x))
        handle.remove()
        assert seen and calls == []
    block.train()
    with cnnlab.no_grad():
        block(cnnlab.tensor(x))
    assert calls == []


def test_layers_run_where_the_fused_path_would_hide_something(calls):
    block, ref = _block_pair("basic-down")
    x = np.random.default_rng(4).standard_normal((2, 8, 6, 6))
    y = block(cnnlab.tensor(x))                        # eval, parameters requiring grad: a graph is recorded
    assert y.requires_grad and calls == []
    g = np.random.default_rng(5).standard_normal(y.shape)
    (y * cnnlab.tensor(g)).sum().backward()
    ref(torch.tensor(x)).backward(torch.tensor(g))
    np.testing.assert_allclose(block.conv1.weight.grad.numpy(), ref.conv1.weight.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    check_hooks_and_training_keep_the_layers(block, x, (block.conv1, block.bn2, block.relu, block.downsample,
                                                        block.downsample[0]), calls)
    assert block.bn1.num_batches_tracked.item() == 1
    block.eval()
    block.relu = cnnlab.nn.Identity()                  # a replaced layer is what runs
    with cnnlab.no_grad():
        out = block(cnnlab.tensor(x)).numpy()
    assert calls == [] and (out < 0).any()
    block.relu = cnnlab.nn.ReLU(inplace=True)
    with cnnlab.no_grad():
        assert block(cnnlab.zeros(0, 8, 6, 6, dtype=cnnlab.float64)).shape == (0, 16, 3, 3)  # empty: the layers
        block(cnnlab.tensor(x))
    assert len(calls) == 3


def test_onnx_export_traces_the_layers(calls, tmp_path):
    onnx = pytest.importorskip("onnx")
    from cnnlab.onnx import export
    model = rn.resnet18(num_classes=4).eval()
    with cnnlab.no_grad():
        export(model, cnnlab.randn(1, 3, 32, 32), str(tmp_path / "r.onnx"))
    ops = [n.op_type for n in onnx.load(str(tmp_path / "r.onnx")).graph.node]
    assert calls == [] and ops.count("Conv") == 20 and ops.count("Add") == 8 and ops.count("Relu") == 17


# ---- the op ------------------------------------------------------------------------------------------------------
CASES = [  # (x shape, w shape, stride, padding, dilation, groups)
    ((2, 4, 9, 7), (6, 4, 3, 3), 1, 1, 1, 1),
    ((1, 3, 15, 15), (5, 3, 7, 7), 2, 3, 1, 1),
    ((3, 6, 8, 8), (6, 2, 3, 3), 2, 1, 2, 3),
    ((2, 8, 5, 5), (4, 8, 1, 1), 1, 0, 1, 1),
]


@pytest.mark.parametrize("parts", ["scale", "shift", "residual", "relu", "all", "none"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[0])))
def test_conv2d_affine_matches_torch_with_and_without_a_graph(case, parts):
    xs, ws, stride, padding, dilation, groups = case
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, stride, padding, dilation, groups)
    s, t, r = rng.standard_normal(ws[0]), rng.standard_normal(ws[0]), rng.standard_normal(tuple(ref.shape))
    use = {k: parts in (k, "all") for k in ("scale", "shift", "residual", "relu")}
    args = [cnnlab.tensor(v) if use[k] else None for k, v in (("scale", s), ("shift", t), ("residual", r))]
    ts = [torch.tensor(v, requires_grad=True) for v in (x, w, s, t, r)]
    y = torch.nn.functional.conv2d(ts[0], ts[1], None, stride, padding, dilation, groups)
    y = y * (ts[2][:, None, None] if use["scale"] else 1) + (ts[3][:, None, None] if use["shift"] else 0)
    y = y + (ts[4] if use["residual"] else 0)
    y = torch.relu(y) if use["relu"] else y
    expected = y.detach().numpy()
    with cnnlab.no_grad():
        out = conv2d_affine(cnnlab.tensor(x), cnnlab.tensor(w), args[0], args[1], stride, padding, dilation, groups,
                            residual=args[2], relu=use["relu"])
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    # recorded: the composition of differentiable ops, gradients as PyTorch's
    xc, wc = cnnlab.tensor(x, requires_grad=True), cnnlab.tensor(w, requires_grad=True)
    sc, tc, rc = (cnnlab.tensor(v, requires_grad=True) if a is not None else None for v, a in zip((s, t, r), args))
    out = conv2d_affine(xc, wc, sc, tc, stride, padding, dilation, groups, residual=rc, relu=use["relu"])
    g = rng.standard_normal(out.shape)
    (out * cnnlab.tensor(g)).sum().backward()
    y.backward(torch.tensor(g))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    for ours, theirs in zip((xc, wc, sc, tc, rc), ts):
        if ours is not None:
            np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_affine_checks_its_arguments():
    x, w = cnnlab.randn(1, 4, 6, 6), cnnlab.randn(3, 4, 3, 3)
    with cnnlab.no_grad():
        with pytest.raises(cnnlab.errors.ShapeError, match=r"scale must be a 1-d tensor of out_channels=3 .* "
                                                           r"Got scale.shape=\(4,\)"):
            conv2d_affine(x, w, cnnlab.ones(4))
        with pytest.raises(cnnlab.errors.ShapeError, match=r"residual must have the output's shape .* Got "
                                                           r"residual.shape=\(1, 3, 6, 6\), output shape=\(1, 3, 4, 4\)"):
            conv2d_affine(x, w, residual=cnnlab.ones(1, 3, 6, 6))
        with pytest.raises(cnnlab.errors.ShapeError, match="input channels must equal weight.shape"):
            conv2d_affine(cnnlab.randn(1, 5, 6, 6), w)
        with pytest.raises(cnnlab.errors.DTypeError, match="same dtype"):
            conv2d_affine(x, w.double())


def test_geometry_is_kept_per_shape_and_option():
    x, w = cnnlab.randn(1, 2, 7, 7, dtype=cnnlab.float64), cnnlab.randn(3, 2, 3, 3, dtype=cnnlab.float64)
    with cnnlab.no_grad():
        for padding, stride in [(0, 1), (1, 1), (1, 2), ((2, 0), 1), ("same", 1)]:  # one shape, other options
            out = conv2d_affine(x, w, stride=stride, padding=padding)
            np.testing.assert_array_equal(out.numpy(), F.conv2d(x, w, None, stride, padding).numpy())
        conv2d_affine(x, w, padding=[1, 1])                     # a list is no key: checked and computed each time
    assert ((1, 2, 7, 7), (3, 2, 3, 3), cnnlab.float64, cnnlab.float64, 1, "same", 1, 1) in conv_affine._GEOMETRIES


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_epilogue_blocks_cover_the_output_once(threads, monkeypatch):
    monkeypatch.setattr(epilogue, "BLOCK_BYTES", 3 * 5 * 8)   # 3 planes a block: blocks end inside an image
    monkeypatch.setattr(epilogue, "THREADED_BYTES", 0)
    rng = np.random.default_rng(7)
    out, res = rng.standard_normal((4, 7, 5, 1)), rng.standard_normal((4, 7, 5, 1))
    s, t = rng.standard_normal(7), rng.standard_normal(7)
    expected = np.maximum(out * s[:, None, None] + t[:, None, None] + res, 0)
    parallel.set_num_threads(threads)
    try:
        got = epilogue.affine(out, s, t, res, relu=True)
    finally:
        parallel.set_num_threads(None)
    assert got is out
    np.testing.assert_array_equal(got, expected)
    strided = rng.standard_normal((2, 7, 5, 6))[..., ::2]      # not contiguous: a copy is written and returned
    np.testing.assert_array_equal(epilogue.affine(strided, shift=t), strided + t[:, None, None])


@pytest.mark.filterwarnings("error::RuntimeWarning")   # neither path warns (PyTorch gives inf/NaN silently)
def test_nonfinite_values_give_the_layers_results(calls):
    block, _ = _block_pair("bottleneck")
    x = np.random.default_rng(8).standard_normal((2, 32, 5, 5))
    x[0, 3, 2, 2], x[1, :, 1, 1], x[1, 5, 0, 0] = np.inf, -np.inf, np.nan
    with cnnlab.no_grad():
        fused = block(cnnlab.tensor(x)).numpy()
    layers = block(cnnlab.tensor(x)).detach().numpy()     # parameters require grad: the layers run
    assert len(calls) == 3 and np.isnan(layers).any() and np.isfinite(layers).any()
    np.testing.assert_allclose(fused, layers, rtol=1e-12, atol=1e-12)   # NaN (and any inf) at the same places


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_epilogue_overflow_is_silent():
    out = np.full((1, 2, 3, 3), 3e38, np.float32)
    epilogue.affine(out, scale=np.array([10.0, -10.0], np.float32), shift=np.array([np.inf, 0.0], np.float32))
    assert (out[0, 0] == np.inf).all() and (out[0, 1] == -np.inf).all()


def test_inference_input_wants_float32_or_float64_of_the_parameters_dtype():
    from cnnlab.nn.modules.fusion import inference_input
    w = cnnlab.randn(3)
    with cnnlab.no_grad():
        assert inference_input(cnnlab.randn(1, 2, 3, 3), [w])
        assert not inference_input(cnnlab.randn(1, 2, 3, 3).to(cnnlab.bfloat16), [w])       # bfloat16 storage
        assert not inference_input(cnnlab.randn(1, 2, 3, 3), [w.to(cnnlab.bfloat16)])
        assert not inference_input(cnnlab.randn(1, 2, 3, 3, dtype=cnnlab.float64), [w])
        assert not inference_input(cnnlab.randn(2, 3, 3), [w]) and not inference_input(cnnlab.randn(0, 2, 3, 3), [w])
    assert not inference_input(cnnlab.randn(1, 2, 3, 3), [w.requires_grad_()])               # a graph to record
