"""Parametrizations: a module attribute (`weight`) computed on every access from the tensors that are trained.

`register_parametrization(module, "weight", P)` moves the parameter into
`module.parametrizations.weight.original` (or `original0, original1, ...` when `P.right_inverse` splits it into
several tensors), and makes `module.weight` a property that returns `P(original)`. The module's class is
swapped for a subclass named `Parametrized<Class>` that holds the property, as PyTorch does, so the state_dict
keys, the repr and `type(module).__name__` all match PyTorch. Matches torch.nn.utils.parametrize.

>>> import cnnlab, cnnlab.nn as nn
>>> from cnnlab.nn.utils import parametrize
>>> class Symmetric(nn.Module):
...     def forward(self, X):
...         return X.triu() + X.triu(1).transpose(-1, -2)
>>> layer = nn.Linear(3, 3)
>>> parametrize.register_parametrization(layer, "weight", Symmetric())
ParametrizedLinear(
  in_features=3, out_features=3, bias=True
  (parametrizations): ModuleDict(
    (weight): ParametrizationList(
      (0): Symmetric()
    )
  )
)
>>> bool((layer.weight == layer.weight.T).all()), sorted(layer.state_dict())
(True, ['bias', 'parametrizations.weight.original'])
"""
import contextlib
import copy

from ...autograd import no_grad
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

_cache_depth = 0
_cache = {}


@contextlib.contextmanager
def cached():
    """Inside this context a parametrized attribute is computed once per module and reused (for a weight read
    many times in one forward, as in an RNN). Matches torch.nn.utils.parametrize.cached."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one attribute, applied in order, and the original tensor(s) they start from.

    `original` holds the value right_inverse gave (the module's tensor itself when there is no right_inverse);
    when right_inverse returns a sequence, its items are `original0, original1, ...`.
    """

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    new = m.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new is not original:  # keep the module's own Parameter object (an optimizer may hold it)
                _check_same(original, new, "right_inverse")
                original._data = new._data.copy()
            _register(self, "original", original, original)
        else:
            for i, value in enumerate(new):
                if not isinstance(value, Tensor):
                    raise ValueError(f"register_parametrization: right_inverse must return a tensor or a sequence "
                                     f"of tensors. Got an item of type {type(value).__name__} at index {i}.")
                _register(self, f"original{i}", Tensor._wrap(value._data.copy()), original)
        if not unsafe:
            _check_forward(self, original)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in list(self)[1:]:
            x = m(x)
        return x

    def right_inverse(self, value):
        """Set the originals so that the parametrized attribute becomes value (what `module.weight = value`
        does)."""
        with no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement right_inverse.")
                value = m.right_inverse(value)
            if self.is_tensor:
                _check_same(self.original, value, "right_inverse")
                self.original._data = value._data.copy()
            else:
                if not isinstance(value, (list, tuple)) or len(value) != self.ntensors:
                    raise ValueError(f"right_inverse: must return a sequence of {self.ntensors} tensors. "
                                     f"Got {type(value).__name__}.")
                for i, v in enumerate(value):
                    getattr(self, f"original{i}")._data = v._data.copy()


def _register(plist, name, value, original):
    """A Parameter when the original was one (requires_grad kept), else a buffer."""
    if isinstance(original, Parameter):
        if not isinstance(value, Parameter):
            value = Parameter(value, original.requires_grad)
        plist.register_parameter(name, value)
    else:
        plist.register_buffer(name, value)


def _check_same(old, new, what):
    if not isinstance(new, Tensor):
        raise ValueError(f"register_parametrization: {what} must return a tensor. Got {type(new).__name__}.")
    if new.dtype != old.dtype:
        raise ValueError(f"register_parametrization: when {what} returns one tensor, it may not change the dtype. "
                         f"Got dtype={new.dtype}, original dtype={old.dtype}.")


def _check_forward(plist, original):
    with no_grad():
        z = plist()
    if not isinstance(z, Tensor):
        raise ValueError(f"register_parametrization: a parametrization must return a tensor. Got "
                         f"{type(z).__name__}.")
    if z.dtype != original.dtype or tuple(z.shape) != tuple(original.shape):
        raise ValueError("register_parametrization: the parametrization may not change the shape or dtype of the "
                         f"tensor (unless unsafe=True). Got shape={tuple(z.shape)}, dtype={z.dtype}; original "
                         f"shape={tuple(original.shape)}, dtype={original.dtype}.")


