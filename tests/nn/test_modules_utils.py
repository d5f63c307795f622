"""cnnlab.nn.modules.utils against torch.nn.modules.utils: the same tuples, names and errors."""
import numpy as np
import pytest
import torch.nn.modules.utils as tu

import cnnlab.nn.modules.utils as cu


@pytest.mark.parametrize("name", ["_single", "_pair", "_triple", "_quadruple"])
@pytest.mark.parametrize("value", [3, 2.5, (1, 2), [4, 5, 6], "ab", None, np.int64(2), range(2)])
def test_ntuple_helpers_equal_torch(name, value):
    assert getattr(cu, name)(value) == getattr(tu, name)(value)
    assert getattr(cu, name).__name__ == getattr(tu, name).__name__ == name


def test_ntuple_factory_reverse_repeat_and_list_with_default():
    assert cu._ntuple(5)(1) == tu._ntuple(5)(1) == (1,) * 5
    assert cu._reverse_repeat_tuple((1, 2, 3), 2) == tu._reverse_repeat_tuple((1, 2, 3), 2)
    for out_size, defaults in [([None, 3], (5, 6, 7)), ((2, None), (1, 2, 8, 9)), (4, (5, 6)), ([None], (3, 4))]:
        assert cu._list_with_default(out_size, defaults) == tu._list_with_default(out_size, defaults)
    with pytest.raises(ValueError, match="_list_with_default: the input must have more dims"):
        cu._list_with_default([None, 3], (5,))
    with pytest.raises(ValueError):
        tu._list_with_default([None, 3], (5,))
