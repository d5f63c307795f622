"""`cnnlab train`: check the arguments and the run folder, train, write the run's files.

`--resume` continues the run in --out with the settings its config.json records; a setting given again with
another value is applied from the next epoch on and said in one line (epochs, lr, momentum, weight decay,
batch size: a cosine or step schedule is rebuilt for the new length, as a run started with those settings
would have it at that epoch), or refused where the run cannot change it (model, data, optimizer, schedule,
augmentation, seed, subset). config.json records every such change, so it tells how the weights were made.
"""
import os
import re
import shutil
import sys

import cnnlab
from . import data as cdata, io as cio, optim
from .cli_args import LR_DEFAULTS
from .cli_common import (CHECKPOINT, CLIError, CONFIG, HISTORY, METRICS, RUN_FILES, check_fits, expand_spec, load_data,
                         model_kwargs, one_line, read_config, report, say, write_json)
from .cli_transfer import (default_transforms, freeze, head_names, named_weights, renormalised, setup_transfer,
                           split_prefixes)
from .data.datasets.folder import require_pillow
from .io.atomic import atomic_open
from .optim import SGD, lr_scheduler
from .train import evaluate, fit
from .train_checks import check_checkpoint

APPLIED = ("epochs", "lr", "momentum", "weight_decay", "batch_size")  # a resumed run may change these
KEPT = ("model", "data", "optimizer", "scheduler", "augment", "seed", "subset", "image_size", "weights", "freeze")  # ... not these
_LEFTOVER = re.compile(r"\.(?:%s)\..+\.tmp" % "|".join(map(re.escape, RUN_FILES)))  # a killed atomic write's temp


def _flag(key, value):
    if isinstance(value, bool):
        return f"--{'' if value else 'no-'}{key.replace('_', '-')}"
    return f"--{key.replace('_', '-')} {'(none)' if value is None else value}"


def _check_out(args):
    """--out: a folder that is new, empty, a run that stopped before its first checkpoint, or (with --overwrite)
    a run to replace, or (with --resume) a run to continue. Returns the saved config when resuming."""
    out = args.out
    if not out:
        raise CLIError("--out: give the folder for the run's files. Got an empty name.")
    if os.path.exists(out) and not os.path.isdir(out):
        raise CLIError(f"--out: {out} is a file; give a folder.")

    has = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
    if args.resume:
        if args.overwrite:
            raise CLIError("--resume and --overwrite contradict each other; pass one.")
        if CHECKPOINT not in has and CONFIG in has:
            raise CLIError(f"--resume: the run in {out} stopped before its first epoch ended (it has no "
                           f"{CHECKPOINT}); start it again without --resume.")
        if CHECKPOINT not in has or CONFIG not in has:
            raise CLIError(f"--resume: no run to resume in {out} (it needs {CONFIG} and {CHECKPOINT}).")
        return read_config(out)
    entries = os.listdir(out) if os.path.isdir(out) else []
    if entries and not args.overwrite:
        unfinished = CHECKPOINT not in has and all(e in RUN_FILES or _LEFTOVER.fullmatch(e) for e in entries)
        if not unfinished:
            what = "already holds a run" if has else "exists and is not empty"
            raise CLIError(f"--out: {out} {what}; pass --resume to continue it, --overwrite to replace it, or "
                           f"another --out.")
        say(f"--out: the run in {out} stopped before its first epoch ended (no {CHECKPOINT}); starting it afresh.")
        args.overwrite = True
    return None


def _resume_settings(args, saved):
    """Take every setting the user did not type from the run's config.json; refuse a changed KEPT setting;
    return {setting: (old, new)} for the APPLIED ones that change."""
    given = getattr(args, "given", None)
    changes = {}
    for key in KEPT + APPLIED:
        if key not in saved:  # a config written before the setting was recorded
            continue
        new = getattr(args, key)
        if (given is not None and key not in given) or new == saved[key]:
            setattr(args, key, saved[key])
        elif key in KEPT:
            raise CLIError(f"--resume: the run in {args.out} was trained with {_flag(key, saved[key])}, not "
                           f"{_flag(key, new) if isinstance(new, bool) else new}; pass {_flag(key, saved[key])} "
                           f"(a resumed run keeps its {key}), or start a new run with another --out.")
        else:
            changes[key] = (saved[key], new)
    return changes


