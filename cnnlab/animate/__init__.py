"""Animations of the convolution and pooling arithmetic (the sliding-window figures of Dumoulin & Visin, for any
configuration), drawn with Pillow (the optional extra: pip install cnnlab[images]).

Each frame shows the input grid with its padding shaded and its coordinates (negative = padding), the window
reading its cells (a dilated window's extent outlined), the output cell being written, the output-size formula
of cnnlab.inspect filled in with the numbers, and the step. One frame per output cell.

- `conv(input, kernel_size, stride, padding, dilation, transposed, output_padding, path=...)`
- `pool(input, kernel_size, stride, padding, dilation, ceil_mode, mode, path=...)`

The command line: `cnnlab animate conv --input 5 --kernel 3 --stride 2 --padding 1 --out conv.gif`.
"""
import os

from .draw import render
from .plan import MAX_CELLS, Plan, Step, plan_conv, plan_pool

__all__ = ["conv", "pool", "Animation", "plan_conv", "plan_pool", "Plan", "Step", "MAX_CELLS"]


class Animation:
    """A planned animation: `plan` (its geometry and steps), `frames()` (PIL Images, one per output cell) and
    `save(path)` (an animated GIF, or one frame as a PNG)."""

    def __init__(self, plan, cell=32, duration=700, pool_mode=None):
        self.plan, self.cell, self.duration, self.pool_mode = plan, cell, duration, pool_mode

    def __len__(self):
        return len(self.plan.steps)

    def __repr__(self):
        return f"Animation({self.plan.caption[0]}, {len(self)} frames)"

    def frames(self):
        """The frames as RGB PIL Images."""
        return render(self.plan, self.cell, self.pool_mode)

    def save(self, path, frame=None):
        """Write an animated GIF (looping; `duration` ms a frame, the last held longer), or with frame=i (or a
        path ending in .png) that one frame as a PNG (default the middle one). Folders are created.
        Returns the path."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        if ext not in (".gif", ".png"):
            raise ValueError(f"animate: the file must end in .gif (the animation) or .png (one frame). Got "
                             f"path={path!r}.")
        frames = self.frames()
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if ext == ".png" or frame is not None:
            i = len(frames) // 2 if frame is None else frame
            if not -len(frames) <= i < len(frames):
                raise IndexError(f"animate: frame must be in range for {len(frames)} frames. Got frame={frame}.")
            frames[i].save(path, format="PNG" if ext == ".png" else "GIF")
            return path
        durations = [self.duration] * (len(frames) - 1) + [self.duration * 3]
        # one shared palette of a few dozen colours (flat cells and anti-aliased text need no more): 4-5x smaller
        first = frames[0].quantize(colors=64, dither=0)
        frames = [first] + [f.quantize(palette=first, dither=0) for f in frames[1:]]
        frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
        return path


def _check_draw_args(op, cell, duration):
    if not isinstance(cell, int) or isinstance(cell, bool) or not 12 <= cell <= 96:
        raise ValueError(f"{op}: cell (pixels a grid cell) must be an int from 12 to 96. Got cell={cell!r}.")
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 20:
        raise ValueError(f"{op}: duration (ms a frame) must be an int of at least 20. Got duration={duration!r}.")


def conv(input, kernel_size, stride=1, padding=0, dilation=1, transposed=False, output_padding=0, path=None,
         cell=32, duration=700):
    """Animate a 2-d convolution: the window sliding over the (padded) input, one frame per output cell.

    Args:
        input (int or (H, W)): the input's spatial size.
        kernel_size, stride (default 1), dilation (default 1): ints or pairs, as F.conv2d takes them.
        padding (default 0): an int, a pair, ((top, bottom), (left, right)), 'valid', 'same' (any stride:
            TensorFlow's ceil(input / stride)) or 'same_lower'.
        transposed (bool, default False): a transposed convolution (F.conv_transpose2d), drawn as a stride-1
            convolution over the input with stride - 1 zeros inserted between values; output_padding (default
            0) as F.conv_transpose2d.
        path (str, optional): write the animation there (.gif; .png for the middle frame).
        cell (int, default 32): pixels per grid cell. duration (int, default 700): milliseconds per frame.

    Returns:
        Animation: its `plan` holds the steps (output cell, grid cells read, input cells read).

    Raises:
        ShapeError: what the layer refuses (an output of 0 or less, ...), or a grid over MAX_CELLS a side.
        ImportError: Pillow missing (when drawing).

    >>> import cnnlab.animate as animate
    >>> a = animate.conv(5, 3, stride=2, padding=1)
    >>> len(a), a.plan.caption[1]
    (9, "H_out = floor((5 + 1 + 1 - 3) / 2) + 1 = floor(4/2) + 1 = 3  (PyTorch's floor rule)")
    >>> a.plan.steps[0].inputs
    ((0, 0), (0, 1), (1, 0), (1, 1))
    >>> animate.conv(3, 3, stride=2, transposed=True).plan.output_size
    (7, 7)
    """
    _check_draw_args("animate.conv", cell, duration)
    anim = Animation(plan_conv(input, kernel_size, stride, padding, dilation, transposed, output_padding), cell,
                     duration)
    if path is not None:
        anim.save(path)
    return anim


def pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, mode="max", path=None, cell=32,
         duration=700):
    """Animate a 2-d pooling window (stride defaults to kernel_size); cells past the padding that only a
    ceil_mode window reaches are drawn hatched on white. mode ('max' or 'avg') names the reduction in the
    caption. Other arguments and the result as conv.

    >>> import cnnlab.animate as animate
    >>> a = animate.pool(5, 2, ceil_mode=True)
    >>> len(a), a.plan.steps[-1].inputs
    (9, ((4, 4),))
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"animate.pool: mode must be 'max' or 'avg'. Got mode={mode!r}.")
    _check_draw_args("animate.pool", cell, duration)
    anim = Animation(plan_pool(input, kernel_size, stride, padding, dilation, ceil_mode), cell, duration, mode)
    if path is not None:
        anim.save(path)
    return anim
