"""torchvision.utils.make_grid and save_image: a batch of images tiled into one picture, and that picture as a
file. Same signatures and results as torchvision's (tests/test_make_grid.py compares them)."""
import math
import numbers

import numpy as np

from ..creation import from_numpy
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor

__all__ = ["make_grid", "save_image"]


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch of images into one image, `nrow` per row, with `padding` pixels of `pad_value` between.

    Args:
        tensor (Tensor or list of Tensors): a batch (B, C, H, W), one image (C, H, W) or (H, W), or a list of
            images of one size. One-channel images become three-channel (gray) images, as torchvision.
        nrow (int, default 8): images per row; the grid has ceil(B / nrow) rows.
        padding (int, default 2): pixels between the images and around the grid.
        normalize (bool, default False): shift and scale the values to [0, 1], using `value_range` (clamped
            to it first) or else the tensor's own min and max.
        value_range (tuple (min, max), default None): the range `normalize` maps to [0, 1].
        scale_each (bool, default False): with normalize, scale every image by its own min and max.
        pad_value (float, default 0.0): the value of the padding pixels.

    Shape:
        (C, rows * (H + padding) + padding, min(nrow, B) * (W + padding) + padding), C being 3 for one-channel
        input; a batch of one image is returned alone, without padding: (C, H, W).

    Returns:
        Tensor: a new tensor with the input's dtype (not connected to the autograd graph).

    Raises:
        TypeError: not a tensor or a list of tensors; value_range not a tuple.
        ValueError: images of different sizes in a list, a tensor that is not 2-d to 4-d.

    Matches torchvision.utils.make_grid.

    >>> import cnnlab
    >>> from cnnlab.utils import make_grid
    >>> make_grid(cnnlab.zeros(10, 1, 28, 28), nrow=5).shape
    cnnlab.Size([3, 62, 152])
    """
    x = _as_batch(tensor)
    if normalize is True:
        if value_range is not None and not isinstance(value_range, tuple):
            raise DTypeError(f"make_grid: value_range has to be a tuple (min, max) of numbers. "
                             f"Got value_range={value_range!r}.")
        x = x.astype(np.result_type(x.dtype, np.float32)) if x.dtype.kind != "f" else x.copy()
        if scale_each is True:
            for image in x:  # every image of the batch by its own range
                _normalize(image, value_range)
        else:
            _normalize(x, value_range)
    if x.shape[0] == 1:
        return from_numpy(np.ascontiguousarray(x[0]))
    B, C, H, W = x.shape
    cols = min(nrow, B)
    rows = int(math.ceil(B / cols))
    cell_h, cell_w = H + padding, W + padding
    grid = np.full((C, cell_h * rows + padding, cell_w * cols + padding), pad_value, dtype=x.dtype)
    for k in range(B):
        top, left = (k // cols) * cell_h + padding, (k % cols) * cell_w + padding
        grid[:, top:top + H, left:left + W] = x[k]
    return from_numpy(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor (or a batch, tiled by `make_grid`) as an image file; values in [0, 1] map to 0..255.

    Args:
        tensor (Tensor or list of Tensors): as for `make_grid`.
        fp (str, path or file object): where to write.
        format (str, default None): the file format (Pillow's name); None takes it from the file name.
        **kwargs: make_grid's arguments (nrow, padding, normalize, value_range, scale_each, pad_value).

    Raises:
        ImportError: Pillow is not installed.

    Matches torchvision.utils.save_image (same rounding: round(value * 255) clamped to 0..255).

    >>> import cnnlab, tempfile, os
    >>> from cnnlab.utils import save_image
    >>> path = os.path.join(tempfile.mkdtemp(), "noise.png")
    >>> save_image(cnnlab.rand(4, 3, 8, 8), path, nrow=2)
    >>> from PIL import Image
    >>> Image.open(path).size
    (22, 22)
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("save_image needs Pillow: pip install pillow") from None
    grid = make_grid(tensor, **kwargs).numpy()
    # torchvision: mul(255).add_(0.5).clamp_(0, 255) then truncation to uint8, i.e. round half up
    pixels = np.clip(grid.astype(np.float32) * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    if pixels.shape[2] == 1:  # (H, W, 1) is not an image mode; a gray image it is
        pixels = pixels[:, :, 0]
    Image.fromarray(pixels).save(fp, format=format)


def _as_batch(tensor):
    """The images as a (B, C, H, W) NumPy array, one-channel images made three-channel."""
    if isinstance(tensor, (list, tuple)) and not isinstance(tensor, Tensor):
        for t in tensor:
            if not isinstance(t, Tensor):
                raise DTypeError(f"make_grid: expected a tensor or a list of tensors. Got a list containing "
                                 f"{type(t).__name__}.")
        if not tensor:
            raise ShapeError("make_grid: expected a non-empty list of tensors. Got an empty list.")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) > 1:
            raise ShapeError(f"make_grid: the images of a list must have one shape. Got shapes "
                             f"{sorted(shapes)}.")
        x = np.stack([t.detach().numpy() for t in tensor])
    elif isinstance(tensor, Tensor):
        x = tensor.detach().numpy()
    else:
        raise DTypeError(f"make_grid: expected a tensor or a list of tensors. Got {type(tensor).__name__}.")
    if x.ndim == 2:  # one image (H, W)
        x = x[None]
    if x.ndim == 3:  # one image (C, H, W)
        if x.shape[0] == 1:
            x = np.concatenate([x, x, x], 0)
        x = x[None]
    if x.ndim != 4:
        raise ShapeError(f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W). Got tensor.shape="
                         f"{tuple(x.shape)}.")
    if 0 in x.shape:
        raise ShapeError(f"make_grid: expected at least one image of at least 1x1 pixels. Got tensor.shape="
                         f"{tuple(x.shape)}.")
    if x.shape[1] == 1:
        x = np.concatenate([x, x, x], 1)
    return x


def _normalize(x, value_range):
    """In place: clamp to the range and map it to [0, 1] (the tensor's own min and max when no range)."""
    if value_range is not None:
        low, high = value_range
        if not all(isinstance(v, numbers.Real) for v in (low, high)):
            raise DTypeError(f"make_grid: value_range has to be a tuple (min, max) of numbers. "
                             f"Got value_range={value_range!r}.")
    else:
        low, high = float(x.min()), float(x.max())
    np.clip(x, low, high, out=x)
    x -= low
    x /= max(high - low, 1e-5)
