"""Training loops: fit, evaluate, predict, and atomic checkpoints that resume to the same result.

>>> import cnnlab, cnnlab.nn as nn
>>> from cnnlab.data import DataLoader, TensorDataset
>>> _ = cnnlab.manual_seed(0)
>>> x = cnnlab.randn(64, 4); y = (x[:, 0] > 0).long()
>>> model = nn.Linear(4, 2)
>>> opt = cnnlab.optim.SGD(model.parameters(), lr=0.5)
>>> hist = fit(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(), opt, epochs=5)
>>> hist["train_acc"][-1] > 0.9
True
"""
import math
import os
import sys
import time

import numpy as np

from . import io as cio
from .autograd import no_grad
from .inspect.checks import checked_forward
from .nn.functional import softmax
from .random import default_generator
from .tensor import Tensor
from .train_checks import HISTORY_KEYS, check_checkpoint


class StopTraining(Exception):
    """Raise from a callback to end fit() after the current epoch (early stopping)."""


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite."""




def _batch_xy(batch, where):
    if isinstance(batch, dict):
        try:
            return batch["input"], batch["target"]
        except KeyError:
            raise ValueError(f"{where}: dict batches need 'input' and 'target' keys. Got keys {sorted(batch)}.") from None
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise ValueError(f"{where}: each batch must be (inputs, targets). Got a {type(batch).__name__}.")
    return batch[0], batch[1]


def _correct(output, target):
    """Number of correct predictions for class logits (N, C) with int targets, or binary logits (N,)/(N, 1)."""
    out, tgt = output._data, target._data if isinstance(target, Tensor) else np.asarray(target)
    if out.ndim >= 2 and out.shape[1] > 1 and tgt.dtype.kind in "iu":
        return int((out.argmax(axis=1) == tgt).sum()), tgt.size
    if out.size == tgt.size and tgt.dtype.kind in "fb":
        return int(((out.reshape(-1) > 0) == (tgt.reshape(-1) > 0.5)).sum()), tgt.size
    return None


def _progress(iterable, total, desc, enabled):
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


def _current_lr(optimizer):
    return float(optimizer.param_groups[0]["lr"])


def train_one_epoch(model, loader, loss_fn, optimizer, epoch=1, progress=None):
    """One pass over loader: forward, loss, backward, step. Returns (mean loss, accuracy or None)."""
    model.train()
    total_loss, seen, correct, counted = 0.0, 0, 0, 0
    for i, batch in enumerate(_progress(loader, _len(loader), f"epoch {epoch}", progress), start=1):
        x, y = _batch_xy(batch, "fit")
        optimizer.zero_grad()
        # The first batch runs with shape checks, so a layer that does not fit fails naming itself by its path.
        output = checked_forward(model, x, check=(i == 1))
        loss = loss_fn(output, y)
        value = float(loss.item())
        if not math.isfinite(value):
            raise TrainingDiverged(f"fit: the loss became {value} at epoch {epoch}, batch {i}; training stopped. "
                                   "Lower the learning rate, check the inputs for NaN/inf, or normalise them.")
        loss.backward()
        optimizer.step()
        n = len(y)
        total_loss += value * n
        seen += n
        hit = _correct(output, y)
        if hit is not None:
            correct, counted = correct + hit[0], counted + hit[1]
    if seen == 0:
        raise ValueError("fit: the training loader produced no batches.")
    return total_loss / seen, (correct / counted if counted else None)


def _len(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def evaluate(model, loader, loss_fn=None, num_classes=None):
    """Loss, accuracy, per-class accuracy and confusion matrix of a classifier over a loader, in eval mode.

    Returns a dict: loss (or None), accuracy, per_class_accuracy (list; NaN for a class with no samples),
    confusion_matrix (num_classes x num_classes NumPy array, rows = true class, columns = predicted), count.
    """
    was_training = model.training
    model.eval()
    total_loss, seen, preds, targets = 0.0, 0, [], []
    with no_grad():
        for batch in loader:
            x, y = _batch_xy(batch, "evaluate")
            out = model(x)
            if loss_fn is not None:
                total_loss += float(loss_fn(out, y).item()) * len(y)
            seen += len(y)
            o = out._data
            preds.append(o.argmax(axis=1) if o.ndim >= 2 and o.shape[1] > 1 else (o.reshape(-1) > 0).astype(np.int64))
            targets.append(np.asarray(y._data if isinstance(y, Tensor) else y).reshape(-1).astype(np.int64))
    model.train(was_training)
    if seen == 0:
        raise ValueError("evaluate: the loader produced no batches.")
    p, t = np.concatenate(preds), np.concatenate(targets)
    k = num_classes or int(max(p.max(), t.max())) + 1
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (t, p), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    per_class = np.where(confusion.sum(axis=1) > 0, per_class, np.nan)
    return {"loss": total_loss / seen if loss_fn is not None else None, "accuracy": float((p == t).mean()),
            "per_class_accuracy": per_class.tolist(), "confusion_matrix": confusion, "count": seen}


def predict(model, inputs, k=1, batch_size=256):
    """Class probabilities (softmax) and the top-k classes for a batch tensor or a loader of batches.

    Returns (probabilities (N, C) ndarray, top-k indices (N, k), top-k probabilities (N, k)).
    """
    was_training = model.training
    model.eval()
    chunks = []
    with no_grad():
        if isinstance(inputs, Tensor):
            batches = [inputs[i:i + batch_size] for i in range(0, inputs.shape[0], batch_size)]
        else:
            batches = (b[0] if isinstance(b, (tuple, list)) else b for b in inputs)
        for xb in batches:
            chunks.append(softmax(model(xb), dim=1)._data)
    model.train(was_training)
    probs = np.concatenate(chunks)
    if not 1 <= k <= probs.shape[1]:
        raise ValueError(f"predict: k must be between 1 and the number of classes. Got k={k}, classes={probs.shape[1]}.")
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return probs, top, np.take_along_axis(probs, top, axis=1)


# ---- checkpoints ----------------------------------------------------------------------------------------------
def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=0, history=None, extra=None, loaders=()):
    """Write model, optimizer, scheduler, epoch, history and random state to path atomically (temp file +
    rename): a crash during the save leaves the previous checkpoint intact."""
    ckpt = {"model": model.state_dict(), "epoch": int(epoch), "history": history or {},
            "rng": default_generator.get_state(),
            "loader_rng": [dl.generator.get_state() if getattr(dl, "generator", None) is not None else None
                           for dl in loaders]}
    if optimizer is not None:
        ckpt["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        ckpt["scheduler"] = scheduler.state_dict()
    if extra:
        ckpt["extra"] = extra
    cio.save(ckpt, path)


def load_checkpoint(path, model=None, optimizer=None, scheduler=None, loaders=(), restore_rng=True):
    """Read a checkpoint written by save_checkpoint and restore what is given; returns the checkpoint dict.

    The fields the given objects read are checked first (types, shapes, generator states): a damaged or edited
    checkpoint raises CheckpointError naming the field, what it must be and what it holds, before anything is
    restored.
    """
    ckpt = check_checkpoint(cio.load(path), path, model, optimizer, scheduler, loaders, restore_rng)
    if model is not None:
        model.load_state_dict(ckpt["model"])
    if optimizer is not None and "optimizer" in ckpt:
        optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None and "scheduler" in ckpt:
        scheduler.load_state_dict(ckpt["scheduler"])
    if restore_rng:
        default_generator.set_state(ckpt["rng"])
        for dl, state in zip(loaders, ckpt.get("loader_rng", [])):
            if state is not None and getattr(dl, "generator", None) is not None:
                dl.generator.set_state(state)
    return ckpt


def fit(model, train_loader, loss_fn, optimizer, epochs, val_loader=None, scheduler=None, callbacks=(),
        checkpoint=None, resume=False, progress=None, log=None, on_resume=None):
    """Train for `epochs` epochs; returns the history {epoch, train_loss, train_acc, val_loss, val_acc, lr, time}
    (one entry per epoch).

    Args:
        scheduler: stepped once per epoch (ReduceLROnPlateau gets the validation, else training, loss).
        callbacks: callables cb(epoch, logs) after each epoch; raise StopTraining to stop early.
        checkpoint (path, default None): written atomically after every epoch.
        resume (bool): continue from `checkpoint` (model, optimizer, scheduler, epoch, history, random state),
            reaching the same result as an uninterrupted run with the same seed. The scheduler's saved state
            replaces the given one's, T_max and step sizes included: to lengthen a run, rebuild the schedule
            in on_resume (as `cnnlab train --resume --epochs N` does).
        progress (bool or None): a tqdm bar per epoch; None shows it only on a terminal.
        log (callable, default None): called with one line of text per epoch.
        on_resume (callable, default None): on_resume(checkpoint dict), called after a resume restored the
            state and before the first new epoch (to lengthen a schedule or change the lr, say).
    Raises:
        TrainingDiverged: the loss became NaN or infinite (the message names the epoch and batch).
        TypeError, ValueError: epochs is not an int, or is less than 1.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)):
        raise TypeError(f"fit: epochs must be an int. Got epochs={epochs!r} ({type(epochs).__name__}).")
    if epochs < 1:
        raise ValueError(f"fit: epochs must be at least 1 (the total, counting resumed epochs). Got epochs={epochs}.")
    history = {k: [] for k in HISTORY_KEYS}
    start = 0
    loaders = (train_loader,)
    if resume:
        if checkpoint is None or not os.path.exists(checkpoint):
            raise FileNotFoundError(f"fit: resume=True needs an existing checkpoint. Got checkpoint={checkpoint!r}.")
        ckpt = load_checkpoint(checkpoint, model, optimizer, scheduler, loaders)
        start, history = ckpt["epoch"], {k: list(ckpt.get("history", {}).get(k, [])) for k in HISTORY_KEYS}
        if on_resume is not None:
            on_resume(ckpt)
    for epoch in range(start + 1, epochs + 1):
        t0 = time.perf_counter()
        lr = _current_lr(optimizer)
        train_loss, train_acc = train_one_epoch(model, train_loader, loss_fn, optimizer, epoch, progress)
        val = evaluate(model, val_loader, loss_fn) if val_loader is not None else None
        if scheduler is not None:
            if type(scheduler).__name__ == "ReduceLROnPlateau":
                scheduler.step(val["loss"] if val else train_loss)
            else:
                scheduler.step()
        row = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
               "val_loss": val["loss"] if val else None, "val_acc": val["accuracy"] if val else None,
               "lr": lr, "time": time.perf_counter() - t0}
        for k in HISTORY_KEYS:
            history[k].append(row[k])
        if log is not None:
            log(format_epoch(row, epochs))
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizer, scheduler, epoch, history, loaders=loaders)
        try:
            for cb in callbacks:
                cb(epoch, row)
        except StopTraining:
            break
    return history


def format_epoch(row, epochs):
    """One line describing an epoch: 'epoch  3/10  loss 0.1234  acc 96.50%  val_loss ...  lr 0.01  4.2s'."""
    parts = [f"epoch {row['epoch']:>2}/{epochs}", f"loss {row['train_loss']:.4f}"]
    if row["train_acc"] is not None:
        parts.append(f"acc {100 * row['train_acc']:.2f}%")
    if row["val_loss"] is not None:
        parts += [f"val_loss {row['val_loss']:.4f}", f"val_acc {100 * row['val_acc']:.2f}%"]
    parts += [f"lr {row['lr']:.4g}", f"{row['time']:.1f}s"]
    return "  ".join(parts)


__all__ = ["fit", "evaluate", "predict", "train_one_epoch", "save_checkpoint", "load_checkpoint", "StopTraining",
           "TrainingDiverged", "format_epoch"]
