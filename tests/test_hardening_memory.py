"""Memory bombs: an op whose result would not fit in this machine's memory raises cnnlab.errors.OutOfMemoryError
(a MemoryError and a RuntimeError, like torch.OutOfMemoryError) naming the op, the shape and the bytes, before
allocating anything: not NumPy's MemoryError, "Maximum allowed size exceeded", an OverflowError, or the OOM
killer."""
import re

import numpy as np
import pytest

import cnnlab
import cnnlab._memory as memory
import cnnlab.nn as nn
import cnnlab.nn.functional as F
from cnnlab.errors import OutOfMemoryError

BIG = 10 ** 6  # BIG x BIG float32 is 4 TB: more than any machine this runs on

BOMBS = {
    "zeros": lambda: cnnlab.zeros(BIG, BIG, 2),
    "ones": lambda: cnnlab.ones(BIG * BIG),
    "empty": lambda: cnnlab.empty(BIG, BIG),
    "full": lambda: cnnlab.full((BIG, BIG), 1.5),
    "rand": lambda: cnnlab.rand(BIG, BIG),
    "randn": lambda: cnnlab.randn(BIG, BIG),
    "randint": lambda: cnnlab.randint(0, 9, (BIG, BIG)),
    "randperm": lambda: cnnlab.randperm(BIG * BIG),
    "normal": lambda: cnnlab.normal(0.0, 1.0, size=(BIG, BIG)),
    "arange": lambda: cnnlab.arange(BIG * BIG),
    "linspace": lambda: cnnlab.linspace(0, 1, BIG * BIG),
    "eye": lambda: cnnlab.eye(BIG),
    "Tensor": lambda: cnnlab.Tensor(BIG, BIG),
    "FloatTensor": lambda: cnnlab.FloatTensor(BIG, BIG),
    "add": lambda: cnnlab.zeros(BIG, 1) + cnnlab.zeros(1, BIG),
    "lt": lambda: cnnlab.zeros(BIG, 1) < cnnlab.zeros(BIG),
    "mul": lambda: cnnlab.outer(cnnlab.zeros(BIG), cnnlab.zeros(BIG)),
    "matmul": lambda: cnnlab.zeros(BIG, 3) @ cnnlab.zeros(3, BIG),
    "matmul with K = 0": lambda: cnnlab.zeros(BIG, 0) @ cnnlab.zeros(0, BIG),
    "repeat": lambda: cnnlab.zeros(10).repeat(BIG, BIG),
    "repeat_interleave": lambda: cnnlab.zeros(10).repeat_interleave(BIG * BIG),
    "clone": lambda: cnnlab.zeros(1).expand(BIG, BIG).clone(),
    "contiguous": lambda: cnnlab.zeros(1, 1).expand(BIG, BIG).t().contiguous(),
    "diag": lambda: cnnlab.zeros(BIG).diag(),
    "one_hot": lambda: F.one_hot(cnnlab.tensor([1] * 1000), BIG * BIG),
    "conv2d": lambda: F.conv2d(cnnlab.zeros(1, 1, 4, 4), cnnlab.zeros(10 ** 9, 1, 1, 1), padding=1000),
    "conv_transpose2d": lambda: F.conv_transpose2d(cnnlab.zeros(1, 1, 4, 4), cnnlab.zeros(1, 1, 1, 1), stride=BIG),
    "unfold": lambda: F.unfold(cnnlab.zeros(1, 1, 4, 4), 1, padding=10 ** 5),
    "pad": lambda: F.pad(cnnlab.zeros(1, 1, 4, 4), (BIG, BIG, BIG, BIG)),
    "interpolate": lambda: F.interpolate(cnnlab.zeros(1, 1, 4, 4), scale_factor=1e300),
    "interpolate (area)": lambda: F.interpolate(cnnlab.zeros(1, 1, 4, 4), size=(BIG, BIG), mode="area"),
    "interpolate (Upsample)": lambda: nn.Upsample(size=(BIG, BIG))(cnnlab.zeros(1, 1, 4, 4)),
    "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(cnnlab.zeros(1, 1, 4, 4), BIG),
    "adaptive_max_pool2d": lambda: F.adaptive_max_pool2d(cnnlab.zeros(1, 1, 4, 4), BIG),
    "max_unpool2d": lambda: F.max_unpool2d(cnnlab.zeros(1, 1, 4, 4), cnnlab.zeros(1, 1, 4, 4, dtype=cnnlab.int64), BIG),
    "affine_grid": lambda: F.affine_grid(cnnlab.zeros(1, 2, 3), (1, 1, BIG, BIG), align_corners=False),
    "zeros (new_zeros)": lambda: cnnlab.zeros(1).new_zeros(BIG, BIG),
    # an expanded tensor holds one element; a result computed from it holds all of them
    "mul (expanded)": lambda: cnnlab.zeros(1).expand(BIG, BIG) * 2,
    "sub (expanded, reflected)": lambda: 2 - cnnlab.zeros(1).expand(BIG, BIG),
    "add (both expanded)": lambda: cnnlab.zeros(1).expand(BIG, BIG) + cnnlab.zeros(1).expand(BIG, BIG),
    "exp (expanded)": lambda: cnnlab.zeros(1).expand(BIG, BIG).exp(),
    "where": lambda: cnnlab.where(cnnlab.zeros(BIG, 1) > 0, cnnlab.zeros(1, BIG), 0.0),
    "cat": lambda: cnnlab.cat([cnnlab.zeros(1).expand(BIG * BIG)] * 2),
    "stack": lambda: cnnlab.stack([cnnlab.zeros(1).expand(BIG * BIG)] * 2),
}


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_memory_bomb_raises_out_of_memory_naming_op_shape_and_bytes(case):
    op = case.split(" ")[0]
    with pytest.raises(OutOfMemoryError) as info:
        BOMBS[case]()
    assert isinstance(info.value, MemoryError) and isinstance(info.value, RuntimeError)
    pattern = (rf"{re.escape(op)}: the result would need [0-9.e+]+ [KMGTP]?B \(shape \([0-9, ]+\), [a-z0-9]+\), more "
               rf"than this machine's [0-9.]+ [KMGTP]?B\.")
    assert re.fullmatch(pattern, str(info.value)), str(info.value)


