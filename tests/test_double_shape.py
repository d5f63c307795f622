"""Double backward of the shape, matrix-layout and sorting ops (cnnlab/derivatives/shape.py) against PyTorch:
the derivative of (grad . v) with respect to the inputs and to the upstream gradient, in float64, and a third
order on some (tests/double_check.py)."""
import numpy as np
import pytest

from double_check import check2
from oracle import rand

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.reshape(6, 4),
    lambda lib, x: x.flatten(1),
    lambda lib, x: x.permute(2, 0, 1),
    lambda lib, x: x.transpose(0, 2),
    lambda lib, x: x.mT,
    lambda lib, x: x[:, :1].squeeze(),
    lambda lib, x: x[:, :1].squeeze(1),
    lambda lib, x: x[:1, :, :1].squeeze((0, 2)),
    lambda lib, x: x.unsqueeze(1),
    lambda lib, x: x.unsqueeze(-1),
    lambda lib, x: x.repeat(2, 1, 3),
    lambda lib, x: x.repeat(2, 1, 1, 2),
    lambda lib, x: x.flip(0),
    lambda lib, x: x.flip((0, 2)),
    lambda lib, x: x.roll(1, 2),
    lambda lib, x: x.roll((2, -1), (0, 1)),
    lambda lib, x: x.roll(5),
    lambda lib, x: x.transpose(0, 1).contiguous(),
    lambda lib, x: x.movedim(0, -1),
    lambda lib, x: x.tile((2, 1)),
    lambda lib, x: x.repeat_interleave(2, dim=1),
    lambda lib, x: x.unflatten(2, (2, 2)),
    lambda lib, x: x.narrow(2, 1, 2),
    lambda lib, x: x.expand(3, 2, 3, 4),
    lambda lib, x: lib.torch.rot90(x, 1, (1, 2)),
    lambda lib, x: lib.torch.rot90(x, 2, (0, 2)),
    lambda lib, x: lib.torch.rot90(x, -1, (2, 1)),
    lambda lib, x: x.diagonal(),
    lambda lib, x: x.diagonal(1, 1, 2),
    lambda lib, x: x.diagonal(-1, 2, 0),
    lambda lib, x: x[0].diag(),
    lambda lib, x: x[1].diag(-1),
    lambda lib, x: x[0, 0].diag(2),
    lambda lib, x: x[0, 0].diag(),
    lambda lib, x: x.unfold(2, 2, 1),
    lambda lib, x: x.unfold(1, 2, 2),
    lambda lib, x: x.unfold(0, 1, 1),
], ids=lambda f: "")
def test_unary_layout_ops(fn):
    check2(fn, rand(2, 3, 4, seed=1))


def test_third_order_and_small_shapes():
    check2(lambda lib, x: x.permute(1, 0, 2).flip(1).roll(1, 0), rand(2, 3, 4, seed=2), order=3)
    check2(lambda lib, x: x.unfold(1, 3, 1).diagonal(0, 0, 2), rand(3, 5, seed=3), order=3)
    check2(lambda lib, x: x.t(), rand(4, seed=4), order=3)
    check2(lambda lib, x: x.t(), rand(3, 4, seed=4), order=3)
    check2(lambda lib, x: x.unsqueeze(0).squeeze(0).flip(0), rand(seed=5), order=3)
    check2(lambda lib, x: x.unfold(0, 1, 1), rand(seed=5))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack(dim):
    a, b, c = rand(2, 3, seed=1), rand(2, 3, seed=2), rand(2, 3, seed=3)
    check2(lambda lib, a, b, c: lib.torch.cat([a, b * b, c], dim if dim != 1 else 1), a, b, c, order=3)
    check2(lambda lib, a, b, c: lib.torch.stack([a, b, c], dim), a, b, c)
    check2(lambda lib, a, b: lib.torch.cat([a, b]), rand(1, 3, seed=4), rand(4, 3, seed=5))
    check2(lambda lib, a, b: lib.torch.hstack([a, b]), rand(2, 3, seed=4), rand(2, 1, seed=5))
    check2(lambda lib, a, b: lib.torch.vstack([a, b]), rand(3, seed=4), rand(3, seed=5))


