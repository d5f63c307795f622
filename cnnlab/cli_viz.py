"""The `cnnlab filter` command: a classical kernel of cnnlab.filters applied to a photo, written as a PNG, or
(--all) a contact sheet of every kernel. Drawn with Pillow (needed to read the photo anyway), not matplotlib.

cli.py adds it to its parser with register(parser); bad arguments end as one line (CLIError, exit 2).
"""
import argparse
import os

import numpy as np

from . import filters
from .cli_args import HelpFormatter
from .cli_common import CLIError, say
from .data.datasets.folder import open_image, require_pillow
from .viz.response import abs_sum_is_zero

__all__ = ["register", "cmd_filter", "to_pixels"]

FILTER_EPILOG = """Edge detectors (kernels summing to 0) give signed results: written with 0 as mid gray, white where
the kernel's positive side is brighter, black where its negative side is (--abs: edge strength, black to
white). Their scale ends at the 99th percentile of |result| so ordinary edges show. Blur and sharpen kernels
give an image again, clipped to black..white. The photo is filtered in gray unless --color is given.

examples:
  cnnlab filter photo.jpg --kernel sobel_vertical --out edges.png
  cnnlab filter photo.jpg --kernel sobel_horizontal --abs --out edges.png
  cnnlab filter photo.jpg --kernel gaussian_blur_5 --color --padding-mode replicate --out blur.png
  cnnlab filter photo.jpg --all --out sheet.png
  cnnlab filter --list"""


