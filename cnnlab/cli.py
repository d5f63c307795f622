"""The `cnnlab` command (also `python -m cnnlab`): train, evaluate, predict, models, demo.

Bad arguments and missing files end with one clear line on stderr and a non-zero exit code, not a traceback:
2 for a bad argument or a missing file (checked before anything is written), 1 for a failure while running
(an unreadable data file, a missing optional package, a diverged training), 130 when interrupted.
"""
import json
import os
import shutil
import sys

from .io.atomic import atomic_open

CHECKPOINT, HISTORY, METRICS, CONFIG = "checkpoint.pth", "history.csv", "metrics.json", "config.json"
RUN_FILES = (CONFIG, CHECKPOINT, HISTORY, METRICS)


class CLIError(Exception):
    """An error to report as one line and exit code 2: a bad argument or a missing file."""


def _say(*parts):
    print(*parts, flush=True)


# ---- model and run folders ------------------------------------------------------------------------------------
def _model_kwargs(name, info):
    """The builder arguments that fit a model to the data: channels, classes, and the image size where the
    builder takes one (lenet5 on 32x32 images becomes the unpadded 1998 layout)."""
    from . import models
    kwargs = {"in_channels": info["channels"], "num_classes": len(info["classes"])}
    h, w = info["size"]
    if h == w and "input_size" in models.builder_parameters(name):
        kwargs["input_size"] = h
    return kwargs


def _build_model(config):
    from . import models
    return models.get_model(config["model"], **config.get("model_kwargs", _model_kwargs(config["model"],
                                                                                        config["data_info"])))


def _check_fits(config, data_info=None, data=None):
    """Build the run's model and push two zero images of the data's shape through it (eval mode, no
    gradients); a model that does not fit the data is a CLIError naming both shapes. Returns the model."""
    import cnnlab
    from . import models
    name, info = config["model"], data_info or config["data_info"]
    c, (h, w), n = info["channels"], info["size"], len(info["classes"])
    expected = models.input_shape(name)
    wants = "x".join(map(str, expected)) if expected else "another shape"
    where = f"{data or config['data']} has {c}x{h}x{w} images"
    try:
        model = _build_model(config)
        model.eval()
        with cnnlab.no_grad():
            out = model(cnnlab.zeros(2, c, h, w))
        model.train()
    except (ValueError, TypeError, RuntimeError, IndexError) as e:
        why = (str(e).splitlines()[0] if str(e) else type(e).__name__).rstrip(".")
        raise CLIError(f"model {name} does not fit the data: it expects {wants} input and {where} "
                       f"({why}). 'cnnlab models' lists each model's input.") from None
    if tuple(out.shape) != (2, n):
        raise CLIError(f"model {name} does not fit the data: it gives {tuple(out.shape)[1:]} outputs per image and "
                       f"{data or config['data']} has {n} classes.")
    return model


def _read_config(folder):
    try:
        with open(os.path.join(folder, CONFIG)) as f:
            config = json.load(f)
        config["model"], config["data_info"]  # noqa: B018 (both must be there)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CLIError(f"cannot read {os.path.join(folder, CONFIG)} ({type(e).__name__}: {e}).") from None
    return config


def _load_run(path):
    """(config, model with the checkpoint's weights) from a run folder or the checkpoint file in it."""
    from .train import load_checkpoint
    if not os.path.exists(path):
        raise CLIError(f"--checkpoint: no such run folder or checkpoint file: {path}")
    folder, ckpt = (path, os.path.join(path, CHECKPOINT)) if os.path.isdir(path) else (os.path.dirname(path) or ".",
                                                                                        path)
    for p in (os.path.join(folder, CONFIG), ckpt):
        if not os.path.exists(p):
            raise CLIError(f"--checkpoint: no {os.path.basename(p)} in {folder}; give a folder written by "
                           f"'cnnlab train --out'.")
    config = _read_config(folder)
    try:
        model = _build_model(config)
        load_checkpoint(ckpt, model, restore_rng=False)
    except (ValueError, KeyError, TypeError, OSError) as e:
        text = e.args[0] if len(e.args) == 1 and isinstance(e.args[0], str) else str(e) or type(e).__name__
        raise CLIError(f"--checkpoint: cannot load {ckpt} ({text.splitlines()[0].rstrip('.')}).") from None
    return config, model