def _schedule_at(name, base_lr, epochs, done):
    """The state of the --scheduler schedule of an `epochs`-epoch run from lr base_lr after `done` epochs
    (stepped on a scratch optimizer: the same code path as the run's own schedule)."""
    scratch = SGD([cnnlab.zeros(1, requires_grad=True)], lr=base_lr)
    schedule = make_scheduler(name, scratch, epochs)
    for _ in range(done):
        scratch.step()
        schedule.step()
    return schedule.state_dict()


def _stale(ckpt, args, done):
    """The settings the checkpoint's optimizer and schedule do not carry yet: those changed by this command,
    or by an earlier --resume that stopped before its first epoch ended (config.json has them already)."""
    group = ckpt["optimizer"]["param_groups"][0] if "optimizer" in ckpt else {}
    stale = {key for key in ("momentum", "weight_decay")
             if key in group and getattr(args, key) is not None and group[key] != getattr(args, key)}
    if args.scheduler == "none":
        stale |= {"lr"} if group.get("lr", args.lr) != args.lr else set()
    else:
        want, have = _schedule_at(args.scheduler, args.lr, args.epochs, done), ckpt.get("scheduler", {})
        if any(have.get(k) != want[k] for k in ("T_max", "step_size", "gamma", "eta_min", "base_lrs") if k in want):
            stale.add("schedule")
    return stale


def _describe(args, changes, stale, done):
    """The one line that says what a resumed run changes."""
    text = ", ".join(f"--{k.replace('_', '-')} {old} -> {new}" for k, (old, new) in changes.items())
    text = (f"--resume: continuing {args.out} after epoch {done} with {text}" if changes else
            f"--resume: the checkpoint in {args.out} does not carry the run's settings yet (an earlier --resume "
            "that changed them stopped before its first epoch ended); they apply now")
    if "schedule" in stale:
        lr = _schedule_at(args.scheduler, args.lr, args.epochs, done)["_last_lr"][0]
        return (f"{text}; the {args.scheduler} schedule is rebuilt for {args.epochs} epochs from lr {args.lr}: "
                f"epoch {done + 1} trains at lr {lr:.4g}, as a run started with these settings would.")
    return f"{text}, from epoch {done + 1} on."


def _apply(args, optimizer, scheduler, done, stale):
    """Called by fit once the checkpoint is restored: put the stale settings into the optimizer and the
    schedule (the restored state carries the old ones)."""
    for group in optimizer.param_groups:
        for key in ("momentum", "weight_decay"):
            if key in stale:
                group[key] = getattr(args, key)
        if "lr" in stale:
            group["lr"] = args.lr
    if "schedule" in stale:
        scheduler.load_state_dict(_schedule_at(args.scheduler, args.lr, args.epochs, done))
        for group, lr in zip(optimizer.param_groups, scheduler.get_last_lr()):
            group["lr"], group["initial_lr"] = lr, args.lr


def _check_resumable(path, model, optimizer, scheduler, loader):
    """The whole checkpoint checked against the run's objects before anything is written (a damaged one is a
    CLIError naming the field); the model gets its weights, which fit restores again."""
    try:
        ckpt = check_checkpoint(cio.load(path), path, model, optimizer, scheduler, (loader,))
        model.load_state_dict(ckpt["model"])
    except (ValueError, TypeError, KeyError, OSError, RuntimeError) as e:
        raise CLIError(f"--resume: cannot continue from {path} ({one_line(e).rstrip('.')}).") from None
    return ckpt


