"""Issue 19, item 3: where PyTorch raises RuntimeError, cnnlab's error is catchable as RuntimeError too (and
keeps the built-in type cnnlab code already catches), with a message in the house style."""
import pytest

import cnnlab
import cnnlab.nn.functional as cnF

torch = pytest.importorskip("torch")
F = torch.nn.functional

CN = {"torch": cnnlab, "F": cnF, "nn": cnnlab.nn}
PT = {"torch": torch, "F": F, "nn": torch.nn}

# name: (fn(lib), the builtin type cnnlab keeps, a regex for cnnlab's message)
CASES = {
    "permute repeated dim": (lambda L: L["torch"].ones(2, 3).permute(0, 0), ValueError,
                             r"permute: dims must be a permutation of the 2 dims\. Got dims=\(0, 0\)"),
    "flip repeated dims": (lambda L: L["torch"].flip(L["torch"].ones(2, 3), (1, 1)), ValueError,
                           r"flip: dims must not repeat a dim\. Got dims=\(1, 1\), shape=\(2, 3\)"),
    "flip repeated negative dim": (lambda L: L["torch"].ones(2, 3).flip((0, -2)), ValueError, r"flip: dims must"),
    "roll shifts and dims differ": (lambda L: L["torch"].ones(4, 4).roll((1, 2), (0,)), ValueError,
                                    r"roll: shifts and dims must have the same length"),
    "roll several shifts without dims": (lambda L: L["torch"].ones(4).roll((1, 2)), ValueError, r"roll: without dims"),
    "meshgrid indexing": (lambda L: L["torch"].meshgrid(L["torch"].ones(2), L["torch"].ones(3), indexing="bad"),
                          ValueError, r"meshgrid: indexing must be 'ij' or 'xy'\. Got indexing='bad'"),
    "div rounding_mode": (lambda L: L["torch"].div(L["torch"].ones(2), 2, rounding_mode="typo"), ValueError,
                          r"div: rounding_mode must be None, 'trunc' or 'floor'\. Got rounding_mode='typo'"),
    "int ** negative int": (lambda L: L["torch"].tensor([2, 3]) ** -1, ValueError,
                            r"pow: integers cannot be raised to negative integer powers"),
    "einsum second ellipsis": (lambda L: L["torch"].einsum("....i->i", L["torch"].ones(2, 3)), ValueError, r"einsum: "),
    "einsum broken ellipsis": (lambda L: L["torch"].einsum("i..j->i", L["torch"].ones(2, 3)), ValueError, r"einsum: "),
    "einsum too few operands": (lambda L: L["torch"].einsum("ij,jk", L["torch"].ones(2, 2)), ValueError, r"einsum: "),
    "einsum unknown output": (lambda L: L["torch"].einsum("i->j", L["torch"].ones(2)), ValueError, r"einsum: "),
    "clamp no bounds": (lambda L: L["torch"].clamp(L["torch"].ones(2)), ValueError,
                        r"clamp: at least one of min and max must be given\. Got min=None, max=None"),
    "clamp method None None": (lambda L: L["torch"].ones(2).clamp(None, None), ValueError, r"clamp: at least one"),
    "clamp_ None None": (lambda L: L["torch"].ones(2).clamp_(), ValueError, r"clamp_: at least one"),
    "max_pool2d padding of 3": (lambda L: L["F"].max_pool2d(L["torch"].ones(1, 1, 4, 4), 2, padding=(1, 1, 1)),
                                TypeError, r"max_pool2d: padding must be an int or a tuple of 2 ints\. "
                                           r"Got padding=\(1, 1, 1\)"),
    "avg_pool2d padding of 3": (lambda L: L["F"].avg_pool2d(L["torch"].ones(1, 1, 4, 4), 2, padding=(1, 1, 1)),
                                TypeError, r"avg_pool2d: padding must be"),
    "conv2d padding of 3": (lambda L: L["F"].conv2d(L["torch"].ones(1, 1, 4, 4), L["torch"].ones(1, 1, 2, 2),
                                                    padding=(1, 1, 1)), TypeError, r"conv2d: padding must be"),
    "conv1d padding of 2": (lambda L: L["F"].conv1d(L["torch"].ones(1, 1, 4), L["torch"].ones(1, 1, 2),
                                                    padding=(1, 1)), TypeError, r"conv1d: padding must be"),
    "conv2d stride of 3": (lambda L: L["F"].conv2d(L["torch"].ones(1, 1, 4, 4), L["torch"].ones(1, 1, 2, 2),
                                                   stride=(1, 1, 1)), TypeError, r"conv2d: stride must be"),
    "Conv2d padding of 3": (lambda L: L["nn"].Conv2d(1, 1, 2, padding=(1, 1, 1))(L["torch"].ones(1, 1, 4, 4)),
                            TypeError, r"Conv2d: padding must be"),
    "MaxPool2d padding of 3": (lambda L: L["nn"].MaxPool2d(2, padding=(1, 1, 1))(L["torch"].ones(1, 1, 4, 4)),
                               TypeError, r"max_pool2d: padding must be"),
    "where float condition": (lambda L: L["torch"].where(L["torch"].ones(2), L["torch"].ones(2), L["torch"].ones(2)),
                              TypeError, r"where: condition must be a bool tensor"),
    "masked_select float mask": (lambda L: L["torch"].ones(2).masked_select(L["torch"].ones(2)), TypeError,
                                 r"masked_select: mask must be a bool tensor"),
    "masked_fill_ float mask": (lambda L: L["torch"].ones(2).masked_fill_(L["torch"].ones(2), 1.0), TypeError,
                                r"masked_fill_: mask must be a bool tensor"),
    "take float index": (lambda L: L["torch"].ones(2).take(L["torch"].ones(1)), TypeError, r"take: index must"),
    "gather float index": (lambda L: L["torch"].ones(2).gather(0, L["torch"].ones(1)), TypeError,
                           r"gather: index must be an integer tensor"),
    "bincount 2-d": (lambda L: L["torch"].bincount(L["torch"].ones(2, 2, dtype=L["torch"].int64)), TypeError,
                     r"bincount: expects a 1-D integer tensor"),
    "bincount negative": (lambda L: L["torch"].bincount(L["torch"].tensor([-1, 2])), ValueError,
                          r"bincount: values must be non-negative"),
    "movedim lengths differ": (lambda L: L["torch"].ones(2, 3).movedim((0, 1), (0,)), ValueError, r"movedim: "),
    "flatten start after end": (lambda L: L["torch"].ones(2, 3).flatten(1, 0), ValueError, r"flatten: start_dim"),
    "t of 3-d": (lambda L: L["torch"].ones(2, 3, 4).t(), ValueError, r"t: expects a tensor with at most 2 dims"),
    "expand too few sizes": (lambda L: L["torch"].ones(2, 3).expand(3), ValueError, r"expand: the number of sizes"),
    "repeat too few": (lambda L: L["torch"].ones(2, 3).repeat(3), ValueError, r"repeat: the number of repeats"),
    "split 0": (lambda L: L["torch"].ones(4).split(0), ValueError, r"split: split_size must be positive"),
    "split sections": (lambda L: L["torch"].ones(4).split([1, 2]), ValueError, r"split: the sections must"),
    "chunk 0": (lambda L: L["torch"].ones(4).chunk(0), ValueError, r"chunk: chunks must be positive"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_is_torchs_class_and_ours(name):
    fn, builtin, message = CASES[name]
    with pytest.raises(RuntimeError):
        fn(PT)
    with pytest.raises(RuntimeError, match=message) as info:
        fn(CN)
    assert isinstance(info.value, builtin), f"{type(info.value).__name__} is not a {builtin.__name__}"


def test_numpy_repeated_axis_message_does_not_leak():
    with pytest.raises(RuntimeError) as info:
        cnnlab.ones(2, 3).flip((1, -1))
    assert "repeated axis" not in str(info.value)


def test_int_tensor_to_negative_int_tensor_power_is_computed_like_torch():
    a, b = [0, 1, -1, -1, 2, -2, 3, 5], [-1, -3, -3, -2, -1, -1, 2, 0]
    want = torch.pow(torch.tensor(a), torch.tensor(b))
    got = cnnlab.pow(cnnlab.tensor(a), cnnlab.tensor(b))
    assert got.dtype == cnnlab.int64 and got.tolist() == want.tolist()
    assert (cnnlab.tensor([2, 1]) ** cnnlab.tensor(-1)).tolist() == (torch.tensor([2, 1]) ** torch.tensor(-1)).tolist()
