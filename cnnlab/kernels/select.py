"""Which algorithm computes a convolution of a given shape, and why.

kernels/conv.py asks `algorithm(...)` before every forward and gradient; `explain` gives the rule and its
reason. The rules come from timing each algorithm against PyTorch (2 threads, float32) on the ResNet-18,
LeNet-5 and ConvNeXt layers of benchmarks/:

    'depthwise'  2-d, one input channel per group: banded matmuls (kernels/depthwise.py). The GEMM lowering of
                 a depthwise conv is a matrix-vector product per channel, 3-10x slower.
    'stack'      the input gradient of a strided convolution with a kernel larger than 1x1 on a large input (at
                 least STACK_MIN_POSITIONS positions per image: ResNet's stem and 56x56 stride-2 3x3): the
                 column-matrix matmul of kernels/shift.py, whose scatter back into the input is one contiguous add
                 per kernel offset into stride-phase planes (the GEMM lowering's strided scatter measured 1.5-2x
                 slower).
    'toeplitz'   2-d, groups 1, fewer than SHIFT_MIN_CHANNELS input channels per group and a banded weight matrix
                 (kernels/toeplitz.py) of at most TOEPLITZ_MAX_ENTRIES entries (LeNet-5's conv1 and conv2): one
                 matmul over whole input rows; LeNet conv2 forward/dx/dw 0.95/1.63/0.96 -> 0.57/0.83/0.56 ms
                 against 'gemm', conv1 forward and dw 5-10% faster.
    'gemm'       fewer than SHIFT_MIN_CHANNELS input channels per group (LeNet, a 7x7 stem on RGB): the column
                 matrix (kernels/conv.py) gives one matmul with a deep inner dimension (C * kh * kw), where one
                 matmul per kernel offset would have an inner dimension of C only.
    'nhwc'       otherwise, groups == 1 and a small output (at most NHWC_MAX_POSITIONS positions per image: ResNet's 14x14,
                 7x7 and CIFAR's 16x16, 8x8, 4x4 layers, stride 1 or 2, 1x1 or 3x3), and the input gradient of
                 the strided ones: the channels-last column matrix of a chunk of images, one matmul per chunk,
                 the chunks on the threads (kernels/nhwc.py). One image per matmul (shift) or cache-sized blocks
                 (gemm) measured 1.2-2x slower there (CIFAR ResNet-18, batch 32). Not below NHWC_MIN_ROWS output
                 positions in the batch (batch 1 at 7x7 or 14x14: 'gemm' won 1.5x; batch 8 at 7x7: 1.1x).
    'stack'      a strided 1x1 kernel on at least as many images as threads (ResNet's 56x56 downsample: forward
                 and input gradient 1.2x faster than 'shift'): the strided input copied as one contiguous
                 stride-phase plane, then one matmul.
    'shift'      a 1x1 kernel otherwise, or stride 1 on a large feature map (at least SHIFT_MIN_POSITIONS grid
                 positions per image, at most SHIFT_MAX_WASTE of them wasted) where Winograd does not apply: one
                 matmul per kernel offset added in place, no column matrix (kernels/shift.py); 1.2-1.4x faster
                 than 'gemm' or 'nhwc' on large maps (batch 8 at 28x28x64), except for the weight gradient,
                 where 'gemm' is 1.1x faster.
    'gemm'       everything else: grouped convolutions on small feature maps and strided kernels larger than 1x1
                 on large ones.
    'winograd4'  3x3, stride 1, groups 1 (kernels/winograd.py, F(4x4, 3x3): 4x fewer multiply-adds than direct
                 convolution, transformed tensors 2.25x the activation), in blocks of ~256 tiles per thread:
                 the forward and input gradient of at least WINOGRAD_MIN_CHANNELS channels on maps from 7x7
                 (WINOGRAD4_POSITIONS) with at least WINOGRAD4_MIN_ROWS positions in the batch, and of 64..127
                 channels from WINOGRAD4_MIN_ROWS_FEW_CHANNELS positions (batch 32, interleaved medians against
                 the algorithm before: 28x28x128 34.8 -> 22.5 ms, 16x16x128 16.1 -> 9.8 ms, 32x32x64 14.6 ->
                 12.5 ms, 56x56x64 input gradient 37.4 -> 29.5 ms, 7x7x512 27.3 -> 19.6 ms); and the weight
                 gradient of at most WINOGRAD4_MAX_WEIGHT_CHANNELS channels from 8x8 maps (56x56x64 53.5 -> 29.4 ms,
                 32x32x64 20.0 -> 12.1 ms against 'shift'), whose per-point sums stay small. Its float32 results
                 are ~5x further from float64 than direct convolution's (a few 1e-6 of the largest value: the
                 usual price of F(4x4, 3x3), also in cuDNN and NNPACK; tested in tests/test_kernels_conv.py).
                 So not for a `precise` forward (one that a gradient will flow back through: training): there
                 the larger rounding flips more ReLU masks downstream, each flip a whole gradient entry, and the
                 CIFAR ResNet-18's first-layer weight gradient moved 6x further from float64 than PyTorch's
                 (median over 6 batches: 6.3e-3 against 8.8e-4; F(2x2) 1.6e-3, no Winograd 1.3e-3). Rounding in
                 the gradients themselves does not compound that way: input and weight gradients use F(4x4).
    'winograd'   F(2x2, 3x3) (2.25x fewer multiply-adds, transforms 4x the activation) where F(4x4) has too few
                 tiles to pay for its larger kernel transform: at least WINOGRAD_MIN_CHANNELS channels, from
                 4x4 maps and WINOGRAD_MIN_ROWS positions in the batch (CIFAR's 4x4x512 forward 12.7 -> 11.5 ms,
                 input gradient 13.2 -> 9.9 ms); the weight gradient of 129..256 channels on 8x8 to 28x28 maps (on 4x4
                 and 7x7 the sums over few tiles of 16 (O, C) products lose to 'nhwc').
    Neither on one image (its blocks are images: one thread would do all the work). CNNLAB_WINOGRAD4=0 in the
    environment turns F(4x4) off everywhere (F(2x2) and the others take its shapes).
    'fft'        stride 1, groups 1, a large kernel (at least FFT_MIN_TAPS taps) on at most FFT_MAX_CHANNELS
                 channels in and out (kernels/fft.py: products of spectra, a cost that does not grow with the
                 kernel): 1-d k=255 on 16 channels 72.8 -> 27.6 ms, 2-d 31x31 on 8 channels 78.6 -> 25.8 ms, a
                 21x21 input gradient on RGB 486 -> 110 ms. With 64 channels at 7x7 its O x C kernel spectra make
                 it 5x slower than 'shift'.

Every rule was measured with BLAS held at one thread and the kernels threading their own work
(kernels/parallel.py), in the model (ResNet-18's CIFAR training step and 224x224 inference) as well as alone.

`forced(name)` makes every call use one algorithm (tests use it to check each against the others); a forced
algorithm that does not support a shape falls back to 'gemm'.

>>> algorithm("forward", (32, 64, 56, 56), (64, 64, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
'winograd4'
>>> explain("forward", (8, 3, 224, 224), (64, 3, 7, 7), (2, 2), ((3, 3), (3, 3)), (1, 1), 1)[0]
'gemm'
"""
import contextlib
import os

