"""Double backward of F.pad (every mode), unfold/fold, pixel_(un)shuffle and channel_shuffle
(cnnlab/derivatives/spatial.py) against PyTorch in float64: the derivative of (grad . v) with respect to the
input and the upstream gradient, through a cube around the op (tests/double_check.py), and a third order on some."""
import pytest

from double_check import check2
from oracle import rand

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("pad", [(1, 2), (2, 1, 0, 3), (1, -1, -2, 2), (1, 1, 2, 0, 0, 1), (0, 0, 0, 0, 1, 1, 2, 0)])
def test_constant_pad(pad):
    check2(lambda lib, x: lib.F.pad(x, pad, value=0.5), rand(2, 3, 4, 5))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("n, pad", [(1, (2, 1)), (2, (1, 2, 3, 0)), (2, (2, -1, 1, 3)), (3, (1, 0, 1, 1, 0, 2))])
def test_index_pads(mode, n, pad):
    check2(lambda lib, x: lib.F.pad(x, pad, mode=mode), rand(*(2, 3, 4, 5, 4)[:n + 2]))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_unbatched_third_order(mode):
    check2(lambda lib, x: lib.F.pad(x, (2, 1, 1, 2), mode=mode), rand(3, 4, 5), order=3)


def test_pad_empty_result():
    check2(lambda lib, x: lib.F.pad(x, (0, 0, -4, 0)), rand(2, 3, 4, 5))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), padding=1, stride=2),
                                dict(kernel_size=2, dilation=2, padding=(1, 0), stride=(1, 2))])
def test_unfold_and_fold(kw):
    x = rand(2, 3, 6, 7)
    check2(lambda lib, x: lib.F.unfold(x, **kw), x)
    cols = torch.nn.functional.unfold(torch.tensor(x), **kw).numpy() * 0.7 + 0.1
    check2(lambda lib, c: lib.F.fold(c, (6, 7), **kw), cols)


def test_unfold_fold_unbatched_third_order():
    check2(lambda lib, x: lib.F.unfold(x, 2, padding=1, stride=2), rand(3, 5, 4), order=3)
    check2(lambda lib, c: lib.F.fold(c, (5, 4), 2, padding=1, stride=2), rand(12, 9), order=3)


def test_pixel_shuffle_unshuffle():
    check2(lambda lib, x: lib.F.pixel_shuffle(x, 2), rand(2, 8, 3, 2), order=3)
    check2(lambda lib, x: lib.F.pixel_unshuffle(x, 2), rand(2, 2, 4, 6), order=3)
    check2(lambda lib, x: lib.F.pixel_shuffle(x, 3), rand(2, 1, 9, 2, 2))  # extra leading dims


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_channel_shuffle(groups):
    check2(lambda lib, x: lib.F.channel_shuffle(x, groups), rand(2, 6, 3, 2), order=3 if groups == 2 else 2)
