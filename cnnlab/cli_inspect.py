"""The `cnnlab summary` and `cnnlab explain` commands: a model's layer table, the output-size arithmetic of one
convolution or pooling layer in words, and a model's receptive fields layer by layer.

cli.py adds them to its parser with register(parser); they report bad arguments as one line (CLIError, exit 2).
"""
import argparse
import os

from . import inspect, nn
from .cli_args import HelpFormatter, add_window_arguments, int_list
from .cli_common import CLIError, load_run, say
from .inspect.model_summary import COLUMNS, DEFAULT_COLUMNS

__all__ = ["register", "cmd_summary", "cmd_explain"]

SUMMARY_EPILOG = """The model comes from the zoo (--model, see 'cnnlab models'), a run folder
(--checkpoint), or your own Python file (--file net.py:build, where build is an nn.Module class, a
function returning a model, or a model). Mult-adds count convolution and linear multiply-adds
without the bias (torchvision's convention); RF is the receptive field of one output value of each
layer (theoretical: not clipped by the image's borders).

examples:
  cnnlab summary --model resnet18 --input 1,3,224,224
  cnnlab summary --model vgg16 --depth 1
  cnnlab summary --checkpoint runs/lenet5
  cnnlab summary --file my_net.py:Net --input 1,3,32,32 --columns output_size,receptive_field,jump"""

EXPLAIN_EPILOG = """examples:
  cnnlab explain conv --input 7 --kernel 3 --stride 2 --padding same
  cnnlab explain conv --input 224,224 --kernel 7 --stride 2 --padding 3 --dilation 1
  cnnlab explain pool --input 5 --kernel 2 --ceil-mode
  cnnlab explain rf --model vgg16"""


def _model_source(p):
    group = p.add_mutually_exclusive_group()
    group.add_argument("--model", metavar="NAME", help="a model of the zoo (see 'cnnlab models')")
    group.add_argument("--checkpoint", metavar="RUN", help="a run folder written by 'cnnlab train --out'")
    group.add_argument("--file", metavar="FILE.py:NAME", help="your own model: a Python file and the class, function "
                       "or model in it")
    p.add_argument("--input", type=int_list, metavar="N,C,H,W", help="input shape, batch first (default: the model's "
                   "own, with batch 1)")