def test_message_example():
    with pytest.raises(RuntimeError, match=r"^zeros: the result would need 8\.0 TB \(shape \(1000000, 1000000, 2\), "
                                           r"float32\), more than this machine's [0-9.]+ GB\.$"):
        cnnlab.zeros(1000000, 1000000, 2)


def test_torch_raises_a_runtime_error_for_the_same_request():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.zeros(BIG, BIG, 2)


def test_the_check_runs_before_allocating(monkeypatch):
    """With the machine's memory set to 1 MB, a 4 MB result is refused though NumPy could allocate it, and the
    limit is the only thing that decides: 256 KB passes."""
    monkeypatch.setattr(memory, "_LIMIT", 1_000_000)
    monkeypatch.setattr(memory, "machine_memory", lambda: 1_000_000)
    with pytest.raises(OutOfMemoryError, match=r"^zeros: the result would need 4\.2 MB \(shape \(1024, 1024\), "
                                               r"float32\), more than this machine's 1\.0 MB\.$"):
        cnnlab.zeros(1024, 1024)
    with pytest.raises(OutOfMemoryError, match=r"^interpolate: "):
        F.interpolate(cnnlab.zeros(1, 1, 64, 64), scale_factor=16)
    with pytest.raises(OutOfMemoryError, match=r"^conv2d: "):
        F.conv2d(cnnlab.zeros(1, 1, 64, 64), cnnlab.zeros(64, 1, 3, 3), padding=1)
    assert cnnlab.zeros(256, 256).shape == (256, 256)
    assert F.conv2d(cnnlab.zeros(1, 1, 8, 8), cnnlab.zeros(2, 1, 3, 3)).shape == (1, 2, 6, 6)


def test_format_bytes():
    assert memory.format_bytes(0) == "0.0 B"
    assert memory.format_bytes(999) == "999.0 B"
    assert memory.format_bytes(25_300_000_000) == "25.3 GB"
    assert memory.format_bytes(8 * 10 ** 15) == "8.0 PB"
    assert memory.format_bytes(64 * 10 ** 600) == "6.4e+586 PB"


def test_machine_memory_is_physical_memory_or_less():
    import os
    phys = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < memory.machine_memory() <= phys
    assert np.isfinite(float(memory.machine_memory()))
