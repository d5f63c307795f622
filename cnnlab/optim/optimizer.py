"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, step and state dicts.

A concrete optimizer (SGD, Adam, ...) checks its hyperparameters, hands its defaults to `Optimizer.__init__`
and implements `_update_group(group)`, which updates every parameter of one group that has a gradient, in
place on the parameter's ndarray (`p._data`), so the parameter objects a model holds stay the same objects.
`step` runs the updates under `no_grad()` (and the closure, if any, under `enable_grad()`).

The layout follows torch.optim.Optimizer: `param_groups` is a list of dicts (`group['lr']` can be set by
schedulers and users), `state` maps each parameter to a dict of tensors, and `state_dict()` replaces the
parameters by their indices: `{'state': {0: {...}, ...}, 'param_groups': [{'lr': ..., 'params': [0, 1]}]}`.
"""
import copy
import numbers
import warnings
from collections import defaultdict

import numpy as np

from .. import _dtypes
from ..autograd import enable_grad, no_grad
from ..errors import ShapeError, shape_str
from ..tensor import Tensor


class _RequiredParameter:
    """Marks a default that every parameter group must set (as torch.optim.optimizer.required)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _scalar_dtype():
    """The dtype of the 'step' counters: float32, or float64 when that is the default dtype (as PyTorch)."""
    return np.float64 if _dtypes.get_default_dtype().np == np.float64 else np.float32


def step_tensor(value=0.0):
    """A 0-d step counter, as PyTorch keeps it (`tensor(0.)`)."""
    return Tensor._wrap(np.array(value, dtype=_scalar_dtype()))


def is_real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_non_negative(opt, group, *names):
    """Raise `<opt>: <name> must be non-negative. Got <name>=<value>.` for each named hyperparameter."""
    for name in names:
        value = group[name]
        if not is_real(value):
            raise TypeError(f"{opt}: {name} must be a real number. Got {name}={value!r}.")
        if not value >= 0.0:  # also refuses NaN
            raise ValueError(f"{opt}: {name} must be non-negative. Got {name}={value!r}.")


def check_supported_flags(opt, group):
    """cnnlab runs on the CPU without graphs through the update: refuse `differentiable=True`."""
    if group.get("differentiable", False):
        raise ValueError(f"{opt}: differentiable=True is not supported; cnnlab updates the parameters in place "
                         "under no_grad(). Got differentiable=True.")


