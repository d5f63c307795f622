"""ConvNeXt's inference path (cnnlab/nn/functional/fused_block.py, taken by CNBlock.forward when no graph is
recorded): against torchvision's CNBlock in float64 and float32, on the tilings it uses (column tiles spanning
two images, hidden rows split over the threads), the path asserted; and the cases that must keep the layers."""
import numpy as np
import pytest

import cnnlab
import cnnlab.models.convnext as cx
from cnnlab.kernels import parallel
from cnnlab.nn.functional import fused_block
from modelcheck import copy_weights
from tv import torch, tvm


@pytest.fixture
def calls(monkeypatch):
    """The number of convnext_mlp calls, counted."""
    seen = []
    real = cx.fused_block.convnext_mlp

    def spy(*args):
        seen.append(args[0].shape)
        return real(*args)

    monkeypatch.setattr(cx.fused_block, "convnext_mlp", spy)
    return seen


def _pair(C, layer_scale=0.7, dtype="float64"):
    ref = tvm.convnext.CNBlock(C, layer_scale, 0.0, None)
    block = cx.CNBlock(C, layer_scale, 0.0)
    g = torch.Generator().manual_seed(C)
    with torch.no_grad():
        for p in ref.parameters():  # away from the 1 / 0 initial values, so a parameter left out shows
            p.copy_(torch.randn(p.shape, generator=g) * 0.3 + (1.0 if p.dim() != 2 else 0.0))
    copy_weights(ref, block)
    return block.to(getattr(cnnlab, dtype)).eval(), ref.to(getattr(torch, dtype)).eval()


# (N, C, H, W): ConvNeXt's stage shapes at reduced width and a few odd ones; with 1 and 3 threads the tiles
# are columns (one image or two per tile) or hidden-row parts with partial sums
SHAPES = [(1, 8, 56, 56), (2, 8, 23, 17), (1, 40, 7, 7), (3, 40, 7, 7), (2, 64, 14, 14), (1, 3, 1, 1)]


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_fused_block_matches_torchvision_in_float64(shape, threads, calls):
    block, ref = _pair(shape[1])
    x = np.random.default_rng(1).standard_normal(shape) * 2
    parallel.set_num_threads(threads)
    try:
        with cnnlab.no_grad():
            out = block(cnnlab.tensor(x))
    finally:
        parallel.set_num_threads(None)
    assert calls == [shape]
    with torch.no_grad():
        expected = ref(torch.tensor(x)).numpy()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 96, 56, 56), (2, 384, 14, 14), (1, 768, 7, 7)], ids=["s1", "s3b2", "s4"])
def test_fused_block_float32_within_float32_rounding(shape, calls):
    block, ref = _pair(shape[1], dtype="float32")
    x = (np.random.default_rng(2).standard_normal(shape) * 2).astype(np.float32)
    with cnnlab.no_grad():
        out = block(cnnlab.tensor(x)).numpy()
    assert out.dtype == np.float32 and calls == [shape]
    with torch.no_grad():
        pt32 = ref(torch.tensor(x)).numpy()
        pt64 = ref.double()(torch.tensor(x).double()).numpy()
    scale = np.abs(pt64).max()
    # within a small multiple of PyTorch's own float32 error against float64 (the MLP sums 4C products)
    assert np.abs(out - pt64).max() <= 3 * max(np.abs(pt32 - pt64).max(), 1e-7 * scale)


@pytest.mark.filterwarnings("error::RuntimeWarning")   # neither path warns (PyTorch gives inf/NaN silently)
def test_nonfinite_input_gives_the_layers_results(calls):
    block, _ = _pair(8)
    x = np.random.default_rng(3).standard_normal((2, 8, 9, 9))
    x[0, 3, 4, 4], x[1, :, 2, 2], x[1, 5, 0, 0] = np.inf, -np.inf, np.nan
    with cnnlab.no_grad():
        fused = block(cnnlab.tensor(x)).numpy()
    layers = block(cnnlab.tensor(x)).detach().numpy()   # parameters require grad: the layers run
    assert len(calls) == 1
    np.testing.assert_array_equal(np.isnan(fused), np.isnan(layers))
    finite = np.isfinite(layers)
    np.testing.assert_array_equal(fused[~finite & ~np.isnan(layers)], layers[~finite & ~np.isnan(layers)])
    np.testing.assert_allclose(fused[finite], layers[finite], rtol=1e-12, atol=1e-12)


