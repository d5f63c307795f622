"""The convolution geometry (kernels/geometry.py) and the algorithm registry (kernels/registry.py): the output-size
rule against PyTorch's shapes, the geometry an op records for its backward (what double backward reads), the
transposed geometry and its convolution, and the registry's contract (every algorithm declared once, selected by
its rules, forced by name, one new module enough to add one)."""
import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.autograd.graph import closure_vars
from cnnlab.kernels import conv as kconv
from cnnlab.kernels import registry, select
from cnnlab.kernels.geometry import ConvGeometry, output_size, output_sizes, transposed_output_size
from oracle import rand


@pytest.mark.parametrize("size,k,s,pad,d", [(7, 3, 2, (1, 1), 1), (5, 2, 2, (0, 1), 1), (32, 5, 1, (2, 2), 1),
                                            (11, 3, 3, (0, 2), 2), (9, 4, 2, (3, 0), 1)])
def test_output_size_matches_torch(size, k, s, pad, d):
    """floor and ceil rules against torch's conv1d and max_pool1d shapes (asymmetric padding through F.pad)."""
    x = torch.zeros(1, 1, size + pad[0] + pad[1])
    assert output_size(size, k, s, pad, d) == torch.nn.functional.conv1d(x, torch.zeros(1, 1, k), stride=s,
                                                                          dilation=d).shape[-1]
    if pad[0] == pad[1] and pad[0] <= k // 2:
        want = torch.nn.functional.max_pool1d(torch.zeros(1, 1, size), k, s, pad[0], d, ceil_mode=True).shape[-1]
        assert output_size(size, k, s, pad, d, ceil_mode=True) == want


@pytest.mark.parametrize("size,k,s,pad,d,op", [(4, 4, 2, 1, 1, 0), (5, 3, 2, 0, 2, 1), (3, 2, 3, 1, 1, 2)])
def test_transposed_output_size_matches_torch(size, k, s, pad, d, op):
    y = torch.nn.functional.conv_transpose1d(torch.zeros(1, 1, size), torch.zeros(1, 1, k), stride=s, padding=pad,
                                             output_padding=op, dilation=d)
    assert transposed_output_size(size, k, s, (pad, pad), d, op) == y.shape[-1]


def _geom_of(y):
    """The geometry the op's backward closure holds (what ctx.saved['geom'] gives a double-backward formula)."""
    return closure_vars(y._backward)["geom"]


def test_conv_records_its_geometry():
    x, w = cnnlab.tensor(rand(2, 6, 9, 8), requires_grad=True), cnnlab.tensor(rand(4, 3, 3, 2), requires_grad=True)
    y = F.conv2d(x, w, stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2), groups=2)
    geom = _geom_of(y)
    assert geom == ConvGeometry(2, 2, 6, 4, 2, (9, 8), (3, 2), (2, 1), (1, 2), ((1, 0), (2, 1)), tuple(y.shape[2:]),
                                False, (0, 0))
    assert geom.x_shape == tuple(x.shape) and geom.w_shape == tuple(w.shape) and geom.y_shape == tuple(y.shape)
    assert geom.natural and geom.conv() is geom
    with pytest.raises(AttributeError):
        geom.stride = (1, 1)                                   # immutable


def test_conv_with_a_padding_mode_records_the_padded_geometry():
    """A non-zero padding mode pads through F.pad first: the convolution's geometry is that of the padded input."""
    x, w = cnnlab.tensor(rand(1, 2, 5, 5), requires_grad=True), cnnlab.tensor(rand(3, 2, 3, 3), requires_grad=True)
    geom = _geom_of(F.conv2d(x, w, padding=1, padding_mode="reflect"))
    assert geom.in_size == (7, 7) and geom.pads == ((0, 0), (0, 0)) and geom.out_size == (5, 5)


def test_conv_transpose_records_its_geometry_and_computes_with_its_convolution():
    xa, wa = rand(2, 4, 5, 6), rand(4, 3, 3, 3, seed=1)
    x, w = cnnlab.tensor(xa, requires_grad=True), cnnlab.tensor(wa, requires_grad=True)
    y = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=(1, 0), groups=1)
    geom = _geom_of(y)
    assert geom.transposed and geom.output_padding == (1, 0) and geom.in_size == (5, 6)
    assert geom.out_size == tuple(y.shape[2:]) == (10, 11) and geom.w_shape == tuple(w.shape)
    conv = geom.conv()                                          # the convolution it is the adjoint of
    assert conv.x_shape == tuple(y.shape) and conv.y_shape == tuple(x.shape) and conv.w_shape == tuple(w.shape)
    assert not conv.transposed and conv.pads == geom.pads and conv.conv() is conv
    want = torch.nn.functional.conv_transpose2d(torch.from_numpy(xa), torch.from_numpy(wa), stride=2, padding=1,
                                                output_padding=(1, 0))
    np.testing.assert_allclose(kconv.conv_backward_input(xa, wa, conv), want.numpy(), rtol=1e-12)


def test_every_algorithm_is_declared_once_with_its_rules():
    names = registry.names()
    assert sorted(names) == sorted(set(names)) and "gemm" in names and len(names) == 12
    assert select.ALGORITHMS == names
    ranks = [rank for rank, _, _ in registry.rules()]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)  # one order, no ties
    for name in names:
        algorithm = registry.get(name)
        assert algorithm.name == name and callable(algorithm.supports) and algorithm.rules
    geom = ConvGeometry.of((1, 1, 5, 5), (1, 1, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    assert select.explain("forward", geom)[0] in names


def test_a_new_algorithm_is_one_declaration(monkeypatch):
    """An algorithm declared like the modules declare theirs (an Algorithm with a rule) is chosen where its rule
    wins, and can be forced; the others keep their places."""
    calls = []
    gemm = registry.get("gemm")

    def forward(x, w, geom):
        calls.append(geom)
        return gemm.forward(x, w, geom)

    def wins(op, geom, precise):
        return "1-d" if geom.n == 1 and op == "forward" else None
    mine = registry.Algorithm("mine", lambda geom: geom.n == 1, forward, gemm.backward_input, gemm.backward_weight,
                              rules=((5, wins),))
    table, rules = registry._load()
    monkeypatch.setattr(registry, "_loaded", ({**table, "mine": mine},
                                              sorted(rules + [(5, "mine", mine.rules[0][1])], key=lambda r: r[0])))
    x, w = rand(2, 3, 9), rand(4, 3, 3, seed=1)
    y = F.conv1d(cnnlab.tensor(x), cnnlab.tensor(w), padding=1)
    assert len(calls) == 1 and calls[0].out_size == (9,)
    np.testing.assert_allclose(y.numpy(), torch.nn.functional.conv1d(torch.from_numpy(x), torch.from_numpy(w),
                                                                     padding=1).numpy(), rtol=1e-12)
    geom2 = ConvGeometry.of((2, 3, 9, 9), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    assert select.algorithm("forward", geom2) != "mine"
    with select.forced("mine"):
        assert select.explain("forward", calls[0]) == ("mine", "forced")
        assert select.explain("forward", geom2)[0] == "gemm"       # 2-d: not supported, the GEMM fallback