import numpy as np

from . import depthwise, fft, nhwc, parallel, shift, toeplitz, winograd
from ._shape import prod as _prod

ALGORITHMS = ("gemm", "shift", "stack", "nhwc", "winograd", "winograd4", "fft", "depthwise", "toeplitz")
SHIFT_MIN_CHANNELS = 16      # input channels per group below which the column matrix (gemm) wins
SHIFT_MIN_POSITIONS = 256    # grid positions per image below which gemm's multi-image matmuls win
SHIFT_MAX_WASTE = 1.3        # grid positions computed per output kept (the flat grid's wrap columns)
NHWC_MAX_POSITIONS = 256     # output positions per image up to which 'nhwc' (one matmul per chunk) wins
STACK_MIN_POSITIONS = 512    # input positions per image from which 'stack' beats 'nhwc' for a strided dx
NHWC_MIN_ROWS = 512          # rows of the batch's column matrix (N * output positions) from which 'nhwc' pays
WINOGRAD_MIN_CHANNELS = 128  # input channels from which Winograd's matmuls outweigh its transforms
WINOGRAD_MIN_ROWS = 512      # N * output positions from which F(2x2) pays (CIFAR's 4x4x512 at batch 32; batch 8 at
                             # 7x7x512, 392 rows: 'gemm' 10.1 ms against 11.6)