class Optimizer:
    """Base class of all optimizers: holds parameter groups and per-parameter state.

    Args:
        params (iterable): tensors to optimize, (name, tensor) pairs, or dicts that define parameter groups
            (`{'params': [...], 'lr': 0.1}`; options a group leaves out take the optimizer's defaults).
        defaults (dict): the default value of every option.

    Raises:
        TypeError: params is a single tensor or a set, or holds something other than tensors.
        ValueError: params is empty, holds a non-leaf tensor, or a tensor appears in two groups.

    Subclasses implement `_update_group(group)` (and `_check_group(group)` for their option rules).
    Matches torch.optim.Optimizer.

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> w = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.tolist()
    [0.0, 0.0]
    >>> opt.zero_grad(); w.grad is None
    True
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of tensors or dicts, not a single tensor; "
                            "wrap it in a list. Got params of type Tensor.")
        if isinstance(params, (dict, str)) or not hasattr(params, "__iter__"):
            raise TypeError(f"{name}: params must be an iterable of tensors or dicts. "
                            f"Got params of type {type(params).__name__}.")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be in an ordered collection (list, tuple, generator); "
                            "the order of a set changes between runs. Got a set.")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list. Got params=[] (did the model "
                             "register no parameters, or was a generator such as model.parameters() used "
                             "up already?).")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ---- parameter groups --------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (the defaults fill in the rest).

        Args:
            param_group (dict): `{'params': tensors, 'lr': ..., ...}`.
        Raises:
            TypeError, ValueError: as for the constructor, and when a parameter already is in another group.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict. Got {type(param_group).__name__}.")
        params = param_group["params"] if "params" in param_group else None
        if params is None:
            raise ValueError(f"{name}: a parameter group must have a 'params' entry. "
                             f"Got keys {sorted(param_group)}.")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be in an ordered collection (list, tuple, generator); "
                            "the order of a set changes between runs. Got a set.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2:
                names.append(p[0])
                p = p[1]
            tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError(f"{name}: either all parameters have names or none does. "
                             f"Got {len(names)} names for {len(tensors)} parameters.")
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize tensors. Got an element of type "
                                f"{type(p).__name__} at index {i}.")
            if p._backward is not None and not p._retains_grad:
                raise ValueError(f"{name}: can't optimize a non-leaf tensor (one computed by an op); optimize "
                                 f"the leaf it was computed from. Got a tensor with grad_fn={p.grad_fn}.")
        group = dict(param_group)
        group["params"] = tensors
        if names:
            group["param_names"] = names
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required optimization "
                                 f"parameter {key}.")
            group.setdefault(key, default)
        self._check_group(group)
        ids = [id(p) for p in tensors]
        if len(set(ids)) != len(ids):
            warnings.warn(f"{name}: a parameter group contains the same parameter more than once; it will be "
                          "updated once per appearance (PyTorch plans to make this an error).", stacklevel=3)
        taken = {id(p): gi for gi, g in enumerate(self.param_groups) for p in g["params"]}
        for p in tensors:
            if id(p) in taken:
                raise ValueError(f"{name}: some parameters appear in more than one parameter group. Got a "
                                 f"tensor of shape {shape_str(p.shape)} in group {taken[id(p)]} and in the new "
                                 f"group {len(self.param_groups)}.")
        if any("param_names" in g for g in self.param_groups) != bool(names) and self.param_groups:
            raise ValueError(f"{name}: all parameter groups must be with names or all without names.")
        self.param_groups.append(group)

    def _check_group(self, group):
        """Check the options of one group (subclasses raise ValueError for values their rule refuses)."""

    # ---- gradients and steps -----------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default) or, with set_to_none=False, to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    if p.grad._data.flags.writeable:
                        p.grad._data.fill(0)
                    else:  # a read-only view the user assigned: replace it
                        p.grad._data = np.zeros_like(p.grad._data)

    def step(self, closure=None):
        """Update the parameters once; parameters whose .grad is None are left alone.

        Args:
            closure (callable, default None): re-evaluates the model and returns the loss (run with
                gradients enabled before the update).
        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
                if _dtypes.bf16_in_use:
                    _settle_bfloat16(group["params"], self.state)
        return loss

    def _update_group(self, group):
        raise NotImplementedError(f"{type(self).__name__} must implement _update_group(group).")

    def _params_with_grad(self, group):
        """(param, grad ndarray) for each parameter of the group that has a gradient, with a shape check."""
        out = []
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad._data if isinstance(p.grad, Tensor) else np.asarray(p.grad)
            if g.shape != p._data.shape:
                raise ShapeError(f"{type(self).__name__}: a parameter's gradient must have its shape. Got "
                                 f"param.shape={shape_str(p._data.shape)}, grad.shape={shape_str(g.shape)}.")
            if g.dtype != p._data.dtype:
                g = g.astype(p._data.dtype)
            out.append((p, g))
        return out

    # ---- state dicts -------------------------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state with parameters replaced by their indices, in PyTorch's layout.

        Returns:
            dict: `{'state': {index: {name: Tensor or number}}, 'param_groups': [{..., 'params': [indices]}]}`.
            As in PyTorch the state tensors are shared with the optimizer, not copied: use copy.deepcopy to
            keep a snapshot while training goes on.
        """
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a state from `state_dict()` (of this optimizer or PyTorch's, with tensors or ndarrays).

        The groups' options are replaced by the saved ones; state tensors are copied and cast to the dtype of
        their parameter (the 'step' counters keep theirs).

        Raises:
            ValueError: the saved state has another number of groups or of parameters in a group.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'. "
                             f"Got {type(state_dict).__name__}"
                             + (f" with keys {sorted(map(str, state_dict))}" if isinstance(state_dict, dict)
                                else "") + ".")
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the saved state has another number of parameter groups. "
                             f"Got {len(saved_groups)} saved groups, the optimizer has "
                             f"{len(self.param_groups)}.")
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"{name}.load_state_dict: a saved parameter group doesn't match the size of "
                                 f"the optimizer's group. Got {len(s['params'])} saved parameters in group {i}, "
                                 f"the optimizer has {len(g['params'])}.")
        id_map = {}
        for g, s in zip(self.param_groups, saved_groups):
            id_map.update(zip(s["params"], g["params"]))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                state[p] = {key: _load_value(p, key, value) for key, value in v.items()}
            else:
                state[k] = v
        for g, s in zip(self.param_groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            for key, default in self.defaults.items():  # options missing from older saved states
                s.setdefault(key, default)
        self.__setstate__({"state": state, "param_groups": saved_groups})

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k not in ("params", "param_names")]
        return "\n".join(lines + [")"])


def _as_array(value):
    """A state value as an ndarray: cnnlab tensors, ndarrays and array-likes such as torch tensors."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor, without importing torch
        return value.detach().cpu().numpy()
    return None


def _load_value(param, key, value):
    """Copy one saved state entry for `param`: arrays become tensors in the param's dtype (steps keep theirs)."""
    if isinstance(value, dict):
        return {k: _load_value(param, k, v) for k, v in value.items()}
    arr = _as_array(value)
    if arr is None:
        if key == "step" and is_real(value):  # an old-style Python number step
            return step_tensor(float(value))
        return copy.deepcopy(value)
    if key == "step":
        return Tensor._wrap(np.array(arr, copy=True))
    if arr.dtype.kind == "f" and param._data.dtype.kind == "f":
        return Tensor._wrap(np.array(arr, dtype=param._data.dtype, copy=True))
    return Tensor._wrap(np.array(arr, copy=True))


def _settle_bfloat16(params, state):
    """bfloat16 parameters and their state tensors (momentum, ...) back onto the bfloat16 grid after an update
    written in float32 (a bfloat16 tensor holds float32 values on that grid; see cnnlab._dtypes)."""
    for p in params:
        if p._data.dtype.metadata is None:
            continue
        _dtypes.settle_bfloat16(p._data)
        for value in state.get(p, {}).values():
            if isinstance(value, Tensor) and value._data.dtype.metadata is not None:
                _dtypes.settle_bfloat16(value._data)