def _data(spec, **kwargs):
    """load_spec with the spec checked first: a bad spec or a missing folder or file is a CLIError."""
    from .data import specs
    try:
        specs.parse_spec(spec)
        return specs.load_spec(spec, **kwargs)
    except (FileNotFoundError, ValueError) as e:
        if str(e).startswith("data:"):
            raise CLIError(f"--data: {str(e)[6:]}") from None
        if isinstance(e, FileNotFoundError):
            raise CLIError(str(e)) from None
        raise


# ---- commands -------------------------------------------------------------------------------------------------
def _check_out(args):
    """--out: a folder that is new, empty, or (with --overwrite) a run to replace, or (with --resume) a run."""
    out = args.out
    if os.path.exists(out) and not os.path.isdir(out):
        raise CLIError(f"--out: {out} is a file; give a folder.")
    has = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
    if args.resume:
        if args.overwrite:
            raise CLIError("--resume and --overwrite contradict each other; pass one.")
        if CHECKPOINT not in has or CONFIG not in has:
            raise CLIError(f"--resume: no run to resume in {out} (it needs {CONFIG} and {CHECKPOINT}).")
        saved = _read_config(out)
        for key in ("model", "data"):
            if saved[key] != getattr(args, key):
                raise CLIError(f"--resume: the run in {out} was trained with --{key} {saved[key]}, not "
                               f"{getattr(args, key)}; pass --{key} {saved[key]}.")
    elif os.path.isdir(out) and os.listdir(out) and not args.overwrite:
        what = "already holds a run" if has else "exists and is not empty"
        raise CLIError(f"--out: {out} {what}; pass --resume to continue it, --overwrite to replace it, or "
                       f"another --out.")


def cmd_train(args):
    import cnnlab
    from . import data as cdata
    from . import models
    from .train import load_checkpoint
    try:
        args.model = models.canonical_name(args.model)
    except ValueError:
        raise CLIError(f"--model: unknown model {args.model!r}; choose one of {', '.join(models.list_models())} "
                       "(see 'cnnlab models').") from None
    if args.image_size is not None and not args.data.startswith("folder:"):
        raise CLIError(f"--image-size applies to folder:DIR data only; {args.data} has a fixed size.")
    if args.data.startswith("folder:"):
        from .data.datasets.folder import require_pillow
        require_pillow("--data folder:DIR")  # before anything is written; a one-line ImportError saying how to install
    _check_out(args)
    done = 0
    if args.resume:
        try:
            done = load_checkpoint(os.path.join(args.out, CHECKPOINT), restore_rng=False)["epoch"]
        except (ValueError, KeyError, OSError) as e:
            raise CLIError(f"--resume: cannot read {os.path.join(args.out, CHECKPOINT)} ({e}).") from None
    if done >= args.epochs:
        raise CLIError(f"--resume: the run in {args.out} has already trained {done} epoch{'s' * (done != 1)}; "
                       f"pass --epochs larger than {done} to continue it.")
    cnnlab.manual_seed(args.seed)
    train_ds, val_ds, info = _data(args.data, image_size=args.image_size, seed=args.seed, augment=args.augment)
    if args.subset:
        train_ds = cdata.Subset(train_ds, range(min(args.subset, len(train_ds))))
    config = {"model": args.model, "model_kwargs": _model_kwargs(args.model, info), "data": args.data,
              "data_info": info, "optimizer": args.optimizer, "lr": args.lr, "momentum": args.momentum,
              "weight_decay": args.weight_decay, "batch_size": args.batch_size, "epochs": args.epochs,
              "seed": args.seed, "scheduler": args.scheduler, "augment": args.augment, "subset": args.subset}
    model = _check_fits(config)  # the run's model: the check's zero images draw nothing from the generator
    created = not os.path.isdir(args.out)
    os.makedirs(args.out, exist_ok=True)
    if args.overwrite:
        for f in RUN_FILES:
            if os.path.exists(os.path.join(args.out, f)):
                os.remove(os.path.join(args.out, f))
    try:
        return _run_training(args, config, model, train_ds, val_ds, done)
    except BaseException as e:
        if not os.path.exists(os.path.join(args.out, CHECKPOINT)):  # nothing worth keeping: leave no trace
            for f in RUN_FILES:
                if os.path.exists(os.path.join(args.out, f)):
                    os.remove(os.path.join(args.out, f))
            if created:
                shutil.rmtree(args.out, ignore_errors=True)
        elif isinstance(e, KeyboardInterrupt):
            print(f"cnnlab train: interrupted; the last finished epoch is saved in {args.out}. Continue with: "
                  f"{_invocation()} train {' '.join(_resume_argv(args))}", file=sys.stderr, flush=True)
            return 130
        raise


