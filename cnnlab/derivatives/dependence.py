"""Which gradients PyTorch computes from the op's inputs even where their derivative is zero (issue 18).

PyTorch's backward of relu, hardtanh, leaky_relu, threshold, the max/average pools and the reflection and
replication pads calls an op that takes the input itself (threshold_backward(grad, self), max_pool2d_with_indices_
backward(grad, self, ...)): under create_graph the gradient then requires grad, and differentiating it gives the
input zeros. cnnlab's formulas compute those gradients as maps linear in grad alone, so they are declared here and
the engine (autograd.graph.uses_inputs) adds the dependence. Ops whose PyTorch gradient does not require grad
(x * 2, constant and circular pads, interpolate, unfold, clamp, max over a dim, adaptive_avg_pool to one value,
max_unpool) are left out. Each entry was checked against torch: tests/test_double_dependence.py.
"""
from ..autograd.graph import uses_inputs


def _pool(ctx):
    """A pooling node (several ops record SqueezeBackward1: only the 1-d pools are declared). An adaptive average
    pool to one value runs as a mean in PyTorch, whose gradient does not use the input."""
    s = ctx.saved
    if "win" in s:
        return "taps" not in s  # lp pools end in a pow: their gradient depends on the input anyway
    if "divisor" in s and "out_size" in s:
        return any(o != 1 for o in s["out_size"])
    return "flat" in s and "spatial" in s  # adaptive max


# hardsigmoid and abs: PyTorch's gradient requires grad but differentiating it raises (no double backward of
# hardsigmoid_backward; a ZeroTensor from sgn); cnnlab gives the zeros instead
uses_inputs("ReluBackward", output=True)  # threshold_backward(grad, result, 0)
for _name in ("HardtanhBackward", "ThresholdBackward", "LeakyReluBackward", "HardsigmoidBackward",
              "PreluBackward", "AbsBackward0"):
    uses_inputs(_name)
for _n in (1, 2, 3):
    uses_inputs(f"ReflectionPad{_n}DBackward0")
    uses_inputs(f"ReplicationPad{_n}DBackward0")
for _n in (2, 3):
    for _kind in ("MaxPool{}DWithIndices", "MinPool{}DWithIndices", "AvgPool{}D", "AdaptiveAvgPool{}D",
                  "AdaptiveMaxPool{}D"):
        uses_inputs(_kind.format(_n) + "Backward0", _pool)
uses_inputs("SqueezeBackward1", _pool)
