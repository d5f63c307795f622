"""A layer named in an argument error is the one the user called: nn.Conv2d(3, 8, kernel=3) raises PyTorch's
"Conv2d.__init__() got an unexpected keyword argument 'kernel'", not the private base's name."""
import inspect

import pytest

import cnnlab
import cnnlab.nn as nn

torch = pytest.importorskip("torch")

LAYERS = sorted(name for name in dir(nn) if inspect.isclass(getattr(nn, name))
                and issubclass(getattr(nn, name), nn.Module) and hasattr(torch.nn, name) and name != "Identity")


def test_conv2d_keyword_typo_matches_torch():
    with pytest.raises(TypeError) as want:
        torch.nn.Conv2d(3, 8, kernel=3)
    with pytest.raises(TypeError) as got:
        nn.Conv2d(3, 8, kernel=3)
    assert str(got.value) == str(want.value) == "Conv2d.__init__() got an unexpected keyword argument 'kernel'"


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_names_itself_in_argument_errors(name):
    with pytest.raises(TypeError, match=rf"^{name}\.__init__\(\) got an unexpected keyword argument 'bogus'$"):
        getattr(nn, name)(bogus=1)


def test_renamed_init_still_builds_the_layer():
    """The copy keeps the base's defaults, keyword defaults and zero-argument super()."""
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert conv.weight.shape == (8, 3, 3, 3) and conv.padding == (1, 1)
    pool = nn.MaxPool2d(2)
    assert pool.stride == 2

    class MyPool(nn.MaxPool2d):
        pass

    assert MyPool(3).kernel_size == 3
    with pytest.raises(TypeError, match=r"MyPool\.__init__\(\) got an unexpected keyword argument"):
        MyPool(3, bogus=1)
    assert cnnlab.nn.BatchNorm2d(4)(cnnlab.ones(2, 4, 3, 3)).shape == (2, 4, 3, 3)
