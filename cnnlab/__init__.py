"""cnnlab: a convolutional-neural-network engine on NumPy with PyTorch's names and semantics.

>>> import cnnlab as torch
>>> x = torch.randn(4, 3, requires_grad=True)
>>> (x * 2).sum().backward()
>>> x.grad.shape
cnnlab.Size([4, 3])
"""
import importlib as _importlib
import types as _types

from .kernels import allocator as _allocator
from . import _methods  # noqa: F401  (binds operators and methods to Tensor)
from ._dtypes import (bfloat16, bool, double, dtype, finfo, float, float16, float32, float64, get_default_dtype, half,
                      iinfo, int, int8, int16, int32, int64, long, promote_types, set_default_dtype, short, uint8)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor,
                       IntTensor, LongTensor, ShortTensor, arange, as_tensor, bernoulli, device, empty, empty_like, eye,
                       from_numpy, full, full_like, linspace, normal, ones, ones_like, rand, rand_like, randint,
                       randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .errors import DTypeError, GradError, ShapeError
from .ops.elementwise import (abs, add, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil,
                              cos, div, dot, eq, exp, expm1, floor, ge, gt, isfinite, isinf, isnan, le, log,
                              log1p, log2, log10, logical_and, logical_not, logical_or, logical_xor, lt, matmul,
                              maximum, minimum, mul, ne, neg, outer, pow, reciprocal, remainder, round, rsqrt,
                              sign, sin, sqrt, square, sub, trunc, where)
from .ops.clamp import clamp
from .ops.indexing import gather, index_select, masked_fill, nonzero, scatter
from .ops.logic import equal, isclose
from .ops.einsum import einsum
from .ops.accumulate import index_add, scatter_add
from .ops.arrange import (atleast_1d, atleast_2d, broadcast_tensors, broadcast_to, column_stack, hstack, movedim,
                          repeat_interleave, tile, unflatten, vstack)
from .ops.counting import bincount, count_nonzero
from .ops.cumulative import cumsum, diff
from .ops.fused import addcdiv, addcmul, addmm, lerp, mv
from .ops.nan_aware import nan_to_num, nanmean, nansum
from .ops.norm import cdist, norm
from .ops.sampling import multinomial
from .ops.selection import masked_select, narrow, select, take
from .ops.matrix import diag, diagonal, rot90, trace, tril, triu
from .ops.strided import as_strided
from .ops.inplace import clone
from .ops.reduction import (all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, prod, std, std_mean, sum,
                            var, var_mean)
from .ops.shape import (cat, chunk, expand, flatten, flip, meshgrid, permute, repeat, reshape, roll, split, squeeze,
                        stack, t, transpose, unbind, unsqueeze)
from .ops.sorting import argsort, kthvalue, median, nanmedian, sort, topk, unique
from .ops.special import erf, erfc
from .ops.trig import acos, asin, atan, atan2, cosh, sinh, tan
from .ops.arithmetic import fmod, frac, hypot, logaddexp
from .ops.more_math import (acosh, asinh, atanh, bitwise_left_shift, bitwise_right_shift, copysign, cummax, cummin,
                            cumprod, exp2, logcumsumexp, scatter_reduce)
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Size, Tensor, is_tensor, numel

from ._format import get_printoptions, set_printoptions
from ._switches import (are_deterministic_algorithms_enabled, autocast, channels_last, channels_last_3d, compile,
                        contiguous_format, get_num_threads, is_deterministic_algorithms_warn_only_enabled,
                        memory_format, preserve_format, set_num_threads, use_deterministic_algorithms)
clip = clamp
mm = bmm = matmul
concat = concatenate = cat
divide, multiply, subtract, negative, true_divide = div, mul, sub, neg, div
swapaxes = swapdims = transpose
moveaxis = movedim
arcsin, arccos, arctan, arctan2, absolute, sgn, fix = asin, acos, atan, atan2, abs, sign, trunc
arcsinh, arccosh, arctanh = asinh, acosh, atanh
is_floating_point = Tensor.is_floating_point
__version__ = "0.1.0"

# The accelerator switches of tutorial code: cnnlab runs on the CPU, so there is no GPU to find or tune.
cuda = _types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0, synchronize=lambda device=None: None,
                              empty_cache=lambda: None, manual_seed=lambda seed: None,
                              manual_seed_all=lambda seed: None)
accelerator = _types.SimpleNamespace(is_available=lambda: False, current_accelerator=lambda check_available=False: None,
                                     device_count=lambda: 0, synchronize=lambda device=None: None)
backends = _types.SimpleNamespace(cudnn=_types.SimpleNamespace(benchmark=False, deterministic=False, enabled=True),
                                  mps=_types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False))

# The subpackages, reachable as attributes after `import cnnlab` as torch.nn/torch.optim/torch.utils are after
# `import torch`; imported after the core, which they build on. models and train load on first use (lazily).
from . import nn  # noqa: E402
from .nn import functional as _functional  # noqa: E402  (torch.relu, torch.softmax, ... below)
from . import data, io, optim, utils  # noqa: E402
from . import linalg, testing  # noqa: E402
from .linalg import det, inv as inverse  # noqa: E402
from .io import load, save  # noqa: E402
from ._compat import amp, jit  # noqa: E402  (torch.amp and torch.jit for tutorial code)
from ._compat import cuda_amp as _cuda_amp  # noqa: E402
from .nn.functional.distance import cosine_similarity, pairwise_distance, pdist  # noqa: E402
from .inspect import summary  # noqa: E402  (cnnlab.summary: the layer table of cnnlab.inspect)
cuda.amp = _cuda_amp
from . import derivatives  # noqa: E402,F401  (the create_graph formulas: imported last, they use the ops)
from .autograd import functional as _autograd_functional  # noqa: E402,F401  (cnnlab.autograd.functional)

_LAZY_SUBMODULES = ("models", "train")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


def relu(input):
    return _functional.relu(input)


def sigmoid(input):
    return _functional.sigmoid(input)


def tanh(input):
    return _functional.tanh(input)


def softmax(input, dim, dtype=None):
    return _functional.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    return _functional.log_softmax(input, dim, dtype=dtype)


# `from cnnlab import *` gives the functions, classes and dtypes, as torch's __all__ does, but no submodules:
# `io`, `data`, `random` would otherwise replace the standard library's modules of those names.
__all__ = sorted(n for n, v in globals().items() if not n.startswith("_") and not isinstance(v, _types.ModuleType))

_allocator.configure()  # glibc keeps freed activations mapped (kernels/allocator.py; CNNLAB_MALLOC=system opts out)