def _resume_argv(args):
    """The train arguments that continue this run (the defaults left out)."""
    parser = build_parser()
    defaults = vars(parser.parse_args(["train"]))
    skip = {"func", "command", "resume", "overwrite"}
    argv = []
    for key, value in vars(args).items():
        if key in skip or value == defaults.get(key):
            continue
        flag = "--" + key.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    return argv + ["--resume"]


def _run_training(args, config, model, train_ds, val_ds, done):
    import time

    import numpy as np

    import cnnlab
    from . import data as cdata
    from .train import evaluate, fit
    info, ckpt = config["data_info"], os.path.join(args.out, CHECKPOINT)
    optimizer = _make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum, args.weight_decay)
    scheduler = _make_scheduler(args.scheduler, optimizer, args.epochs)
    loader = cdata.DataLoader(train_ds, batch_size=args.batch_size, shuffle=True,
                              generator=cnnlab.Generator().manual_seed(args.seed))
    val_loader = cdata.DataLoader(val_ds, batch_size=512)
    with atomic_open(os.path.join(args.out, CONFIG), "w") as f:
        json.dump(config, f, indent=2)
    n_params = sum(p.numel() for p in model.parameters())
    _say(f"training {args.model} ({n_params:,} parameters) on {args.data}: {len(train_ds)} training, {len(val_ds)} "
         f"validation images, {args.epochs} epoch{'s' * (args.epochs != 1)}, batch {args.batch_size}, "
         f"{args.optimizer} lr {args.lr}")
    t0 = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run ends with fit's own one-line message
        history = fit(model, loader, cnnlab.nn.CrossEntropyLoss(), optimizer, args.epochs, val_loader=val_loader,
                      scheduler=scheduler, checkpoint=ckpt, resume=args.resume, log=None if args.quiet else _say,
                      progress=None if not args.quiet else False)
    seconds = time.perf_counter() - t0
    _write_history(os.path.join(args.out, HISTORY), history)
    result = evaluate(model, val_loader, cnnlab.nn.CrossEntropyLoss(), num_classes=len(info["classes"]))
    images = len(train_ds) * (len(history["epoch"]) - done)  # epochs trained by this command
    metrics = {"val_accuracy": result["accuracy"], "val_loss": result["loss"],
               "per_class_accuracy": dict(zip(info["classes"], result["per_class_accuracy"])),
               "confusion_matrix": result["confusion_matrix"].tolist(), "epochs": len(history["epoch"]),
               "train_seconds": seconds, "images_per_second": images / seconds if seconds > 0 else None}
    with atomic_open(os.path.join(args.out, METRICS), "w") as f:
        json.dump(metrics, f, indent=2)
    _report(result, info["classes"])
    _say(f"trained in {seconds:.1f}s ({metrics['images_per_second']:.0f} images/s); checkpoint: {ckpt}")
    _say(f"history: {os.path.join(args.out, HISTORY)}, metrics: {os.path.join(args.out, METRICS)}")
    me = _invocation()
    _say(f"next: {me} evaluate --checkpoint {args.out}   or   {me} predict --checkpoint {args.out} IMAGE.png")
    return 0