def test_cat_with_a_constant_part():
    const = rand(2, 2, seed=9)
    check2(lambda lib, a: lib.torch.cat([lib.tensor(const, False), a], 1), rand(2, 3, seed=1))


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.split(2, 1),
    lambda lib, x: x.split([1, 3, 1], 1),
    lambda lib, x: x.chunk(2, 0),
    lambda lib, x: x.chunk(3, -1),
    lambda lib, x: x.unbind(1),
    lambda lib, x: x.unbind(0),
    lambda lib, x: x.split(2, 1)[1],  # pieces the loss does not use
    lambda lib, x: lib.torch.meshgrid(x[0], x[1, :3], indexing="xy"),
], ids=lambda f: "")
def test_pieces(fn):
    check2(fn, rand(3, 5, seed=6), order=3)


def test_pieces_meet_in_the_accumulator():
    # several pieces' gradients add up in one input gradient, and that sum is differentiated again
    check2(lambda lib, x: [p * q for p, q in zip(x.unbind(0), x.flip(0).unbind(0))], rand(3, 4, seed=7), order=3)


def test_as_strided():
    check2(lambda lib, x: x.as_strided((3, 3), (1, 1)), rand(6, seed=1), order=3)  # overlapping reads add up
    check2(lambda lib, x: x.as_strided((2, 2), (1, 2), 1), rand(2, 3, seed=2))
    check2(lambda lib, x: x[1:].as_strided((2, 2), (2, 1)), rand(6, seed=3))
    check2(lambda lib, x: (x * 1).t().as_strided((3, 3), (1, 2), 1), rand(3, 4, seed=4), order=3)  # a transposed base


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin(op, dim):
    x = rand(4, 5, seed=4)
    x[1, 2] = x[1, 0]  # a tie: the later index takes it
    check2(lambda lib, x: getattr(x, op)(dim).values, x, order=3)
    check2(lambda lib, x: getattr(x, op)(0).values, rand(seed=5))


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.sort(1).values,
    lambda lib, x: x.sort(0, descending=True).values,
    lambda lib, x: x.topk(2, 1).values,
    lambda lib, x: x.topk(3, 0, largest=False).values,
    lambda lib, x: x.kthvalue(2, 1).values,
    lambda lib, x: x.kthvalue(3, 0, keepdim=True).values,
    lambda lib, x: x.median(1).values,
    lambda lib, x: x.median(0, keepdim=True).values,
    lambda lib, x: x.nanmedian(1).values,
    lambda lib, x: x.median(),
    lambda lib, x: x.nanmedian(),
], ids=lambda f: "")
def test_sorting(fn):
    check2(fn, rand(4, 5, seed=8), order=3)


def test_sorting_0d_and_ties():
    check2(lambda lib, x: x.sort().values, rand(seed=1), order=3)
    check2(lambda lib, x: x.topk(1).values, rand(seed=1), order=3)
    check2(lambda lib, x: x.kthvalue(1).values, rand(seed=1), order=3)
    check2(lambda lib, x: x.median(0).values, rand(seed=1), order=3)
    x = np.array([1.0, 3.0, 2.0, 3.0, 2.0, 0.5])
    check2(lambda lib, x: x.median(), x, order=3)  # the gradient shared by the tied elements



def test_layout_ops_around_a_convolution():
    # the shapes a CNN's gradient penalty passes through: a skip joined by cat, a crop, channels-last, flatten
    def net(lib, x, w):
        y = lib.torch.cat([lib.F.conv2d(x, w, padding=1), x], 1)[:, :, 1:-1]
        return y.permute(0, 2, 3, 1).flatten(1).chunk(2, 1)[1]

    check2(net, rand(2, 2, 4, 5, seed=10), rand(3, 2, 3, 3, seed=11), order=3, rtol=1e-6)