def cmd_train(args):
    from . import models
    try:
        args.model = models.canonical_name(args.model)
    except ValueError:
        import difflib
        close = difflib.get_close_matches(args.model.lower().replace("-", "_"), models.list_models(), n=2,
                                              cutoff=0.8)
        raise CLIError(f"--model: unknown model {args.model!r}" + (f"; did you mean {' or '.join(close)}?" if close
                                                                   else ".")
                       + f" 'cnnlab models' lists all {len(models.list_models())}.") from None
    args.data = expand_spec(args.data)
    args.out = os.path.expanduser(args.out)
    saved = _check_out(args)
    changes = _resume_settings(args, saved) if saved is not None else {}
    if args.lr is None:
        args.lr = LR_DEFAULTS[args.optimizer]
    if args.optimizer in ("adam", "adamw"):
        if "momentum" in (getattr(args, "given", None) or ()):
            raise CLIError(f"--momentum applies to sgd and rmsprop; {args.optimizer} has none (its betas are fixed "
                           "at PyTorch's defaults).")
        args.momentum = None
    preset = _transfer_preset(args)
    if args.image_size is not None and not args.data.startswith("folder:"):
        raise CLIError(f"--image-size applies to folder:DIR data only; {args.data} has a fixed size.")
    if args.data.startswith("folder:"):
        require_pillow("--data folder:DIR")  # before anything is written; a one-line ImportError saying how to install
    cnnlab.manual_seed(args.seed)
    train_ds, val_ds, info = load_data(args.data, download=args.download, image_size=args.image_size,
                                       seed=args.seed, augment=args.augment)
    if preset is not None and info["channels"] == 3:  # normalised as the pretrained weights expect
        train_ds, val_ds = renormalised(train_ds, val_ds, info, preset)
    if args.subset:
        train_ds = cdata.Subset(train_ds, range(min(args.subset, len(train_ds))))
    config = {"model": args.model, "model_kwargs": model_kwargs(args.model, info), "data": args.data,
              "data_info": info, "optimizer": args.optimizer, "lr": args.lr, "momentum": args.momentum,
              "weight_decay": args.weight_decay, "batch_size": args.batch_size, "epochs": args.epochs,
              "seed": args.seed, "scheduler": args.scheduler, "augment": args.augment, "subset": args.subset,
              "image_size": args.image_size, "weights": args.weights, "freeze": args.freeze}
    if saved is not None and saved.get("resumed"):
        config["resumed"] = list(saved["resumed"])  # the changes made when this run was resumed before
    model = check_fits(config)  # the run's model: the check's zero images draw nothing from the generator
    if args.weights and not args.resume:  # a resumed run's checkpoint holds the weights; only --freeze is redone
        say(setup_transfer(args, model, len(info["classes"])))
    elif args.freeze:
        freeze(model, split_prefixes(args.freeze), head_names(args.model, model))
    created = not os.path.isdir(args.out)
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        raise CLIError(f"--out: cannot create the folder {args.out} ({e.strerror or type(e).__name__}).") from None
    if args.overwrite:
        for f in RUN_FILES:
            if os.path.exists(os.path.join(args.out, f)):
                os.remove(os.path.join(args.out, f))
    try:
        return _run_training(args, config, model, train_ds, val_ds, changes)
    except BaseException as e:
        if not os.path.exists(os.path.join(args.out, CHECKPOINT)):  # nothing worth keeping: leave no trace
            for f in RUN_FILES:
                if os.path.exists(os.path.join(args.out, f)):
                    os.remove(os.path.join(args.out, f))
            if created:
                shutil.rmtree(args.out, ignore_errors=True)
        elif isinstance(e, KeyboardInterrupt):
            print(f"cnnlab train: interrupted; the last finished epoch is saved in {args.out}. Continue with: "
                  f"{invocation(args)} train --out {args.out}{' --quiet' * args.quiet} --resume", file=sys.stderr,
                  flush=True)
            return 130
        raise


