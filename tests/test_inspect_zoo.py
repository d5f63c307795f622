"""cnnlab.inspect on the model zoo against published figures: torchvision's `_ops` (GFLOPs as multiply-adds
without bias) and `num_params`, and the receptive fields of Araujo, Norris & Sim (Distill, 2019)."""
import functools

import pytest

import cnnlab
from cnnlab import models
from cnnlab.inspect import receptive_field, summary


@functools.lru_cache(maxsize=None)  # built once: AlexNet's 61 M weights take seconds to initialise
def _zoo(name):
    if name not in models.list_models():
        pytest.skip(f"the zoo has no {name} yet")
    cnnlab.manual_seed(0)
    return models.get_model(name)


@pytest.mark.parametrize("name, params, gmacs", [("alexnet", 61_100_840, 0.714), ("resnet50", 25_557_032, 4.089)])
def test_params_and_mult_adds_match_torchvision(name, params, gmacs):
    s = summary(_zoo(name), (1, 3, 224, 224), receptive_fields=False)
    assert s.total_params == params
    assert round(s.total_mult_adds / 1e9, 3) == gmacs


def test_vgg16_features_receptive_field():
    # built from the zoo's own layer list (the whole model's 138 M classifier weights take long to initialise);
    # theoretical, so not bounded by the image: traced on 64x64 (16 times cheaper than 224) it is still 212
    if "vgg16" not in models.list_models():
        pytest.skip("the zoo has no vgg16 yet")
    from cnnlab.models.vgg import cfgs, make_layers
    rf = receptive_field(make_layers(cfgs["D"]), (1, 3, 64, 64))
    assert rf == (212, 212) and rf.jump == (32, 32)


@pytest.mark.parametrize("name, size, image", [("alexnet", 195, 224)])
def test_published_receptive_fields_of_the_features(name, size, image):
    rf = receptive_field(_zoo(name).features, (1, 3, image, image))
    assert rf == (size, size) and rf.jump == (32, 32)
