"""The structure of a training checkpoint, checked before any of it is used.

A checkpoint is a pickle-free dict that anyone can edit or truncate; a field of the wrong type must not reach
NumPy (a broadcast error), a dict lookup (a bare `'rng'`) or the optimizer's next step. `check_checkpoint`
names the field, what it must be and what it holds:

>>> check_checkpoint({"model": {}, "epoch": "2"}, "run.pth")
Traceback (most recent call last):
...
cnnlab.errors.CheckpointError: load_checkpoint: the field 'epoch' must be an int >= 0. Got epoch='2' (str) in run.pth.
"""
import numbers

import numpy as np

from .errors import CheckpointError
from .random import Generator
from .tensor import Tensor

HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "time")  # train.fit's history


def describe(value, limit=60):
    """A short account of a value for an error message: its repr (cut) and type, with the shape of arrays."""
    if isinstance(value, (Tensor, np.ndarray)):
        return f"a {type(value).__name__} of shape {tuple(value.shape)}"
    text = repr(value)
    text = text if len(text) <= limit else text[:limit - 3] + "..."
    return f"{text} ({type(value).__name__})"


def _bad(path, field, rule, value):
    raise CheckpointError(f"load_checkpoint: the field '{field}' must be {rule}. Got {field}={describe(value)} "
                          f"in {path}.")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_generator_state(path, field, state):
    """A generator state is what Generator.get_state returns; setting it on a throwaway generator proves it."""
    rule = "a random-generator state (a dict with 'seed' and 'bit_generator')"
    if not isinstance(state, dict) or set(state) != {"seed", "bit_generator"}:
        _bad(path, field, rule, state)
    try:
        Generator().set_state(state)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as e:
        _bad(path, field, f"{rule} NumPy accepts ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})",
             state)


def _check_optimizer(path, saved, optimizer):
    name = type(optimizer).__name__
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), dict) or \
            not isinstance(saved.get("param_groups"), list):
        _bad(path, "optimizer", "an optimizer state (a dict with 'state' (dict) and 'param_groups' (list))", saved)
    groups = saved["param_groups"]
    if len(groups) != len(optimizer.param_groups):
        _bad(path, "optimizer.param_groups", f"a list of {len(optimizer.param_groups)} group(s), as {name} has",
             groups)
    owner = {}  # saved parameter id -> the parameter it stands for
    for i, (group, mine) in enumerate(zip(groups, optimizer.param_groups)):
        where = f"optimizer.param_groups[{i}]"
        if not isinstance(group, dict) or not isinstance(group.get("params"), list):
            _bad(path, where, "a dict with 'params' (a list)", group)
        if len(group["params"]) != len(mine["params"]):
            _bad(path, f"{where}.params", f"a list of {len(mine['params'])} parameter ids, as the model has",
                 group["params"])
        for key, value in group.items():
            if key in mine and key != "params" and isinstance(mine[key], numbers.Real) and \
                    not isinstance(mine[key], bool) and not (isinstance(value, numbers.Real)
                                                              and not isinstance(value, bool)):
                _bad(path, f"{where}.{key}", "a number", value)
        owner.update(zip(group["params"], mine["params"]))
    for pid, entry in saved["state"].items():
        if pid not in owner:
            _bad(path, f"optimizer.state[{pid!r}]", "the state of a parameter listed in param_groups", entry)
        if not isinstance(entry, dict):
            _bad(path, f"optimizer.state[{pid!r}]", "a dict of per-parameter buffers", entry)
        shape = tuple(owner[pid].shape)
        for key, value in entry.items():
            if key == "step":
                continue
            got = tuple(value.shape) if isinstance(value, (Tensor, np.ndarray)) else None
            if got is None and value is not None:
                _bad(path, f"optimizer.state[{pid!r}].{key}", f"a tensor of shape {shape}", value)
            if got is not None and got != shape:
                _bad(path, f"optimizer.state[{pid!r}].{key}", f"a tensor of shape {shape} (its parameter's)",
                     value)


def check_checkpoint(ckpt, path, model=None, optimizer=None, scheduler=None, loaders=(), restore_rng=True):
    """Check the fields of a checkpoint that the given objects will read; raise CheckpointError naming the
    first field that is missing or of the wrong type or shape. Returns ckpt."""
    if not isinstance(ckpt, dict) or "model" not in ckpt:
        raise CheckpointError(f"load_checkpoint: {path} is not a cnnlab training checkpoint (no 'model' entry).")
    if not isinstance(ckpt["model"], dict) or not all(isinstance(k, str) for k in ckpt["model"]):
        _bad(path, "model", "a state dict (parameter name -> tensor)", ckpt["model"])
    if not _is_int(ckpt.get("epoch")) or ckpt["epoch"] < 0:
        _bad(path, "epoch", "an int >= 0", ckpt.get("epoch"))
    history = ckpt.get("history", {})
    if not isinstance(history, dict) or not all(isinstance(v, list) for v in history.values()):
        _bad(path, "history", "a dict of lists (one value per epoch)", history)
    for key in HISTORY_KEYS:
        values = history.get(key, [])
        if values and len(values) != ckpt["epoch"]:
            _bad(path, f"history.{key}", f"a list of {ckpt['epoch']} values (one per epoch trained)", values)
    if restore_rng:
        if "rng" not in ckpt:
            _bad(path, "rng", "present (the random state to resume from)", None)
        _check_generator_state(path, "rng", ckpt["rng"])
        states = ckpt.get("loader_rng", [])
        if not isinstance(states, list):
            _bad(path, "loader_rng", "a list of generator states (or None)", states)
        for i, state in enumerate(states[:len(loaders)]):
            if state is not None:
                _check_generator_state(path, f"loader_rng[{i}]", state)
    if optimizer is not None and "optimizer" in ckpt:
        _check_optimizer(path, ckpt["optimizer"], optimizer)
    if scheduler is not None and "scheduler" in ckpt:
        saved, mine = ckpt["scheduler"], scheduler.state_dict()
        if not isinstance(saved, dict) or set(saved) != set(mine):
            _bad(path, "scheduler", f"the state of a {type(scheduler).__name__} (keys {sorted(mine)})", saved)
        for key, value in saved.items():
            if _is_int(mine[key]) and not _is_int(value):
                _bad(path, f"scheduler.{key}", "an int", value)
            if isinstance(mine[key], float) and not (isinstance(value, numbers.Real) and not isinstance(value, bool)):
                _bad(path, f"scheduler.{key}", "a number", value)
            if isinstance(mine[key], list) and (not isinstance(value, list) or len(value) != len(mine[key])):
                _bad(path, f"scheduler.{key}", f"a list of {len(mine[key])} value(s), one per parameter group",
                     value)
    return ckpt