# One Parametrized<Class> per parametrized module (as PyTorch), holding a property per parametrized name, so
# removing one module's parametrization never touches another module's class.
def _parametrized_class(cls):
    return type(f"Parametrized{cls.__name__}", (cls,), {
        "_original_class": cls, "__module__": cls.__module__, "__getstate__": _refuse_pickle,
        "__deepcopy__": _deepcopy})


def _inject_class(module):
    module.__class__ = _parametrized_class(module.__class__)


def _refuse_pickle(self):
    raise RuntimeError("Serialization of parametrized modules is only supported through state_dict(). Save "
                       "model.state_dict() and load it into a module parametrized the same way.")


def _deepcopy(self, memo):
    """A copy with its own Parametrized class (its properties copied), its own originals and buffers."""
    new = object.__new__(_parametrized_class(self._original_class))
    memo[id(self)] = new
    for name in self.parametrizations:
        _inject_property(new, name)
    for key, value in self.__dict__.items():
        object.__setattr__(new, key, copy.deepcopy(value, memo))
    return new


def _get(module, name):
    key = (id(module), name)
    if _cache_depth:
        if key not in _cache:
            _cache[key] = module.parametrizations[name]()
        return _cache[key]
    return module.parametrizations[name]()


def _inject_property(module, name):
    setattr(module.__class__, name, property(lambda self: _get(self, name),
                                             lambda self, value: self.parametrizations[name].right_inverse(value)))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make module.<tensor_name> computed as parametrization(original) on every access; original (a Parameter
    or buffer, moved to module.parametrizations.<tensor_name>) is what is trained. A second call on the same
    name chains the new parametrization after the first. Returns module. Matches
    torch.nn.utils.parametrize.register_parametrization.

    Args:
        module (Module): the module that owns the tensor.
        tensor_name (str): a parameter or buffer of module (or an already parametrized name).
        parametrization (Module): forward(X) -> tensor; an optional right_inverse(X) gives the original(s)
            for a wanted value (a tensor, or a sequence of tensors stored as original0, original1, ...).
        unsafe (bool, default False): skip the check that the parametrization keeps shape and dtype.

    Raises:
        ValueError: module has no parameter or buffer tensor_name, or the parametrization changes its shape or
            dtype (unless unsafe=True).
    """
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be an nn.Module. Got "
                        f"{type(parametrization).__name__}.")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            before = plist()
            with no_grad():
                after = parametrization(before)
            if tuple(after.shape) != tuple(before.shape) or after.dtype != before.dtype:
                raise ValueError(f"register_parametrization: the parametrization may not change the shape or dtype "
                                 f"of the tensor (unless unsafe=True). Got shape={tuple(after.shape)}, "
                                 f"dtype={after.dtype}; before shape={tuple(before.shape)}, dtype={before.dtype}.")
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name in module._parameters:
        original = module._parameters[tensor_name]
    elif tensor_name in module._buffers:
        original = module._buffers[tensor_name]
    else:
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{tensor_name}'")
    if original is None:
        raise ValueError(f"register_parametrization: {tensor_name} is None; only tensors can be parametrized.")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _inject_class(module)
        module.parametrizations = ModuleDict()
    _inject_property(module, tensor_name)
    module.parametrizations[tensor_name] = plist
    return module


def is_parametrized(module, tensor_name=None):
    """Whether module has a parametrization (on tensor_name, when given). Matches torch's is_parametrized."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def type_before_parametrizations(module):
    """The module's class before register_parametrization swapped it."""
    return module.__class__._original_class if is_parametrized(module) else type(module)


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo register_parametrization on tensor_name: the attribute becomes a plain Parameter (or buffer) again,
    holding the current parametrized value (leave_parametrized=True) or the original (False, only possible
    when there is one original). Returns module. Matches torch.nn.utils.parametrize.remove_parametrizations.

    Raises:
        ValueError: module has no parametrization on tensor_name, or leave_parametrized=False with several
            originals.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            original._data = value._data.copy()  # the same Parameter object, as PyTorch's set_
    else:
        if not leave_parametrized:
            raise ValueError("remove_parametrizations: cannot leave unparametrized (leave_parametrized=False) a "
                             f"tensor that is parametrized by several tensors. Got tensor_name={tensor_name!r}, "
                             f"{plist.ntensors} originals.")
        with no_grad():
            value = getattr(module, tensor_name)
        first = plist.original0
        original = (Parameter(value._data.copy(), first.requires_grad) if isinstance(first, Parameter)
                    else Tensor._wrap(value._data.copy()))
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__._original_class
    return module
