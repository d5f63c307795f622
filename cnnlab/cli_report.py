"""The `cnnlab animate` and `cnnlab report` commands: an animated GIF of the convolution or pooling arithmetic
(cnnlab.animate), and the HTML report of a training run (cnnlab.report).

cli.py adds them to its parser with register(parser); bad arguments end as one line (CLIError, exit 2).
"""
import argparse
import os

from . import animate, report
from .cli_args import HelpFormatter, add_window_arguments, int_list
from .cli_common import CLIError, say

__all__ = ["register", "cmd_animate", "cmd_report"]

ANIMATE_EPILOG = """Each frame writes one output cell: the input grid with its padding hatched and its coordinates
(negative = padding), the window reading its cells, the output cell, the formula filled in with the numbers.
A transposed convolution is drawn as a stride-1 convolution over the input with zeros inserted between its
values (Dumoulin & Visin's picture). --out ending in .png writes the middle frame only.

examples:
  cnnlab animate conv --input 5 --kernel 3 --stride 2 --padding 1 --out conv.gif
  cnnlab animate conv --input 7 --kernel 3 --stride 2 --padding same --out same.gif
  cnnlab animate conv --input 7 --kernel 3 --dilation 2 --out dilated.gif
  cnnlab animate conv --input 5,6 --kernel 3 --padding 1,0,2,1 --out asymmetric.gif   (top,bottom,left,right)
  cnnlab animate conv --input 3 --kernel 3 --stride 2 --padding 1 --transposed --out up.gif
  cnnlab animate pool --input 5 --kernel 2 --ceil-mode --out pool.gif"""

REPORT_EPILOG = """The page holds the model's layer table, the training curves, the accuracy per class and the
confusion matrix, the first layer's filters, and for one image (--image, else the first validation image of
the run's data) the prediction and the feature maps of every convolution layer. Pictures are inlined: the
page needs no network and no other file. Needs matplotlib (pip install cnnlab[viz]).

examples:
  cnnlab report --checkpoint runs/lenet5 --out report.html
  cnnlab report --checkpoint runs/lenet5 --image digit.png --out report.html"""


def _one(values):
    return values[0] if isinstance(values, tuple) and len(values) == 1 else values


def register(parser):
    """Add the animate and report commands to the cnnlab parser (its subparsers); returns the parser."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    summary = "an animated GIF of a convolution's or pooling window's arithmetic"
    p = sub.add_parser("animate", help=summary, description=summary[0].upper() + summary[1:] + ".",
                       formatter_class=HelpFormatter, epilog=ANIMATE_EPILOG)
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True, parser_class=type(parser), help="conv or pool")
    for name, text in (("conv", "a convolution (or with --transposed a transposed one) sliding over its input"),
                       ("pool", "a pooling window (stride defaults to the kernel)")):
        q = what.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".", formatter_class=HelpFormatter,
                            epilog=ANIMATE_EPILOG)
        add_window_arguments(q, "5 or 5,6", "3 or 3,2")
        if name == "conv":
            q.add_argument("--transposed", action="store_true", help="a transposed convolution")
            q.add_argument("--output-padding", type=int_list, default=0, metavar="P",
                           help="--transposed: extra rows/columns after (as ConvTranspose2d)")
        else:
            q.add_argument("--ceil-mode", action="store_true", help="keep a last partial window (ceil_mode=True)")
            q.add_argument("--mode", choices=("max", "avg"), default="max", help="the reduction named in the caption")
        q.add_argument("--cell", type=int, default=32, metavar="PIXELS", help="pixels per grid cell")
        q.add_argument("--duration", type=int, default=700, metavar="MS", help="milliseconds per frame")
        q.add_argument("--out", metavar="FILE.gif", default=f"{name}.gif", help="where to write (.gif or .png)")
        q.set_defaults(func=cmd_animate, command="animate")

    summary = "a self-contained HTML page about a training run: model, curves, confusions, filters, feature maps"
    p = sub.add_parser("report", help=summary, description=summary[0].upper() + summary[1:] + ".",
                       formatter_class=HelpFormatter, epilog=REPORT_EPILOG)
    p.add_argument("--checkpoint", required=True, metavar="RUN", help="a run folder written by 'cnnlab train --out'")
    p.add_argument("--image", metavar="FILE", help="the picture to predict and show feature maps for")
    p.add_argument("--top-k", type=int, default=3, metavar="K", help="how many classes the prediction lists")
    p.add_argument("--out", metavar="FILE.html", default="report.html", help="where to write the page")
    p.set_defaults(func=cmd_report, command="report")
    return parser


def cmd_animate(args):
    """Run `cnnlab animate conv|pool` with parsed arguments; returns the exit code."""
    if os.path.splitext(args.out)[1].lower() not in (".gif", ".png"):
        raise CLIError(f"--out must end in .gif (the animation) or .png (the middle frame). Got {args.out}.")
    n = len(args.input)
    if n > 2:
        raise CLIError(f"--input: give 1 or 2 sizes (the animation is 2-d). Got {','.join(map(str, args.input))}.")
    for name in ("kernel", "stride", "dilation"):
        v = getattr(args, name)
        if isinstance(v, tuple) and len(v) not in (1, 2):
            raise CLIError(f"--{name}: give 1 or 2 values (rows, columns). Got {','.join(map(str, v))}.")
    size = args.input * 2 if n == 1 else args.input
    try:
        if args.what == "conv":
            anim = animate.conv(size, _one(args.kernel), _one(args.stride) or 1, _one(args.padding),
                                _one(args.dilation), args.transposed, _one(args.output_padding), cell=args.cell,
                                duration=args.duration)
        else:
            anim = animate.pool(size, _one(args.kernel), _one(args.stride), _one(args.padding), _one(args.dilation),
                                args.ceil_mode, args.mode, cell=args.cell, duration=args.duration)
    except (ValueError, TypeError) as e:  # what the layer refuses is a bad argument here
        raise CLIError(str(e).removeprefix(f"animate.{args.what}: ")) from None
    anim.save(args.out)
    say(f"{anim.plan.caption[0]}: {len(anim)} frames written to {args.out}")
    return 0


def cmd_report(args):
    """Run `cnnlab report` with parsed arguments; returns the exit code."""
    if args.top_k < 1:
        raise CLIError(f"--top-k must be at least 1. Got {args.top_k}.")
    if args.image is not None and not os.path.isfile(args.image):
        raise CLIError(f"--image: no such file: {args.image}")
    if not os.path.exists(args.checkpoint):
        raise CLIError(f"--checkpoint: no such run folder or checkpoint file: {args.checkpoint}")
    report.write_report(args.checkpoint, args.out, image=args.image, top_k=args.top_k)
    say(f"report of {args.checkpoint} written to {args.out}")
    return 0