def _invocation():
    """How to run cnnlab again from here: 'cnnlab' when that is on PATH, else this interpreter with -m cnnlab
    ('.venv/bin/python -m cnnlab' after make demo, whose venv is not activated)."""
    script = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.path.basename(script) == "cnnlab" and shutil.which("cnnlab") and \
            os.path.realpath(shutil.which("cnnlab")) == script:
        return "cnnlab"
    python = sys.executable or "python"
    rel = os.path.relpath(python)
    return f"{rel if not rel.startswith('..') and len(rel) < len(python) else python} -m cnnlab"


def _make_optimizer(name, params, lr, momentum, weight_decay):
    from . import optim
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def _make_scheduler(name, optimizer, epochs):
    from .optim import lr_scheduler
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    return None


def _write_history(path, history):
    import csv
    keys = list(history)
    with atomic_open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for row in zip(*(history[k] for k in keys)):
            w.writerow(["" if v is None else v for v in row])


def _report(result, classes):
    _say(f"validation accuracy: {100 * result['accuracy']:.2f}% on {result['count']} images"
         + (f", loss {result['loss']:.4f}" if result["loss"] is not None else ""))
    _say("per-class accuracy:")
    for name, acc in zip(classes, result["per_class_accuracy"]):
        _say(f"  {name:<12} {'n/a' if acc != acc else f'{100 * acc:6.2f}%'}")


def cmd_evaluate(args):
    import cnnlab
    from . import data as cdata
    from .train import evaluate
    config, model = _load_run(args.checkpoint)
    spec = args.data or config["data"]
    _, val_ds, info = _data(spec, image_size=config["data_info"]["size"][0] if spec.startswith("folder:") else None,
                            seed=config.get("seed", 0))
    if info["classes"] != config["data_info"]["classes"] or info["channels"] != config["data_info"]["channels"]:
        run = config["data_info"]
        raise CLIError(f"--data: {spec} does not match the run: it was trained on {config['data']} ({run['channels']} "
                       f"channel(s), classes {', '.join(run['classes'])}), {spec} has {info['channels']} channel(s), "
                       f"classes {', '.join(info['classes'])}.")
    _check_fits(config, info, spec)
    result = evaluate(model, cdata.DataLoader(val_ds, batch_size=512), cnnlab.nn.CrossEntropyLoss(),
                      num_classes=len(info["classes"]))
    _report(result, config["data_info"]["classes"])
    return 0


def cmd_predict(args):
    from .data.specs import prepare_image
    from .train import predict
    config, model = _load_run(args.checkpoint)
    info = config["data_info"]
    k = min(args.top_k, len(info["classes"]))
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
        _say(f"{path}: {ranked}")
    return 2 if failed else 0


def cmd_models(args):
    from . import models
    _say(f"{'name':<14} {'input':<9} description")
    for name in models.list_models():
        shape = models.input_shape(name)
        _say(f"{name:<14} {'x'.join(map(str, shape)) if shape else '-':<9} {models.describe(name)}")
    return 0


def cmd_demo(args):
    from . import demo
    return demo.main(epochs=args.epochs, out=args.out)


def build_parser():
    """The argparse parser of the cnnlab command (its options and help live in cli_args.py)."""
    from .cli_args import build_parser as build
    return build({"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "models": cmd_models,
                  "demo": cmd_demo})


def main(argv=None):
    """Run the cnnlab command with argv (default sys.argv[1:]); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
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
    text = (str(error) if str(error) else type(error).__name__).removeprefix(f"{args.command}: ")
    print(f"cnnlab {args.command}: {text}", file=sys.stderr, flush=True)
    return code