def test_layers_run_where_the_fused_path_would_hide_something(calls):
    block, _ = _pair(8)
    x = cnnlab.tensor(np.random.default_rng(4).standard_normal((1, 8, 5, 5)))
    y = block(x)                                          # eval, but recording: the graph must exist
    assert y.requires_grad and len(calls) == 0
    y.sum().backward()
    assert block.block[3].weight.grad is not None
    seen = []
    handle = block.block[4].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with cnnlab.no_grad():
        block(x)                                          # a hook on the GELU sees its output
    handle.remove()
    assert seen == [(1, 5, 5, 32)] and len(calls) == 0
    block.block[4].approximate = "tanh"
    with cnnlab.no_grad():
        block(x)
    block.block[4].approximate = "none"
    block.stochastic_depth.p = 0.5
    block.train()
    with cnnlab.no_grad():
        block(x)                                          # stochastic depth draws in training mode
    assert len(calls) == 0
    block.eval()
    with cnnlab.no_grad():
        assert block(cnnlab.zeros(0, 8, 5, 5, dtype=cnnlab.float64)).shape == (0, 8, 5, 5)  # empty: the layers
        block(x)
    assert len(calls) == 1


@pytest.mark.parametrize("N,P,hidden,k", [(1, 3136, 384, 2), (8, 49, 3072, 2), (1, 49, 3072, 3), (3, 196, 1536, 1),
                                          (1, 1, 12, 4), (5, 7, 40, 2)])
def test_tiles_cover_every_column_once_per_part(N, P, hidden, k):
    tiles = fused_block._tiles(N * P, hidden, k)
    parts = sorted({(r0, r1) for _, _, r0, r1 in tiles})
    assert parts[0][0] == 0 and parts[-1][1] == hidden and all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    for part in parts:
        cover = np.zeros(N * P, int)
        for c0, c1, r0, r1 in tiles:
            if (r0, r1) == part:
                cover[c0:c1] += 1
                segs = fused_block._segments(c0, c1, P)
                assert sum(b - a for _, a, b, _ in segs) == c1 - c0 and all(0 <= a < b <= P for _, a, b, _ in segs)
        assert (cover == 1).all()


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_2d_without_permutes_matches_torchvision(affine):
    ref = tvm.convnext.LayerNorm2d(12, eps=1e-6, elementwise_affine=affine).double()
    norm = cx.LayerNorm2d(12, eps=1e-6, elementwise_affine=affine).double()
    if affine:
        with torch.no_grad():
            ref.weight.copy_(torch.rand(12) + 0.5)
            ref.bias.copy_(torch.randn(12))
        copy_weights(ref, norm)
    x = np.random.default_rng(5).standard_normal((2, 12, 5, 3)) * 3 + 1
    with cnnlab.no_grad():
        out = norm(cnnlab.tensor(x))
    assert out._data.base is None or out._data.flags.c_contiguous   # no permuted view: the NCHW result itself
    np.testing.assert_allclose(out.numpy(), ref(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    assert cx._channels_only(norm, cnnlab.tensor(x)) == (not affine)  # parameters requiring grad: recorded


def test_whole_model_in_inference_matches_torchvision(calls):
    setting = [(16, 32, 2), (32, None, 2)]
    ref = tvm.convnext.ConvNeXt([tvm.convnext.CNBlockConfig(*s) for s in setting], layer_scale=0.5, num_classes=10)
    model = cx.ConvNeXt([cx.CNBlockConfig(*s) for s in setting], layer_scale=0.5, num_classes=10)
    copy_weights(ref, model)
    model.double().eval(), ref.double().eval()
    x = np.random.default_rng(6).standard_normal((2, 3, 64, 64))
    with cnnlab.no_grad():
        out = model(cnnlab.tensor(x)).numpy()
    with torch.no_grad():
        expected = ref(torch.tensor(x)).numpy()
    assert len(calls) == 4
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_forward_holds_blas_at_one_thread():
    # BLAS's threads, woken by a batch-1 convolution, would spin while the kernel threads run the blocks
    from cnnlab.kernels import blas
    functions = blas.thread_functions()
    if functions is None:
        pytest.skip("no OpenBLAS whose threads can be set")
    get = functions[0]
    model = cx.ConvNeXt([cx.CNBlockConfig(8, None, 2)], num_classes=3).eval()
    seen = []
    model.features[0].register_forward_hook(lambda m, i, o: seen.append(get()))
    before = get()
    parallel.set_blas_threads(2)
    try:
        with cnnlab.no_grad():
            model(cnnlab.randn(1, 3, 32, 32))
        after = get()
    finally:
        parallel.set_blas_threads(before)
    assert seen == [1] and after == 2


def test_a_hook_on_the_depthwise_conv_runs_and_its_result_is_used(calls):
    block, _ = _pair(8)
    x = cnnlab.tensor(np.random.default_rng(7).standard_normal((2, 8, 6, 6)))
    block.block[0].register_forward_hook(lambda m, i, o: o * 2)   # the conv is called as a module: hooks run
    with cnnlab.no_grad():
        fused = block(x).numpy()
    assert len(calls) == 1
    np.testing.assert_allclose(fused, block(x).detach().numpy(), rtol=1e-12, atol=1e-12)  # the layers, recorded