WINOGRAD_MAX_POSITIONS = 784  # output positions per image up to which F(2x2) is used (28x28)
WINOGRAD4_POSITIONS = 49     # output positions per image from which F(4x4) is used (7x7)
WINOGRAD4_MIN_ROWS = 1536    # N * output positions from which F(4x4) beats F(2x2) (batch 8 at 14x14x256: a tie)
WINOGRAD4_MIN_CHANNELS = 64  # with 64..127 channels F(4x4) pays on large batches of positions only:
WINOGRAD4_MIN_ROWS_FEW_CHANNELS = 16384  # batch 32 at 32x32x64 forward 14.6 -> 12.5 ms; batch 8 at 28x28x64
                             # (6,272 rows) 'shift' stays 1.2x faster
WINOGRAD4_MAX_WEIGHT_CHANNELS = 128  # channels up to which F(4x4) computes weight gradients (F(2x2) above, up to
WINOGRAD_MAX_WEIGHT_CHANNELS = 256   # this many: at 512 the sums over few tiles of (O, C) products lose to 'nhwc')
WINOGRAD_WEIGHT_POSITIONS = 64  # output positions per image from which Winograd computes weight gradients

FFT_MIN_TAPS = 150           # kernel taps from which 'fft' beats the lowerings (15x15 on 16 channels, batch 4:
FFT_MAX_CHANNELS = 32        # 62 against 91 ms forward; 11x11 on 32 channels: 64 against 56), on at most this many
                             # channels: its kernel spectra (O x C of them) cost more than they save beyond
TOEPLITZ_MAX_ENTRIES = 2**17  # entries of the banded weight matrix (O*OW x C*KH*Wp) up to which 'toeplitz' wins

_forced = None