def register(parser):
    """Add the filter command to the cnnlab parser (its subparsers); returns the parser."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    summary = "apply a classical image kernel (Sobel, Scharr, Prewitt, blur, sharpen, ...) to a photo"
    p = sub.add_parser("filter", help=summary, description=summary[0].upper() + summary[1:] + ".",
                       formatter_class=HelpFormatter, epilog=FILTER_EPILOG)
    p.add_argument("image", nargs="?", help="the photo (any format Pillow reads)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--kernel", choices=filters.names(), metavar="NAME",
                      help="the kernel: " + ", ".join(filters.names()))
    what.add_argument("--all", action="store_true", help="a contact sheet of every kernel")
    what.add_argument("--list", action="store_true", help="list the kernels with their numbers and exit")
    p.add_argument("--out", metavar="FILE.png", help="where to write (default: IMAGE_KERNEL.png, or "
                   "IMAGE_filters.png with --all, in the current folder)")
    p.add_argument("--abs", action="store_true", help="edge detectors: write |result| (edge strength)")
    p.add_argument("--color", action="store_true", help="filter each RGB channel instead of the gray image")
    p.add_argument("--padding-mode", default="replicate", choices=filters.PADDING_MODES,
                   help="what the border holds ('same' padding)")
    p.add_argument("--size", type=int, default=256, metavar="PIXELS",
                   help="--all: the longest side of each picture of the sheet")
    p.set_defaults(func=cmd_filter, command="filter")
    return parser


def cmd_filter(args):
    """Run `cnnlab filter` with parsed arguments; returns the exit code (bad arguments raise CLIError)."""
    if args.list:
        for name in filters.names():
            k = filters.kernel(name, dtype=None).numpy()
            say(f"{name:<19} {k.shape[0]}x{k.shape[1]}  {filters.describe(name)}")
        return 0
    if not args.image:
        raise CLIError("give the photo to filter: cnnlab filter PHOTO --kernel NAME (or --all, or --list).")
    if not args.kernel and not args.all:
        raise CLIError("give --kernel NAME or --all (cnnlab filter --list shows the kernels).")
    if not os.path.exists(args.image):
        raise CLIError(f"no such image file: {args.image}")
    if args.size < 16:
        raise CLIError(f"--size must be at least 16 pixels. Got --size={args.size}.")
    stem = os.path.splitext(os.path.basename(args.image))[0]
    out = args.out or f"{stem}_{'filters' if args.all else args.kernel}.png"
    if os.path.isdir(out):
        raise CLIError(f"--out: expected a file name, got the folder {out}.")
    Image = require_pillow("filter")  # a missing Pillow is one line saying how to install it
    if os.path.splitext(out)[1].lower() not in Image.registered_extensions():
        raise CLIError(f"--out: the file name must end in an image format's extension such as .png or .jpg. "
                       f"Got --out={out}.")
    img = open_image(args.image, "filter")
    img = img.convert("RGB" if args.color else "L")
    if args.all:
        img.thumbnail((args.size, args.size), getattr(Image, "Resampling", Image).LANCZOS)  # Pillow 9.0 too
    pixels = np.asarray(img, dtype=np.float32) / 255  # (H, W) or (H, W, 3)
    chw = pixels.transpose(2, 0, 1) if pixels.ndim == 3 else pixels
    if args.all:
        sheet = contact_sheet(chw, args.padding_mode, args.abs)
        _save(sheet, out)
        say(f"wrote {out}: {len(filters.names())} kernels on {args.image} ({sheet.width}x{sheet.height})")
        return 0
    result = filters.apply(chw, args.kernel, padding_mode=args.padding_mode)
    picture = to_pixels(result, filters.kernel(args.kernel).numpy(), args.abs)
    _save(_image(picture), out)
    say(f"wrote {out}: {args.kernel} on {args.image} ({img.width}x{img.height}"
        f"{', gray' if not args.color else ''}{', |result|' if args.abs else ''})")
    return 0


def to_pixels(result, kernel, absolute=False):
    """A filtered image as 8-bit pixels: detectors (kernel sum 0) signed around mid gray or, absolute,
    |result| from black; the scale ends at the 99th percentile of |result|. Other kernels: clipped to [0, 1].

    >>> import numpy as np
    >>> to_pixels(np.array([[-1.0, 0.0, 1.0]]), np.array([[1.0, 0.0, -1.0]])).tolist()
    [[0, 128, 255]]
    """
    if abs_sum_is_zero(kernel):
        magnitude = np.abs(result)
        top = float(np.percentile(magnitude, 99)) or float(magnitude.max()) or 1.0
        scaled = magnitude / top if absolute else 0.5 + result / (2 * top)
    else:
        scaled = result
    return np.round(np.clip(scaled, 0, 1) * 255).astype(np.uint8)


def contact_sheet(chw, padding_mode="replicate", absolute=False):
    """Every kernel of cnnlab.filters applied to one image (H, W) or (3, H, W) in [0, 1], each picture drawn as
    `cnnlab filter` draws it and labelled, 4 per row: a Pillow image.

    >>> import numpy as np
    >>> contact_sheet(np.random.default_rng(0).random((20, 30))).size   # 18 pictures: 5 rows of 4
    (150, 246)
    """
    from PIL import Image, ImageDraw, ImageFont
    pictures = [("original", _image(np.round(np.clip(chw, 0, 1) * 255).astype(np.uint8)))]
    for name in filters.names():
        result = filters.apply(chw, name, padding_mode=padding_mode)
        pictures.append((name, _image(to_pixels(result, filters.kernel(name).numpy(), absolute))))
    w, h = pictures[0][1].size
    label, gap, cols = 22, 6, 4
    rows = -(-len(pictures) // cols)
    sheet = Image.new("RGB", (cols * (w + gap) + gap, rows * (h + label + gap) + gap), "white")
    draw = ImageDraw.Draw(sheet)
    try:
        font = ImageFont.load_default(size=15)
    except TypeError:  # Pillow before 10.1: the small bitmap font only
        font = ImageFont.load_default()
    for i, (name, picture) in enumerate(pictures):
        x, y = gap + (i % cols) * (w + gap), gap + (i // cols) * (h + label + gap)
        draw.text((x + 2, y + 2), name, fill="black", font=font)
        sheet.paste(picture.convert("RGB"), (x, y + label))
    return sheet


def _image(pixels):
    from PIL import Image
    return Image.fromarray(pixels.transpose(1, 2, 0) if pixels.ndim == 3 else pixels)


def _save(image, out):
    """Write in the format the file name says (edges.png, edges.jpg, ...)."""
    folder = os.path.dirname(out)
    if folder:
        os.makedirs(folder, exist_ok=True)
    try:
        image.save(out)
    except (OSError, ValueError) as e:
        raise CLIError(f"--out: cannot write {out}: {e}") from None
