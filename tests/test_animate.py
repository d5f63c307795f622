"""cnnlab.animate and `cnnlab animate`: one frame per output cell, and every frame's window reads exactly the input
cells PyTorch's own convolution / pooling reads for that output cell (found by running PyTorch on one-hot
images), for 'same' with stride, asymmetric padding, dilation, transposed convolution and ceil_mode."""
import sys

import numpy as np
import pytest
from PIL import Image

import cnnlab.animate as animate
from cnnlab.animate.draw import COLORS
from cnnlab.cli import main
from cnnlab.errors import ShapeError
from cnnlab.nn.functional._args import resolve_padding, to_tuple

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _one_hots(h, w):
    return torch.eye(h * w, dtype=torch.float64).reshape(h * w, 1, h, w)  # image i lights input cell i


def _reads(out, h, w):
    """{output cell: set of input cells it depends on} from out (H*W, 1, OH, OW) of one-hot images."""
    oh, ow = out.shape[2:]
    nz = (out[:, 0] != 0).numpy()
    return {(a, b): {(i // w, i % w) for i in np.flatnonzero(nz[:, a, b])} for a in range(oh) for b in range(ow)}


def _check(plan, reads):
    assert len(plan.steps) == len(reads) == plan.output_size[0] * plan.output_size[1]
    for step in plan.steps:
        assert set(step.inputs) == reads[step.output], step.output
        for y, x in step.taps:  # every tap lies on the drawn grid, and what it is agrees with the input it reads
            assert plan.rows[0] <= y <= plan.rows[1] and plan.cols[0] <= x <= plan.cols[1]
            assert (plan.kind(y, x) == "input") == ((y, x) in _grid_of(plan, step))


def _grid_of(plan, step):
    s = plan.stride
    return {(i * s[0], j * s[1]) for i, j in step.inputs}


CONVS = [(5, 3, 2, 1, 1), (7, 3, 2, "same", 1), (6, 3, 2, "same", 1), ((5, 6), (3, 2), (1, 2), ((1, 0), (2, 1)), 1),
         (7, 3, 1, 1, 2), ((6, 5), 3, (2, 1), "same", (1, 2)), (4, 1, 1, 0, 1), (5, 3, 3, "same_lower", 1)]


@pytest.mark.parametrize("size,k,s,p,d", CONVS)
def test_conv_windows_are_pytorchs(size, k, s, p, d):
    plan = animate.plan_conv(size, k, s, p, d)
    h, w = to_tuple(size, 2, "", "")
    kernel, stride, dil = to_tuple(k, 2, "", ""), to_tuple(s, 2, "", ""), to_tuple(d, 2, "", "")
    (t, b), (left, r) = resolve_padding(p, 2, "", kernel, stride, dil, (h, w))
    x = F.pad(_one_hots(h, w), (left, r, t, b))  # PyTorch's conv2d pads symmetrically only: pad first
    out = F.conv2d(x, torch.ones(1, 1, *kernel, dtype=torch.float64), stride=stride, dilation=dil)
    assert plan.output_size == tuple(out.shape[2:])
    _check(plan, _reads(out, h, w))
    assert all(len(step.taps) == kernel[0] * kernel[1] for step in plan.steps)


TRANSPOSED = [(3, 3, 2, 1, 1, 1), (4, 4, 2, 1, 1, 0), (3, 3, 1, 0, 1, 0), ((3, 4), (3, 2), (2, 3), (1, 0), 2, 0),
              (4, 3, 2, 3, 1, 0), (2, 2, 3, 0, 1, 2)]


@pytest.mark.parametrize("size,k,s,p,d,op", TRANSPOSED)
def test_transposed_windows_are_pytorchs(size, k, s, p, d, op):
    plan = animate.plan_conv(size, k, s, p, d, transposed=True, output_padding=op)
    h, w = to_tuple(size, 2, "", "")
    kernel = to_tuple(k, 2, "", "")
    out = F.conv_transpose2d(_one_hots(h, w), torch.ones(1, 1, *kernel, dtype=torch.float64), stride=s, padding=p,
                             output_padding=op, dilation=d)
    assert plan.output_size == tuple(out.shape[2:])
    _check(plan, _reads(out, h, w))
    kinds = {plan.kind(y, x) for step in plan.steps for y, x in step.taps}
    assert ("zero" in kinds) == (max(to_tuple(s, 2, "", "")) > 1)


POOLS = [(5, 2, None, 0, 1, True), (5, 3, 2, 1, 1, True), (7, 3, 2, 1, 2, False),
         ((6, 7), (2, 3), (2, 2), (1, 1), 1, True), (4, 2, 1, 0, 1, False)]


@pytest.mark.parametrize("size,k,s,p,d,ceil", POOLS)
def test_pool_windows_are_pytorchs(size, k, s, p, d, ceil):
    plan = animate.plan_pool(size, k, s, p, d, ceil)
    h, w = to_tuple(size, 2, "", "")
    # one-hot images are >= 0 and every window holds an input cell, so the max is 1 exactly where it is read
    out = F.max_pool2d(_one_hots(h, w), k, s, p, d, ceil_mode=ceil)
    assert plan.output_size == tuple(out.shape[2:])
    _check(plan, _reads(out, h, w))


def test_ceil_mode_grid_grows_past_the_padding():
    plan = animate.plan_pool(5, 2, ceil_mode=True)
    assert plan.cols == (0, 5) and plan.kind(5, 5) == "outside" and plan.kind(4, 4) == "input"
    assert plan.steps[-1].taps == ((4, 4), (4, 5), (5, 4), (5, 5))


def _count(img, color):
    rgb = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
    return int((np.asarray(img) == rgb).all(axis=-1).sum())


def test_frames_one_per_output_cell_and_readable(tmp_path):
    anim = animate.conv(5, 3, stride=2, padding=1, dilation=1)
    frames = anim.frames()
    assert len(frames) == 9 and len({f.size for f in frames}) == 1
    for i, f in enumerate(frames):
        a = np.asarray(f)
        assert a.std() > 20 and len(np.unique(a.reshape(-1, 3), axis=0)) > 8  # not blank
        assert _count(f, COLORS["now"]) > 200 and _count(f, COLORS["tap"]) > 200  # the window, the cell written
        assert (_count(f, COLORS["done"]) > 400) == (i > 0)  # cells written before (the legend's swatch is less)
    assert not np.array_equal(np.asarray(frames[0]), np.asarray(frames[1]))
    path = anim.save(tmp_path / "sub" / "conv.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 9 and gif.size == frames[0].size
    png = anim.save(tmp_path / "conv.png")
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == frames[0].size


def test_transposed_frame_shows_inserted_zeros():
    frames = animate.conv(3, 3, stride=2, padding=1, transposed=True).frames()
    assert len(frames) == 25
    assert _count(frames[0], COLORS["tap0"]) > 0  # the window lies on inserted zeros / padding too


def test_caption_is_inspects_formula():
    import cnnlab.inspect as ci
    plan = animate.plan_conv(7, 3, stride=2, padding="same")
    text = ci.explain_conv((7, 7), 3, 2, "same")
    assert plan.caption[0] == text.splitlines()[0]
    assert all(line in text for line in plan.caption)
    assert any("TensorFlow" in line for line in plan.caption)


def test_errors():
    with pytest.raises(ShapeError, match=r"animate.conv: the drawn grid must be at most 40 cells a side.*Got a grid "
                                         r"of 42x42"):
        animate.conv(40, 3, padding=1)
    with pytest.raises(ShapeError, match=r"^animate.conv: output size would be 0 or less.*Got H=2 with kernel_size=3"):
        animate.conv(2, 3)
    with pytest.raises(ShapeError, match="^animate.conv: output size would be 0 or less.*output_padding=0"):
        animate.conv(2, 3, stride=1, padding=3, transposed=True)
    with pytest.raises(ShapeError, match="^animate.pool: pad should be at most half"):
        animate.pool(5, 2, padding=2)
    with pytest.raises(ValueError, match=r"must end in .gif .* Got path='a.jpg'"):
        animate.conv(5, 3).save("a.jpg")
    with pytest.raises(ValueError, match="cell .* Got cell=5"):
        animate.conv(5, 3, cell=5)
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg'. Got mode='min'"):
        animate.pool(5, 2, mode="min")
    with pytest.raises(TypeError, match=r"input must be a spatial size: an int or \(H, W\). Got input=\(1, 2, 3\)"):
        animate.conv((1, 2, 3), 3)


def test_without_pillow_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install cnnlab\[images\]"):
        animate.conv(5, 3).frames()


def test_cli(tmp_path, capsys):
    out = tmp_path / "c.gif"
    assert main(["animate", "conv", "--input", "5", "--kernel", "3", "--stride", "2", "--padding", "1", "--out",
                 str(out)]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 9
    assert "9 frames written" in capsys.readouterr().out
    out = tmp_path / "t.gif"
    assert main(["animate", "conv", "--input", "5,6", "--kernel", "3", "--padding", "1,0,2,1", "--out", str(out)]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 4 * 7
    out = tmp_path / "p.gif"
    assert main(["animate", "pool", "--input", "5", "--kernel", "2", "--ceil-mode", "--out", str(out)]) == 0
    assert main(["animate", "conv", "--input", "3", "--kernel", "3", "--stride", "2", "--transposed", "--out",
                 str(tmp_path / "u.gif")]) == 0
    out = tmp_path / "o.gif"  # output padding and dilation given (a parsed tuple) and left at their defaults
    assert main(["animate", "conv", "--input", "3", "--kernel", "3", "--stride", "2", "--transposed",
                 "--output-padding", "1", "--dilation", "2", "--out", str(out)]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 10 * 10  # (3-1)*2 + 2*(3-1) + 1 + 1
    capsys.readouterr()
    assert main(["animate", "conv", "--input", "2", "--kernel", "3", "--out", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnnlab animate: output size would be 0 or less") and err.count("\n") == 1
    assert main(["animate", "conv", "--input", "5", "--kernel", "3", "--out", "x.jpg"]) == 2
    assert "--out must end in .gif" in capsys.readouterr().err
