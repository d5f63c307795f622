"""The classical image kernels of the lecture notes, and filtering an image with them the way a CNN layer does.

`kernel(name)` gives a kernel as a float tensor, `names()` lists them, `apply(image, kernel)` filters every
channel of an image with `F.conv2d` (cross-correlation: the kernel is not flipped, as in the notes and
PyTorch), and `gradient_magnitude` combines a vertical and a horizontal edge detector.

The kernels are written exactly as the notes write them. "vertical" kernels respond to vertical edges (they
differentiate along the width): [[1, 0, -1], ...] gives a positive output where the image is brighter on the
left, negative where it is brighter on the right. Each `_horizontal` kernel is the transpose of its
`_vertical` twin.
"""
import numbers

import numpy as np

import cnnlab
import cnnlab.nn.functional as F
from .errors import DTypeError, ShapeError

__all__ = ["names", "kernel", "describe", "entries", "apply", "gradient_magnitude", "PADDING_MODES"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

_BINOMIAL_5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])  # Pascal's row 4, outer product: sums to 256

# name -> (integer entries, divisor, one line for people). Entries stay integers so the table reads as the notes.
_TABLE = {
    "identity": ([[0, 0, 0], [0, 1, 0], [0, 0, 0]], 1, "leaves the image unchanged"),
    "vertical_edge": ([[1, 0, -1], [1, 0, -1], [1, 0, -1]], 1, "vertical edges: bright left, dark right > 0"),
    "horizontal_edge": ([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], 1, "horizontal edges: bright top, dark bottom > 0"),
    "sobel_vertical": ([[1, 0, -1], [2, 0, -2], [1, 0, -1]], 1, "Sobel: vertical edges, centre row weighted 2"),
    "sobel_horizontal": ([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], 1, "Sobel: horizontal edges"),
    "scharr_vertical": ([[3, 0, -3], [10, 0, -10], [3, 0, -3]], 1, "Scharr: vertical edges, better rotation "
                        "symmetry than Sobel"),
    "scharr_horizontal": ([[3, 10, 3], [0, 0, 0], [-3, -10, -3]], 1, "Scharr: horizontal edges"),
    "prewitt_vertical": ([[1, 0, -1], [1, 0, -1], [1, 0, -1]], 1, "Prewitt: vertical edges, rows weighted "
                         "equally"),
    "prewitt_horizontal": ([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], 1, "Prewitt: horizontal edges"),
    "edge_4": ([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], 1, "edges in every direction (Laplacian, 4 neighbours)"),
    "edge_8": ([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], 1, "edges in every direction (8 neighbours)"),
    "sharpen": ([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], 1, "sharpen: the image plus its edge_4 edges"),
    "box_blur": ([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 9, "mean of the 3x3 neighbourhood"),
    "gaussian_blur_3": ([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 16, "Gaussian blur 3x3 (binomial approximation)"),
    "gaussian_blur_5": (_BINOMIAL_5.tolist(), 256, "Gaussian blur 5x5 (binomial approximation)"),
    # Unsharp masking, image + (image - gaussian_blur_5), as one kernel: -1/256 * the binomial with centre -476.
    "unsharp_mask_5": ([[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, -476, 24, 6], [4, 16, 24, 16, 4],
                        [1, 4, 6, 4, 1]], -256, "unsharp masking 5x5: sharpen by subtracting a Gaussian blur"),
    "emboss": ([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], 1, "emboss: lit from the bottom right"),
}

# gradient_magnitude's operators: (vertical kernel, horizontal kernel)
_OPERATORS = {"sobel": ("sobel_vertical", "sobel_horizontal"), "scharr": ("scharr_vertical", "scharr_horizontal"),
              "prewitt": ("prewitt_vertical", "prewitt_horizontal"), "edge": ("vertical_edge", "horizontal_edge")}


def names():
    """The names `kernel` accepts, in the order of the notes (edge detectors first, then the image kernels).

    >>> from cnnlab import filters
    >>> filters.names()[:3]
    ['identity', 'vertical_edge', 'horizontal_edge']
    >>> len(filters.names())
    17
    """
    return list(_TABLE)


def describe(name):
    """One line saying what the kernel `name` does.

    >>> from cnnlab import filters
    >>> filters.describe("box_blur")
    'mean of the 3x3 neighbourhood'
    """
    return _TABLE[_check_name(name, "describe")][2]


def entries(name):
    """The kernel `name` as the notes write it: (integer rows, divisor); kernel(name) is rows / divisor.

    >>> from cnnlab import filters
    >>> filters.entries("gaussian_blur_3")
    ([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 16)
    """
    rows, divisor, _ = _TABLE[_check_name(name, "entries")]
    return [list(row) for row in rows], divisor


def kernel(name, dtype=None):
    """The kernel `name` as a 2-d float tensor (KH, KW).

    Args:
        name (str): one of `names()`.
        dtype (cnnlab.dtype, default None = the default dtype, float32): the tensor's dtype.

    Returns:
        Tensor: a new tensor of shape (KH, KW) (3x3 or 5x5); changing it does not change the table.

    Raises:
        ValueError: an unknown name (the message lists the known ones).

    >>> from cnnlab import filters
    >>> filters.kernel("sobel_vertical").tolist()
    [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]
    >>> float(filters.kernel("gaussian_blur_5").sum())
    1.0
    """
    entries, divisor, _ = _TABLE[_check_name(name, "kernel")]
    values = np.asarray(entries, dtype=np.float64) / divisor
    return cnnlab.tensor(values, dtype=dtype or cnnlab.get_default_dtype())


def apply(image, name_or_kernel, padding="same", padding_mode="zeros"):
    """Filter every channel of an image with one 2-d kernel, as a convolution layer does (cross-correlation).

    Each channel is filtered on its own with the same kernel (`F.conv2d` on the channels folded into the
    batch), so colour images stay colour images. The kernel is not flipped: output[i, j] is the sum of
    kernel * the window whose top-left corner is input[i - top pad, j - left pad].

    Args:
        image (Tensor or numpy array): (H, W), (C, H, W) or (N, C, H, W). Integer arrays (8-bit photos) become
            float32; a float64 input stays float64. A tensor that requires grad gets gradients.
        name_or_kernel (str, Tensor, array or nested list): a name of `names()` or a 2-d kernel (KH, KW).
        padding (str, int or (int, int), default 'same'): 'same' (the output keeps H and W; an even kernel pads
            one more after than before, as PyTorch), 'valid' (no padding), or the rows/columns added on each
            side.
        padding_mode (str, default 'zeros'): what the border holds: 'zeros', 'reflect' (mirror without
            repeating the edge pixel), 'replicate' (repeat the edge pixel) or 'circular' (wrap around).

    Shape:
        Same layout as the input; H_out = H + pad_top + pad_bottom - KH + 1, likewise W_out.

    Returns:
        The filtered image: a Tensor for a Tensor input, a NumPy array for an array input.

    Raises:
        ValueError: an unknown kernel name or padding mode, a kernel that is not 2-d, an image that is not
            2-d to 4-d, reflect padding not smaller than the image, an output of size 0 or less.
        TypeError: an image or kernel of the wrong type.

    >>> import numpy as np
    >>> from cnnlab import filters
    >>> step = np.array([[9, 9, 0, 0]] * 3)          # bright left, dark right
    >>> filters.apply(step, "vertical_edge", padding="valid")
    array([[27., 27.]], dtype=float32)
    >>> filters.apply(step, "box_blur", padding_mode="replicate")[1]
    array([9., 6., 3., 0.], dtype=float32)
    """
    x, as_array = _image_tensor(image, "apply")
    k = _kernel_tensor(name_or_kernel, x.dtype, "apply")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"apply: padding_mode must be one of {', '.join(PADDING_MODES)}. "
                         f"Got padding_mode={padding_mode!r}.")
    shape = tuple(x.shape)
    H, W = shape[-2:]
    KH, KW = k.shape
    top, bottom, left, right = _pads(padding, KH, KW)
    if padding_mode == "reflect" and max(top, bottom) >= H or padding_mode == "reflect" and max(left, right) >= W:
        raise ShapeError(f"apply: reflect padding must be smaller than the image. Got image H={H}, W={W} with "
                         f"padding (top, bottom, left, right)={(top, bottom, left, right)}, kernel {KH}x{KW}.")
    if padding_mode == "circular" and (max(top, bottom) > H or max(left, right) > W):
        raise ShapeError(f"apply: circular padding must not be larger than the image. Got image H={H}, W={W} with "
                         f"padding (top, bottom, left, right)={(top, bottom, left, right)}, kernel {KH}x{KW}.")
    OH, OW = H + top + bottom - KH + 1, W + left + right - KW + 1
    if OH < 1 or OW < 1:
        raise ShapeError(f"apply: output size would be 0 or less. Got image H={H}, W={W}, kernel {KH}x{KW}, "
                         f"padding={padding!r} (H_out={OH}, W_out={OW}).")
    planes = x.reshape(-1, 1, H, W)  # (N*C, 1, H, W): every channel filtered alone with the same kernel
    if top or bottom or left or right:
        mode = "constant" if padding_mode == "zeros" else padding_mode
        planes = F.pad(planes, (left, right, top, bottom), mode=mode)
    out = F.conv2d(planes, k.reshape(1, 1, KH, KW))  # (N*C, 1, OH, OW)
    out = out.reshape(*shape[:-2], OH, OW)
    if as_array:
        return out.detach().numpy()
    return out if isinstance(out, cnnlab.Tensor) else cnnlab.tensor(out)


def gradient_magnitude(image, operator="sobel", padding="same", padding_mode="zeros"):
    """The edge strength sqrt(Gx**2 + Gy**2) of an image, from an operator's vertical and horizontal kernels.

    Args:
        image (Tensor or numpy array): as for `apply`.
        operator (str, default 'sobel'): 'sobel', 'scharr', 'prewitt' or 'edge' (the notes' plain
            vertical_edge/horizontal_edge pair).
        padding, padding_mode: as for `apply`.

    Returns:
        Same type and shape as `apply(image, ...)`, every value >= 0.

    >>> import numpy as np
    >>> from cnnlab import filters
    >>> filters.gradient_magnitude(np.array([[0, 0, 3, 3]] * 3), padding="valid")
    array([[12., 12.]], dtype=float32)
    """
    if operator not in _OPERATORS:
        raise ValueError(f"gradient_magnitude: operator must be one of {', '.join(_OPERATORS)}. "
                         f"Got operator={operator!r}.")
    vertical, horizontal = _OPERATORS[operator]
    gx = apply(image, vertical, padding, padding_mode)
    gy = apply(image, horizontal, padding, padding_mode)
    if isinstance(gx, np.ndarray):
        return np.sqrt(gx * gx + gy * gy)
    return (gx * gx + gy * gy).sqrt()


# ---- argument checks -----------------------------------------------------------------------------------------
def _check_name(name, op):
    if not isinstance(name, str) or name not in _TABLE:
        raise ValueError(f"{op}: the kernel name must be one of {', '.join(_TABLE)}. Got name={name!r}.")
    return name


def _image_tensor(image, op):
    """(float tensor, whether the caller gave a NumPy array)."""
    if isinstance(image, cnnlab.Tensor):
        x, as_array = image, False
    elif isinstance(image, np.ndarray):
        x, as_array = image, True
    else:
        raise DTypeError(f"{op}: the image must be a Tensor or a NumPy array. Got image of type "
                         f"{type(image).__name__}.")
    if x.ndim not in (2, 3, 4):
        raise ShapeError(f"{op}: the image must be (H, W), (C, H, W) or (N, C, H, W). Got image.shape="
                         f"{tuple(x.shape)}.")
    if as_array:
        if x.dtype.kind not in "biuf":
            raise DTypeError(f"{op}: the image must hold numbers. Got image.dtype={x.dtype}.")
        arr = x if x.dtype in (np.float32, np.float64) else x.astype(np.float32)
        return cnnlab.from_numpy(np.ascontiguousarray(arr)), True
    if not x.is_floating_point():
        x = x.float()
    return x, False


def _kernel_tensor(k, dtype, op):
    if isinstance(k, str):
        return kernel(_check_name(k, op), dtype=dtype)
    if isinstance(k, cnnlab.Tensor):
        k = k.detach().numpy()
    try:
        arr = np.asarray(k, dtype=np.float64)
    except (TypeError, ValueError):
        raise DTypeError(f"{op}: the kernel must be a name, a Tensor, an array or a nested list of numbers. "
                         f"Got kernel of type {type(k).__name__}.") from None
    if arr.ndim != 2 or 0 in arr.shape:
        raise ShapeError(f"{op}: the kernel must be 2-d (KH, KW) and not empty. Got kernel.shape={arr.shape}.")
    return cnnlab.tensor(arr, dtype=dtype)


def _pads(padding, KH, KW):
    """(top, bottom, left, right)."""
    if padding == "same":  # total K - 1, the odd one after (PyTorch's 'same')
        return (KH - 1) // 2, KH // 2, (KW - 1) // 2, KW // 2
    if padding == "valid":
        return 0, 0, 0, 0
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool) and padding >= 0:
        return padding, padding, padding, padding
    if (isinstance(padding, (tuple, list)) and len(padding) == 2
            and all(isinstance(p, numbers.Integral) and not isinstance(p, bool) and p >= 0 for p in padding)):
        return padding[0], padding[0], padding[1], padding[1]
    raise ValueError(f"apply: padding must be 'same', 'valid', an int >= 0 or a pair (rows, columns). "
                     f"Got padding={padding!r}.")