def register(parser):
    """Add the summary and explain commands to the cnnlab parser (its subparsers); returns the parser."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))

    def new(name, summary, epilog):
        return sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                              formatter_class=HelpFormatter, epilog=epilog)

    p = new("summary", "a model's layers: output shapes, parameters, mult-adds, kernels, receptive fields",
            SUMMARY_EPILOG)
    _model_source(p)
    p.add_argument("--depth", type=int, default=3, help="nesting depth of the layers shown")
    p.add_argument("--columns", default=None, metavar="A,B,...", help="columns among kernel_size, input_size, "
                   "output_size, num_params, mult_adds, receptive_field, jump, activation_memory, trainable")
    p.add_argument("--width", type=int, default=100, help="table width in characters")
    p.set_defaults(func=cmd_summary)

    p = new("explain", "the arithmetic of a conv or pooling layer in words, or a model's receptive fields",
            EXPLAIN_EPILOG)
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True, parser_class=type(parser),
                            help="conv, pool or rf")
    for name, text in (("conv", "the output size of a convolution, its padding, windows and dropped pixels"),
                       ("pool", "the same for a pooling window (stride defaults to the kernel)")):
        q = what.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".", formatter_class=HelpFormatter)
        add_window_arguments(q, "7 or 224,224", "3 or 3,5")
        if name == "pool":
            q.add_argument("--ceil-mode", action="store_true", help="keep a last partial window (ceil_mode=True)")
        q.set_defaults(func=cmd_explain, command="explain")
    q = what.add_parser("rf", help="the receptive field of every layer of a model",
                        description="The receptive field and jump (cumulative stride) of every layer of a model.",
                        formatter_class=HelpFormatter)
    _model_source(q)
    q.set_defaults(func=cmd_explain, command="explain")
    return parser


def _one(values):
    return values[0] if values is not None and len(values) == 1 else values


def cmd_explain(args):
    if args.what in ("conv", "pool"):
        n = len(args.input)
        for name in ("kernel", "stride", "dilation"):
            v = getattr(args, name)
            if v is not None and len(v) not in (1, n):
                raise CLIError(f"--{name}: give 1 or {n} values (one per spatial dim of --input). Got {v}.")
        size = _one(args.input)
        if args.what == "conv":
            text = inspect.explain_conv(size, _one(args.kernel), _one(args.stride) or 1, args.padding,
                                        _one(args.dilation))
        else:
            text = inspect.explain_pool(size, _one(args.kernel), _one(args.stride), args.padding, _one(args.dilation),
                                        args.ceil_mode)
        say(text)
        return 0
    model, shape, label = _load_model(args)
    s = inspect.summary(model, shape, depth=100)
    say(f"receptive field (RF) of one output value of each layer of {label} at input {'x'.join(map(str, shape))},\n"
        f"in input pixels (theoretical: not clipped by the borders); jump: pixels between neighbouring outputs")
    rows = [r for r in s.summary_list if r.receptive_field is not None and not r.children and
            (r.kernel_size is not None or any(k in r.class_name for k in ("Pool", "Upsample", "Shuffle")))]
    width = max([len(r.path) for r in rows] + [5])
    for r in rows:
        geometry = s._cell(r, "kernel_size")
        say(f"  {r.path:<{width}}  {r.class_name:<18} {geometry:<12} out {'x'.join(map(str, r.output_size[2:])):<9}"
            f" RF {'x'.join(map(str, r.receptive_field)):<9} jump {s._cell(r, 'jump')}")
    out = s.summary_list[0].output_size or []
    if rows and len(out) != len(shape):
        last = rows[-1]
        say(f"the model's output has no spatial dims: each output value depends on the whole input;\n"
            f"its last spatial layer, {last.path}, sees {'x'.join(map(str, last.receptive_field))} input pixels.")
    elif s.summary_list[0].receptive_field:
        say(f"one output value of the model sees {'x'.join(map(str, s.summary_list[0].receptive_field))} input "
            f"pixels.")
    return 0


def cmd_summary(args):
    columns = DEFAULT_COLUMNS
    if args.columns:
        columns = tuple(c.strip() for c in args.columns.split(",") if c.strip())
        unknown = [c for c in columns if c not in COLUMNS]
        if unknown:
            raise CLIError(f"--columns: unknown column(s) {', '.join(unknown)}; choose from {', '.join(COLUMNS)}.")
    if args.depth < 0 or args.width < 40:
        raise CLIError(f"--depth must be at least 0 and --width at least 40. Got --depth {args.depth}, "
                       f"--width {args.width}.")
    model, shape, _ = _load_model(args)
    say(str(inspect.summary(model, shape, depth=args.depth, col_names=columns, width=args.width)))
    return 0


def _load_model(args):
    """(model, input shape with batch, a label) from --model, --checkpoint or --file, in eval mode."""
    from . import models
    if args.model:
        try:
            name = models.canonical_name(args.model)
        except ValueError:
            raise CLIError(f"--model: unknown model {args.model!r}; choose one of {', '.join(models.list_models())} "
                           "(see 'cnnlab models').") from None
        model, default, label = models.get_model(name), models.input_shape(name), name
    elif args.checkpoint:
        config, model = load_run(args.checkpoint)
        info = config["data_info"]
        default, label = (info["channels"],) + tuple(info["size"]), args.checkpoint
    elif args.file:
        model, label = _from_file(args.file), args.file
        default = None
    else:
        raise CLIError("give the model: --model NAME, --checkpoint RUN or --file FILE.py:NAME.")
    shape = args.input if args.input else ((1,) + tuple(default) if default else None)
    if shape is None:
        raise CLIError(f"--input: {label} does not declare its input size; give one, batch first (--input 1,3,32,32).")
    if len(shape) < 2 or any(v < 1 for v in shape):
        raise CLIError(f"--input: give the input shape batch first with positive sizes (e.g. 1,3,224,224). "
                       f"Got {','.join(map(str, shape))}.")
    model.eval()
    return model, shape, label


def _from_file(spec):
    import importlib.util

    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise CLIError(f"--file: give FILE.py:NAME (the file and the model class, function or module in it). "
                       f"Got {spec!r}.")
    if not os.path.isfile(path):
        raise CLIError(f"--file: no such file: {path}")
    loader_spec = importlib.util.spec_from_file_location("cnnlab_user_model", path)
    module = importlib.util.module_from_spec(loader_spec)
    loader_spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise CLIError(f"--file: {path} has no {name!r}.")
    obj = getattr(module, name)
    model = obj if isinstance(obj, nn.Module) else obj()
    if not isinstance(model, nn.Module):
        raise CLIError(f"--file: {name} in {path} must be an nn.Module, a class or a function giving one. Got "
                       f"{type(model).__name__}.")
    return model
