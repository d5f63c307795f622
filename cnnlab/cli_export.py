"""`cnnlab export`: a trained run (--checkpoint) or a zoo model (--model, --weights) written as an ONNX file,
then run by ONNX Runtime when it is installed and compared with cnnlab's output on a random batch."""
import argparse

import numpy as np

import cnnlab
from . import onnx as cn_onnx
from .cli_args import HelpFormatter
from .cli_common import CLIError, load_run, say
from .cli_transfer import load_pretrained, named_weights, pretrained_state

EPILOG = """examples:
  cnnlab export --checkpoint runs/x --out model.onnx
  cnnlab export --model resnet18 --weights DEFAULT --out resnet18.onnx --image-size 224"""


def register(parser):
    """Add the export command to the cnnlab parser (its subparsers); returns the parser."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    summary = "write a trained run or a zoo model as an ONNX file (checked by ONNX Runtime when installed)"
    p = sub.add_parser("export", help=summary, description=summary[0].upper() + summary[1:] + ".",
                       formatter_class=HelpFormatter, epilog=EPILOG)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--checkpoint", metavar="RUN", help="a run folder written by 'cnnlab train --out'")
    what.add_argument("--model", metavar="NAME", help="a zoo model (see 'cnnlab models')")
    p.add_argument("--weights", metavar="NAME|PATH", help="--model: its pretrained weights or a weights file")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="the file format")
    p.add_argument("--out", required=True, metavar="FILE.onnx", help="where to write")
    p.add_argument("--image-size", type=int, metavar="PIXELS", help="the input's height and width (default: "
                   "the run's images, or the size the model is built for)")
    p.add_argument("--opset", type=int, default=17, help="the ONNX opset version")
    p.add_argument("--static-batch", action="store_true", help="fix the batch size in the file (default: free)")
    p.set_defaults(func=cmd_export, command="export")
    return parser


def _model_and_shape(args):
    from . import models
    if args.checkpoint:
        if args.weights:
            raise CLIError("--weights goes with --model; a run's weights are its checkpoint.")
        config, model = load_run(args.checkpoint)
        info = config["data_info"]
        return model, (info["channels"], *info["size"])
    try:
        name = models.canonical_name(args.model)
        shape = models.input_shape(name) or (3, 224, 224)
        model = models.get_model(name)
    except (ValueError, KeyError) as e:
        raise CLIError(f"--model: {e}") from None
    if args.weights:
        weights = named_weights(name, args.weights)
        load_pretrained(model, pretrained_state(name, args.weights, weights), args.weights)
    return model, shape


def cmd_export(args):
    """Run `cnnlab export` with parsed arguments; returns the exit code."""
    model, shape = _model_and_shape(args)
    if args.image_size:
        shape = (shape[0], args.image_size, args.image_size)
    x = cnnlab.tensor(np.random.default_rng(0).standard_normal((1,) + tuple(shape)).astype(np.float32))
    axes = None if args.static_batch else {"input": {0: "batch"}, "output": {0: "batch"}}
    cn_onnx.export(model.eval(), x, args.out, input_names=["input"], output_names=["output"], dynamic_axes=axes,
                   opset_version=args.opset)
    say(f"wrote {args.out} (input {'N' if axes else 1}x{'x'.join(map(str, shape))}, opset {args.opset}, "
        "checked by onnx.checker)")
    try:
        import onnxruntime as ort
    except ImportError:
        say("ONNX Runtime is not installed (pip install onnxruntime): the file was not run.")
        return 0
    batch = 1 if args.static_batch else 2
    x = cnnlab.tensor(np.random.default_rng(1).standard_normal((batch,) + tuple(shape)).astype(np.float32))
    with cnnlab.no_grad():
        want = model(x).numpy()
    got = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
    diff = float(np.abs(got - want).max())
    say(f"ONNX Runtime {ort.__version__} on a random batch of {batch}: max |difference| = {diff:.3g} "
        f"(outputs up to {float(np.abs(want).max()):.3g})")
    return 0