def explain(op, x_shape, w_shape, stride, padding, dilation, groups, precise=False):
    """(name, reason): the algorithm for this convolution and why.

    Args:
        op: 'forward', 'backward_input' or 'backward_weight'.
        x_shape (N, C, *S), w_shape (O, C/groups, *K), stride, dilation: tuples; padding: (before, after) pairs.
        precise: the result is an activation that a gradient will flow back through (training): not F(4x4).
    """
    if _forced is not None:
        supported = _forced == "gemm" or _SUPPORTS[_forced](x_shape, w_shape, stride, padding, dilation, groups)
        return (_forced, "forced") if supported else ("gemm", f"forced {_forced!r} does not support this shape")
    if depthwise.supports(x_shape, w_shape, stride, padding, dilation, groups):
        return "depthwise", "a 2-d depthwise convolution: banded matmuls, one per channel"
    if _prod(w_shape[2:]) >= FFT_MIN_TAPS and max(x_shape[1], w_shape[0]) <= FFT_MAX_CHANNELS and \
            fft.supports(x_shape, w_shape, stride, padding, dilation, groups):
        return "fft", f"a large kernel ({_prod(w_shape[2:])} taps) on few channels: products of spectra"
    wide = x_shape[1] // groups >= SHIFT_MIN_CHANNELS
    pad_shape = [s + b + a for s, (b, a) in zip(x_shape[2:], padding)]
    out = [(p - d * (k - 1) - 1) // st + 1 for p, k, d, st in zip(pad_shape, w_shape[2:], dilation, stride)]
    rows = x_shape[0] * _prod(out)
    if not wide and len(x_shape) == 4 and groups == 1 and \
            toeplitz.matrix_entries(x_shape, w_shape, padding, out) <= TOEPLITZ_MAX_ENTRIES:
        return "toeplitz", "few input channels on a narrow 2-d map: one matmul with a banded weight matrix over " \
                           "the width, whose input rows are copied whole"
    if op == "backward_input" and any(s > 1 for s in stride) and any(k > 1 for k in w_shape[2:]):
        if groups == 1 and wide and _prod(x_shape[2:]) < STACK_MIN_POSITIONS and rows >= NHWC_MIN_ROWS:
            return "nhwc", "the input gradient of a strided convolution on a small input: one matmul per chunk " \
                           "of images, added back into a channels-last copy"
        return "stack", "the input gradient of a strided convolution: contiguous adds into stride-phase planes"
    if not wide:
        return "gemm", f"fewer than {SHIFT_MIN_CHANNELS} input channels per group: the column matrix makes one " \
                       "matmul with a deep inner dimension"
    tile = _winograd_tile(op, x_shape, w_shape, stride, padding, dilation, groups, _prod(out), rows, precise)
    if tile:
        return ("winograd4", "3x3 stride 1 with enough tiles: F(4x4, 3x3), 4x fewer multiply-adds") if tile == 4 else \
            ("winograd", "3x3 stride 1 on a small or medium map with many channels: F(2x2, 3x3), 2.25x fewer "
                         "multiply-adds")
    if groups == 1 and _prod(out) <= NHWC_MAX_POSITIONS and rows >= NHWC_MIN_ROWS:
        return "nhwc", f"a small output (at most {NHWC_MAX_POSITIONS} positions per image): the channels-last " \
                       "column matrix of a chunk of images, one matmul per chunk"
    if all(k == 1 for k in w_shape[2:]):
        if any(s > 1 for s in stride) and x_shape[0] >= parallel.num_threads():
            return "stack", "a strided 1x1 kernel: one contiguous stride-phase plane is the matmul's operand"
        return "shift", "a 1x1 kernel: the input is the matmul's operand as it is"
    if all(s == 1 for s in stride):
        grid = out[0] * _prod(pad_shape[1:])
        if grid >= SHIFT_MIN_POSITIONS and grid <= SHIFT_MAX_WASTE * _prod(out):
            if op == "backward_weight":
                return "gemm", "the weight gradient on a large feature map: one deep matmul per block of the " \
                               "column matrix (its per-offset matmuls, with an inner dimension of C, run slower)"
            return "shift", "stride 1 on a large feature map: one matmul per kernel offset, added in place " \
                            "(no column matrix)"
    return "gemm", "a small feature map or a strided kernel: one matmul per block of the column matrix"


def _winograd_tile(op, x_shape, w_shape, stride, padding, dilation, groups, positions, rows, precise):
    """4 for F(4x4, 3x3), 2 for F(2x2, 3x3), 0 for neither (the rules in the module docstring)."""
    if x_shape[0] < 2 or not winograd.supports(x_shape, w_shape, stride, padding, dilation, groups):
        return 0
    allow4 = os.environ.get("CNNLAB_WINOGRAD4") != "0"   # the user's switch (README): no F(4x4) anywhere
    channels = x_shape[1]
    if op == "backward_weight":  # any map size: the transforms' traffic is small beside its (O, C) products
        if allow4 and channels <= WINOGRAD4_MAX_WEIGHT_CHANNELS and positions >= WINOGRAD_WEIGHT_POSITIONS and \
                rows >= WINOGRAD4_MIN_ROWS:
            return 4
        return 2 if WINOGRAD_MIN_CHANNELS < channels <= WINOGRAD_MAX_WEIGHT_CHANNELS and \
            WINOGRAD_WEIGHT_POSITIONS <= positions <= WINOGRAD_MAX_POSITIONS and rows >= WINOGRAD_MIN_ROWS else 0
    many_tiles = channels >= WINOGRAD_MIN_CHANNELS and positions >= WINOGRAD4_POSITIONS and \
        rows >= WINOGRAD4_MIN_ROWS
    if allow4 and not precise and (many_tiles or
                                   channels >= WINOGRAD4_MIN_CHANNELS and rows >= WINOGRAD4_MIN_ROWS_FEW_CHANNELS):
        return 4
    return 2 if channels >= WINOGRAD_MIN_CHANNELS and 16 <= positions <= WINOGRAD_MAX_POSITIONS and \
        rows >= WINOGRAD_MIN_ROWS else 0


def algorithm(op, x_shape, w_shape, stride, padding, dilation, groups, precise=False):
    """The name of the algorithm (one of ALGORITHMS) that computes this convolution."""
    return explain(op, x_shape, w_shape, stride, padding, dilation, groups, precise)[0]


@contextlib.contextmanager
def forced(name):
    """Within the block, every convolution uses algorithm `name` where it supports the shape ('gemm' elsewhere)."""
    global _forced
    if name not in ALGORITHMS:
        raise ValueError(f"forced: name must be one of {ALGORITHMS}. Got name={name!r}.")
    old, _forced = _forced, name
    try:
        yield
    finally:
        _forced = old


_SUPPORTS = {"toeplitz": toeplitz.supports, "nhwc": nhwc.supports, "winograd": winograd.supports,
             "winograd4": winograd.supports, "fft": fft.supports, "depthwise": depthwise.supports,
             "shift": shift.supports,
             "stack": shift.supports}
