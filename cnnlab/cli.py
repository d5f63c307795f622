"""The `cnnlab` command (also `python -m cnnlab`): train, evaluate, predict, models, demo.

Bad arguments and missing files end with one clear line on stderr and a non-zero exit code, not a traceback.
"""
import argparse
import csv
import json
import os
import sys
import time

CHECKPOINT, HISTORY, METRICS, CONFIG = "checkpoint.pth", "history.csv", "metrics.json", "config.json"


class CLIError(Exception):
    """An error to report as one line and exit code 2 (usage) or 1 (failure)."""


def _say(*parts):
    print(*parts, flush=True)


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


def _build_model(config):
    from . import models
    return models.get_model(config["model"], in_channels=config["data_info"]["channels"],
                            num_classes=len(config["data_info"]["classes"]))


def _load_run(folder):
    """(config, model with the checkpoint's weights) from a run folder (or the checkpoint file in it)."""
    from .train import load_checkpoint
    folder = folder if os.path.isdir(folder) else os.path.dirname(folder) or "."
    cfg_path, ckpt_path = os.path.join(folder, CONFIG), os.path.join(folder, CHECKPOINT)
    for p in (cfg_path, ckpt_path):
        if not os.path.exists(p):
            raise CLIError(f"no {os.path.basename(p)} in {folder}: is it a folder written by 'cnnlab train --out'?")
    with open(cfg_path) as f:
        config = json.load(f)
    model = _build_model(config)
    load_checkpoint(ckpt_path, model, restore_rng=False)
    return config, model


def cmd_train(args):
    import cnnlab
    from . import data as cdata
    from .data import specs
    from .train import evaluate, fit
    cnnlab.manual_seed(args.seed)
    try:
        train_ds, val_ds, info = specs.load_spec(args.data, image_size=args.image_size, seed=args.seed,
                                                       augment=args.augment)
    except FileNotFoundError as e:
        raise CLIError(str(e)) from None
    if args.subset:
        train_ds = cdata.Subset(train_ds, range(min(args.subset, len(train_ds))))
    config = {"model": args.model, "data": args.data, "data_info": info, "optimizer": args.optimizer, "lr": args.lr,
              "momentum": args.momentum, "weight_decay": args.weight_decay, "batch_size": args.batch_size,
              "epochs": args.epochs, "seed": args.seed, "scheduler": args.scheduler, "augment": args.augment}
    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, CHECKPOINT)
    if args.resume:
        if not os.path.exists(ckpt):
            raise CLIError(f"--resume: no checkpoint in {args.out} to resume from.")
    elif os.path.exists(ckpt) and not args.overwrite:
        raise CLIError(f"{args.out} already holds a run; pass --resume to continue it or --overwrite to start over.")
    model = _build_model(config)
    optimizer = _make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum, args.weight_decay)
    scheduler = _make_scheduler(args.scheduler, optimizer, args.epochs)
    loader = cdata.DataLoader(train_ds, batch_size=args.batch_size, shuffle=True,
                              generator=cnnlab.Generator().manual_seed(args.seed))
    val_loader = cdata.DataLoader(val_ds, batch_size=512)
    with open(os.path.join(args.out, CONFIG), "w") as f:
        json.dump(config, f, indent=2)
    n_params = sum(p.numel() for p in model.parameters())
    _say(f"training {args.model} ({n_params:,} parameters) on {args.data}: {len(train_ds)} training, {len(val_ds)} "
         f"validation images, {args.epochs} epochs, batch {args.batch_size}, {args.optimizer} lr {args.lr}")
    t0 = time.perf_counter()
    history = fit(model, loader, cnnlab.nn.CrossEntropyLoss(), optimizer, args.epochs, val_loader=val_loader,
                  scheduler=scheduler, checkpoint=ckpt, resume=args.resume, progress=None if not args.quiet else False,
                  log=None if args.quiet else _say)
    seconds = time.perf_counter() - t0
    _write_history(os.path.join(args.out, HISTORY), history)
    result = evaluate(model, val_loader, cnnlab.nn.CrossEntropyLoss(), num_classes=len(info["classes"]))
    images = len(train_ds) * (len(history["epoch"]) - (history["epoch"][0] - 1 if history["epoch"] else 0))
    metrics = {"val_accuracy": result["accuracy"], "val_loss": result["loss"],
               "per_class_accuracy": dict(zip(info["classes"], result["per_class_accuracy"])),
               "confusion_matrix": result["confusion_matrix"].tolist(), "epochs": len(history["epoch"]),
               "train_seconds": seconds, "images_per_second": images / seconds if seconds > 0 else None}
    with open(os.path.join(args.out, METRICS), "w") as f:
        json.dump(metrics, f, indent=2)
    _report(result, info["classes"])
    _say(f"trained in {seconds:.1f}s ({metrics['images_per_second']:.0f} images/s); checkpoint: {ckpt}")
    _say(f"history: {os.path.join(args.out, HISTORY)}, metrics: {os.path.join(args.out, METRICS)}")
    return 0


