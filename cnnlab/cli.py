"""The `cnnlab` command (also `python -m cnnlab`): train, evaluate, predict, models, demo.

Bad arguments and missing files end with one clear line on stderr and a non-zero exit code, not a traceback:
2 for a bad argument or a missing file (checked before anything is written), 1 for a failure while running
(an unreadable data file, a missing optional package, a diverged training), 130 when interrupted.
"""
import sys

import cnnlab
from . import data as cdata
from . import demo
from .cli_args import build_parser as build, given_options
from .cli_common import (CHECKPOINT, CONFIG, HISTORY, METRICS, RUN_FILES, CLIError, check_fits, expand_spec,
                         load_data, load_run, one_line, report, say)
from .cli_export import register as register_export  # the export command (ONNX)
from .cli_inspect import register  # the summary and explain commands
from .cli_report import register as register_report  # the animate and report commands
from .cli_train import cmd_train, invocation
from .cli_transfer import cmd_predict_pretrained
from .cli_viz import register as register_viz  # the filter command
from .data.specs import prepare_image
from .train import evaluate, predict

__all__ = ["main", "build_parser", "CLIError", "CHECKPOINT", "CONFIG", "HISTORY", "METRICS", "RUN_FILES",
           "invocation"]


def cmd_evaluate(args):
    config, model = load_run(args.checkpoint)
    spec = expand_spec(args.data) if args.data else config["data"]
    _, val_ds, info = load_data(spec, download=args.download, seed=config.get("seed", 0),
                                image_size=config["data_info"]["size"][0] if spec.startswith("folder:") else None)
    if info["classes"] != config["data_info"]["classes"] or info["channels"] != config["data_info"]["channels"]:
        run = config["data_info"]
        raise CLIError(f"--data: {spec} does not match the run: it was trained on {config['data']} ({run['channels']} "
                       f"channel(s), classes {', '.join(run['classes'])}), {spec} has {info['channels']} channel(s), "
                       f"classes {', '.join(info['classes'])}.")
    check_fits(config, info, spec)
    result = evaluate(model, cdata.DataLoader(val_ds, batch_size=512), cnnlab.nn.CrossEntropyLoss(),
                      num_classes=len(info["classes"]))
    report(result, config["data_info"]["classes"])
    return 0


def cmd_predict(args):
    if (args.checkpoint is None) == (args.model is None):
        raise CLIError("give --checkpoint RUN (a run trained by 'cnnlab train') or --model NAME --weights W (a zoo "
                       "model's pretrained weights), not " + ("both." if args.model else "neither."))
    if args.model is not None:
        args.top_k = args.top_k or 5
        return cmd_predict_pretrained(args, say)
    if args.weights:
        raise CLIError("--weights goes with --model; a --checkpoint run has its own weights.")
    config, model = load_run(args.checkpoint, ("channels", "size", "classes", "mean", "std"))  # to prepare images
    info = config["data_info"]
    k = min(args.top_k or 3, len(info["classes"]))
    failed = 0
    for path in args.images:
        try:
            x = prepare_image(path, info)
        except (FileNotFoundError, ValueError) as e:  # this file only: say so and go on with the others
            _fail(args, e, 2)
            failed += 1
            continue
        probs, top, top_p = predict(model, x, k=k)
        ranked = ", ".join(f"{info['classes'][c]} {100 * p:.1f}%" for c, p in zip(top[0], top_p[0]))
        say(f"{path}: {ranked}")
    return 2 if failed else 0


def cmd_models(args):
    from . import models
    say(f"{'name':<14} {'input':<9} description")
    for name in models.list_models():
        shape = models.input_shape(name)
        say(f"{name:<14} {'x'.join(map(str, shape)) if shape else '-':<9} {models.describe(name)}")
    return 0


def cmd_demo(args):
    """The walkthrough, then `cnnlab train` with its defaults (the demo's settings are the command's defaults,
    so what a user types first gives the demo's result)."""
    demo.walkthrough()
    return main(["train", "--out", args.out, "--overwrite"] + (["--epochs", str(args.epochs)] if args.epochs else []),
                invoked_as=invocation(args))


def build_parser():
    """The argparse parser of the cnnlab command (its options and help live in cli_args.py)."""
    parser = register_export(register_viz(register(build({"train": cmd_train, "evaluate": cmd_evaluate,
                                                          "predict": cmd_predict, "models": cmd_models,
                                                          "demo": cmd_demo}))))
    return register_report(parser)


def main(argv=None, invoked_as="cnnlab"):
    """Run the cnnlab command with argv (default sys.argv[1:]); returns the exit code. invoked_as is how the
    user started it ('python -m cnnlab' from __main__.py), for the commands it suggests."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    args.given, args.invoked_as = given_options(build_parser(), argv), invoked_as
    try:
        return args.func(args)
    except CLIError as e:
        return _fail(args, e, 2)
    except ImportError as e:
        if "pip install" not in str(e):  # a missing optional package says how to install it; anything else is a bug
            raise
        return _fail(args, e, 1)
    except (ValueError, TypeError, OSError, RuntimeError, KeyError, ArithmeticError) as e:
        return _fail(args, e, 1)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)


def _fail(args, error, code):
    text = (one_line(error) if isinstance(error, BaseException) else str(error)).removeprefix(f"{args.command}: ")
    print(f"cnnlab {args.command}: {text}", file=sys.stderr, flush=True)
    return code