def _run_training(args, config, model, train_ds, val_ds, changes):
    import time

    import numpy as np

    info, ckpt = config["data_info"], os.path.join(args.out, CHECKPOINT)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum, args.weight_decay)
    scheduler = make_scheduler(args.scheduler, optimizer, args.epochs)
    loader = cdata.DataLoader(train_ds, batch_size=args.batch_size, shuffle=True,
                              generator=cnnlab.Generator().manual_seed(args.seed))
    val_loader = cdata.DataLoader(val_ds, batch_size=512)
    done, on_resume = 0, None
    if args.resume:
        saved = _check_resumable(ckpt, model, optimizer, scheduler, loader)
        done = saved["epoch"]
        if done >= args.epochs:
            raise CLIError(f"--resume: the run in {args.out} has already trained {done} epoch{'s' * (done != 1)}; "
                           f"pass --epochs larger than {done} to continue it.")
        stale = _stale(saved, args, done)
        if changes:
            config.setdefault("resumed", []).append({"after_epoch": done,
                                                     "changed": {k: list(v) for k, v in changes.items()}})
        if changes or stale:
            say(_describe(args, changes, stale, done))
        if stale:
            on_resume = lambda _: _apply(args, optimizer, scheduler, done, stale)  # noqa: E731
    with atomic_open(os.path.join(args.out, CONFIG), "w") as f:
        write_json(config, f)
    n_params = sum(p.numel() for p in model.parameters())
    say(f"training {args.model} ({n_params:,} parameters) on {args.data}: {len(train_ds)} training, {len(val_ds)} "
        f"validation images, {args.epochs} epoch{'s' * (args.epochs != 1)}, batch {args.batch_size}, "
        f"{args.optimizer} lr {args.lr}" + (f", {args.scheduler} schedule" if args.scheduler != "none" else "")
        + (", augmented" if args.augment else ""))
    t0 = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run ends with fit's own one-line message
        history = fit(model, loader, cnnlab.nn.CrossEntropyLoss(), optimizer, args.epochs, val_loader=val_loader,
                      scheduler=scheduler, checkpoint=ckpt, resume=args.resume, log=None if args.quiet else say,
                      progress=None if not args.quiet else False, on_resume=on_resume)
    seconds = time.perf_counter() - t0
    _write_history(os.path.join(args.out, HISTORY), history)
    result = evaluate(model, val_loader, cnnlab.nn.CrossEntropyLoss(), num_classes=len(info["classes"]))
    images = len(train_ds) * (len(history["epoch"]) - done)  # epochs trained by this command
    metrics = {"val_accuracy": result["accuracy"], "val_loss": result["loss"],
               "per_class_accuracy": dict(zip(info["classes"], result["per_class_accuracy"])),
               "confusion_matrix": result["confusion_matrix"].tolist(), "epochs": len(history["epoch"]),
               "train_seconds": seconds, "images_per_second": images / seconds if seconds > 0 else None}
    with atomic_open(os.path.join(args.out, METRICS), "w") as f:
        write_json(metrics, f)
    report(result, info["classes"], confusion=False)
    say(f"trained in {seconds:.1f}s ({images / max(seconds, 1e-9):.0f} images/s); checkpoint: {ckpt}")
    say(f"history: {os.path.join(args.out, HISTORY)}, metrics: {os.path.join(args.out, METRICS)}")
    me = invocation(args)
    say(f"next: {me} evaluate --checkpoint {args.out}   or   {me} predict --checkpoint {args.out} IMAGE.png")
    return 0


def _transfer_preset(args):
    """The weights' preprocessing for a --weights run (None without --weights); --image-size defaults to its
    crop size. Checks --weights and --freeze before anything is read."""
    if args.freeze and not args.weights:
        raise CLIError("--freeze applies with --weights (the pretrained parameters to keep); got --freeze "
                       f"{args.freeze} without --weights.")
    if not args.weights:
        return None
    preset = default_transforms(args.model, named_weights(args.model, args.weights))
    if preset is not None and args.image_size is None and args.data.startswith("folder:"):
        args.image_size = preset.crop_size[0]
    return preset


def invocation(args):
    """The command as the user typed it: 'python -m cnnlab' when run as a module, else 'cnnlab'."""
    return getattr(args, "invoked_as", None) or "cnnlab"


def make_optimizer(name, params, lr, momentum, weight_decay):
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def make_scheduler(name, optimizer, epochs):
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    return None


def _write_history(path, history):
    import csv
    import math
    keys = list(history)
    with atomic_open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for row in zip(*(history[k] for k in keys)):
            w.writerow(["" if v is None or (isinstance(v, float) and not math.isfinite(v)) else v for v in row])