def _write_history(path, history):
    keys = list(history)
    with open(path, "w", newline="") as f:
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
    from .data import specs
    from .train import evaluate
    config, model = _load_run(args.checkpoint)
    _, val_ds, info = specs.load_spec(args.data or config["data"], seed=config.get("seed", 0))
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
    for path in args.images:
        if not os.path.exists(path):
            raise CLIError(f"no such image: {path}")
        probs, top, top_p = predict(model, prepare_image(path, info), k=k)
        ranked = ", ".join(f"{info['classes'][c]} {100 * p:.1f}%" for c, p in zip(top[0], top_p[0]))
        _say(f"{path}: {ranked}")
    return 0


def cmd_models(args):
    from . import models
    for name in models.list_models():
        _say(f"{name:<14} {models.describe(name)}")
    return 0


def cmd_demo(args):
    from . import demo
    return demo.main(epochs=args.epochs, out=args.out)


def build_parser():
    parser = argparse.ArgumentParser(prog="cnnlab", description="Build, train and understand CNNs on NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help="train a model and write checkpoint, history and metrics",
                       description="Train a model. DATA is mnist-sample (bundled, offline), mnist:DIR, "
                                   "fashion-mnist:DIR, cifar10:DIR or folder:DIR (one sub-folder per class).")
    p.add_argument("--model", default="lenet5", help="a name from 'cnnlab models' (default lenet5)")
    p.add_argument("--data", default="mnist-sample", help="what to train on (default mnist-sample)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw", "rmsprop"), default="sgd")
    p.add_argument("--momentum", type=float, default=0.9, help="for sgd and rmsprop (default 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--scheduler", choices=("none", "cosine", "step"), default="none",
                   help="learning-rate schedule, stepped once per epoch (default none)")
    p.add_argument("--augment", action="store_true", help="random shifts (and flips for colour images) in training")
    p.add_argument("--image-size", type=int, default=None, help="resize folder: images to this size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--subset", type=int, default=None, metavar="N", help="train on the first N images only (quick runs)")
    p.add_argument("--out", default="runs/run", help="folder for checkpoint.pth, history.csv, metrics.json")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--overwrite", action="store_true", help="start over even if --out holds a run")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines or progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="accuracy, per-class accuracy of a trained run")
    p.add_argument("--checkpoint", required=True, help="a run folder written by 'cnnlab train --out'")
    p.add_argument("--data", default=None, help="data spec (default: the one the run was trained on)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="classify image files with a trained run")
    p.add_argument("--checkpoint", required=True, help="a run folder written by 'cnnlab train --out'")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, ...)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("models", help="list the models cnnlab can build")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("demo", help="train LeNet-5 on the bundled MNIST sample (what 'make demo' runs)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--out", default="runs/demo")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CLIError as e:
        print(f"cnnlab {args.command}: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, RuntimeError, KeyError) as e:
        print(f"cnnlab {args.command}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"cnnlab {args.command}: interrupted", file=sys.stderr)
        return 130
