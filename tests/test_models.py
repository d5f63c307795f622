"""cnnlab.models: the registry, LeNet-5 and the lecture notes' CNN, checked against the same networks in PyTorch."""
import numpy as np
import pytest

import cnnlab
from cnnlab import models

torch = pytest.importorskip("torch")


def _torch_lenet(tnn):
    return tnn.Sequential(
        tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                       tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2)),
        tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                       tnn.Linear(84, 10)))


def test_registry():
    assert {"lenet5", "lecture_cnn"} <= set(models.list_models())
    with pytest.raises(ValueError, match=r"get_model: unknown model. Got name='resnet999'; available: .*lenet5"):
        models.get_model("resnet999")


def test_registry_names_inputs_and_builder_arguments():
    assert models.canonical_name("Lecture-CNN") == "lecture_cnn"
    assert type(models.get_model("lecture-cnn")) is models.LectureCNN
    assert models.input_shape("lenet5") == (1, 28, 28) and models.input_shape("lecture_cnn") == (3, 32, 32)
    # each declared input really goes through the default model (the zoo's 224x224 models are run, on smaller
    # inputs, by tests/test_models_*.py)
    for name in [n for n in models.list_models() if models.input_shape(n)[1] <= 64]:
        c, h, w = models.input_shape(name)
        assert models.get_model(name)(cnnlab.zeros(2, c, h, w)).shape[0] == 2
    assert "input_size" in models.builder_parameters("lenet5")
    assert models.get_model("lenet5", in_channels=3, input_size=32)(cnnlab.zeros(1, 3, 32, 32)).shape == (1, 10)
    with pytest.raises(ValueError, match="unknown model. Got name='lenet-6'"):
        models.input_shape("lenet-6")


def test_lenet5_matches_torch_with_copied_weights():
    ref = _torch_lenet(torch.nn).double()
    model = models.lenet5().double()
    sd = {k.replace("0.", "features.", 1) if k.startswith("0.") else k.replace("1.", "classifier.", 1): v.numpy()
          for k, v in ref.state_dict().items()}
    model.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28))
    xt, xc = torch.tensor(x, requires_grad=True), cnnlab.tensor(x, requires_grad=True)
    out_t, out_c = ref(xt), model(xc)
    np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal((3, 10))
    (out_t * torch.tensor(g)).sum().backward()
    (out_c * cnnlab.tensor(g)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert sum(p.numel() for p in model.parameters()) == 61706


def test_lenet5_variants_and_errors():
    assert models.lenet5(in_channels=3, input_size=32)(cnnlab.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert models.lenet5(activation="tanh", pooling="avg")(cnnlab.zeros(1, 1, 28, 28)).shape == (1, 10)
    with pytest.raises(ValueError, match="input_size must be 28 or 32. Got input_size=64"):
        models.LeNet5(input_size=64)


class _TorchLectureCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 5, 5)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(5, 10, 5)
        self.fc1 = torch.nn.Linear(250, 32)
        self.fc2 = torch.nn.Linear(32, 1)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def test_lecture_cnn_matches_torch_shapes_repr_and_values():
    ref, model = _TorchLectureCNN().double(), models.lecture_cnn().double()
    assert repr(model).replace("LectureCNN", "X") == repr(ref).replace("_TorchLectureCNN", "X")
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    model.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32))
    np.testing.assert_allclose(model(cnnlab.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
