"""Transfer learning with the zoo: feature_extractor against torchvision's create_feature_extractor (copied
weights), and the lecture notes' recipe (alexnet, frozen features, a new classifier head trained alone)."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
from cnnlab import models
from tv import torch, tvm


def _resnet18_pair():
    torch.manual_seed(0)
    ref = tvm.resnet18().double().eval()
    model = models.resnet18().double().eval()
    model.load_state_dict({k: cnnlab.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    return model, ref


def test_feature_extractor_matches_torchvision():
    from torchvision.models.feature_extraction import create_feature_extractor
    model, ref = _resnet18_pair()
    nodes = {"layer1.0.relu": "first_relu", "layer1.0.relu_1": "block_out", "layer2": "c3", "layer3.1.bn2": "bn"}
    ours = models.feature_extractor(model, nodes)
    theirs = create_feature_extractor(ref, return_nodes=nodes)
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64))
    out, expected = ours(cnnlab.tensor(x)), theirs(torch.tensor(x))
    assert list(out) == list(expected) == list(nodes.values())
    for name in nodes.values():
        np.testing.assert_allclose(out[name].detach().numpy(), expected[name].detach().numpy(), rtol=1e-9, atol=1e-12)
    # the extractor shares the model's modules and keys; the model still runs on its own
    assert set(ours.state_dict()) == set(model.state_dict())
    np.testing.assert_allclose(model(cnnlab.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-9, atol=1e-12)
    listed = models.create_feature_extractor(model, return_nodes=["layer4"])(cnnlab.tensor(x))
    assert list(listed) == ["layer4"] and listed["layer4"].shape == (2, 512, 2, 2)


def test_feature_extractor_gradients_flow_and_errors():
    model = models.resnet18(num_classes=3)
    body = models.feature_extractor(model, ["layer2"])
    x = cnnlab.randn(1, 3, 32, 32)
    body(x)["layer2"].sum().backward()
    assert model.layer1[0].conv1.weight.grad is not None and model.layer3[0].conv1.weight.grad is None
    with pytest.raises(ValueError, match=r"return_nodes must name modules of the model .* Got node='layer9'; "
                                         r"modules: conv1, bn1, relu, maxpool, layer1"):
        models.feature_extractor(model, ["layer9"])
    with pytest.raises(ValueError, match=r"not reached by the forward pass. Got missing=\['fifth'\]"):
        models.feature_extractor(model.eval(), {"relu_4": "fifth"})(x)  # the stem's relu runs once
    with pytest.raises(TypeError, match="return_nodes must be a list of module paths or a dict"):
        models.feature_extractor(model, "layer1")


def test_the_lecture_notes_transfer_learning_recipe_trains_only_the_new_head():
    # the notes' recipe with the imports changed: freeze the features, replace the last classifier layer, train
    # the head alone (the weights here are random: the recipe's mechanics are what is checked)
    cnnlab.manual_seed(0)
    model = models.alexnet()
    for param in model.features.parameters():
        param.requires_grad = False
    model.classifier[6] = nn.Linear(4096, 2)
    frozen = [p.detach().numpy().copy() for p in model.features.parameters()]
    # (Adam: randomly initialised features are tiny, and Adam's steps do not depend on the gradients' scale)
    optimizer = cnnlab.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-4)
    labels = cnnlab.tensor([0, 1] * 4)
    images = cnnlab.randn(8, 3, 63, 63) + 2.0 * labels.reshape(8, 1, 1, 1)  # class 1 is brighter
    losses = []
    model.train()
    for _ in range(6):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.9, losses
    assert all(p.grad is None for p in model.features.parameters())
    for before, p in zip(frozen, model.features.parameters()):
        np.testing.assert_array_equal(before, p.detach().numpy())
    assert model.classifier[6].weight.grad is not None and model(images).shape == (8, 2)
