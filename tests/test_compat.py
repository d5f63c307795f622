"""PyTorch-compatibility surface: the F namespace holds functions (not same-named submodules), and the
no-op stand-ins for PyTorch 2 features (compile, autocast)."""
import types

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from oracle import check, rand


@pytest.mark.parametrize("name", ["one_hot", "pixel_shuffle", "pixel_unshuffle", "pairwise_distance",
                                  "cosine_similarity"])
def test_functional_names_are_functions(name):
    assert callable(getattr(F, name)) and not isinstance(getattr(F, name), types.ModuleType)


def test_functional_pixel_shuffle_and_one_hot_match_torch():
    check(lambda lib, x: lib.F.pixel_shuffle(x, 2), rand(1, 8, 2, 3, seed=1))
    check(lambda lib, x: lib.F.pixel_unshuffle(x, 2), rand(1, 2, 4, 6, seed=2))
    y = np.array([0, 2, 1, 2])
    assert np.array_equal(F.one_hot(cnnlab.tensor(y), 4).numpy(), torch.nn.functional.one_hot(torch.tensor(y), 4))
