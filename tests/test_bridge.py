"""cnnlab.interop: to_torch builds the same network in PyTorch with the same weights, from_torch the reverse;
outputs and gradients (input and every parameter) agree, for zoo models, user-defined nets and layers."""
import numpy as np
import pytest

import cnnlab
import cnnlab.interop as interop
import cnnlab.models as M
import cnnlab.nn as nn
import cnnlab.nn.functional as F

torch = pytest.importorskip("torch")


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def compare(cn_model, pt_model, x, rtol=1e-4, atol=1e-5, grads=True):
    """Outputs, input gradient and every parameter gradient, with a random upstream gradient."""
    for p in list(cn_model.parameters()) + list(pt_model.parameters()):
        p.grad = None
    xc, xt = cnnlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = cn_model(xc), pt_model(xt)
    np.testing.assert_allclose(yt.detach().numpy(), yc.detach().numpy(), rtol=rtol, atol=atol)
    if not grads:
        return
    g = data(*yc.shape, seed=7)
    (yc * cnnlab.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), xc.grad.numpy(), rtol=rtol, atol=atol)
    pt_params = dict(pt_model.named_parameters())
    cn_params = dict(cn_model.named_parameters())
    assert sorted(pt_params) == sorted(cn_params)
    for name, p in cn_params.items():
        if p.grad is not None or pt_params[name].grad is not None:
            np.testing.assert_allclose(pt_params[name].grad.numpy(), p.grad.numpy(), rtol=rtol, atol=atol * 10,
                                       err_msg=name)


ZOO = [("lenet5", 1, 28), ("lecture_cnn", 3, 32), ("resnet18", 3, 32), ("mobilenet_v2", 3, 32),
       ("mobilenet_v3_small", 3, 32), ("squeezenet1_1", 3, 32), ("efficientnet_b0", 3, 32),
       ("convnext_tiny", 3, 32), ("densenet121", 3, 32)]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name,c,size", ZOO, ids=[z[0] for z in ZOO])
def test_zoo_to_torch_and_back(name, c, size):
    cnnlab.manual_seed(0)
    model = getattr(M, name)().eval()
    pt = interop.to_torch(model)
    assert isinstance(pt, torch.nn.Module) and type(pt).__name__ == type(model).__name__ and not pt.training
    assert sorted(pt.state_dict()) == sorted(model.state_dict())
    x = data(2, c, size, size)
    compare(model, pt, x, rtol=1e-3, atol=1e-5)
    back = interop.from_torch(pt)
    assert isinstance(back, nn.Module)
    assert all(np.array_equal(v.numpy(), model.state_dict()[k].numpy()) for k, v in back.state_dict().items())
    with cnnlab.no_grad():  # the same weights; float32 rounding may differ where one side folds its batch norms
        np.testing.assert_allclose(back(cnnlab.tensor(x)).numpy(), model(cnnlab.tensor(x)).numpy(), rtol=1e-5,
                                   atol=1e-5)


def test_training_mode_batch_norm_step_agrees():
    cnnlab.manual_seed(0)
    model = M.resnet18(num_classes=5).double().train()  # float64: batch statistics' gradients cancel a lot
    pt = interop.to_torch(model)
    assert pt.training and pt.conv1.weight.dtype == torch.float64
    compare(model, pt, data(4, 3, 32, 32).astype(np.float64), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(pt.bn1.running_mean.numpy(), model.bn1.running_mean.numpy(), rtol=1e-5, atol=1e-6)


class CnNet(nn.Module):
    """A user's net with its own forward, a helper method, a super() call and module-level functions."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.blocks = nn.ModuleList([nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 3, padding="same", groups=2)])
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 3 * 3, 6), nn.GELU(approximate="tanh"))
        self.scale = 0.5

    def features(self, x):
        x = F.relu(self.bn(self.conv(x)))
        for block in self.blocks:
            x = x + self.scale * block(x)
        return F.adaptive_avg_pool2d(x, 3)

    def forward(self, x):
        return cnnlab.softmax(self.head(self.features(x)), dim=1)


def test_user_net_to_torch_and_back():
    cnnlab.manual_seed(0)
    model = CnNet().eval()
    pt = interop.to_torch(model)
    compare(model, pt, data(2, 3, 11, 11))
    compare(interop.from_torch(pt), pt, data(3, 3, 11, 11))


class PtNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")
        self.p = torch.nn.MaxPool2d(2, ceil_mode=True)
        self.fc = torch.nn.Linear(3, 4)

    def forward(self, x):
        x = self.p(torch.nn.functional.silu(self.c(x)))
        return self.fc(torch.flatten(torch.mean(x, dim=(2, 3), keepdim=True), 1))


def test_torch_net_from_torch_and_fine_tune_step():
    torch.manual_seed(0)
    pt = PtNet()
    cn = interop.from_torch(pt)
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in cn.parameters())
    compare(cn, pt, data(2, 2, 7, 7))
    # one SGD step on each side from the same weights: the same new weights
    x, y = data(4, 2, 7, 7, seed=3), np.array([0, 1, 2, 3])
    opt_c, opt_t = cnnlab.optim.SGD(cn.parameters(), lr=0.1), torch.optim.SGD(pt.parameters(), lr=0.1)
    F.cross_entropy(cn(cnnlab.tensor(x)), cnnlab.tensor(y)).backward()
    torch.nn.functional.cross_entropy(pt(torch.tensor(x)), torch.tensor(y)).backward()
    opt_c.step(), opt_t.step()
    for (name, a), b in zip(cn.named_parameters(), pt.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("make", [
    lambda L: L.Conv1d(3, 2, 3, dilation=2, padding="same"), lambda L: L.ConvTranspose2d(3, 2, 3, stride=2,
    output_padding=1), lambda L: L.LayerNorm([5, 5]), lambda L: L.GroupNorm(1, 3), lambda L: L.PReLU(3),
    lambda L: L.Upsample(scale_factor=2, mode="bilinear"), lambda L: L.AvgPool2d(3, 2, 1, ceil_mode=True),
    lambda L: L.InstanceNorm2d(3, affine=True), lambda L: L.Dropout(0.3),
], ids=range(9))
def test_layers_both_ways(make):
    cnnlab.manual_seed(0)
    x = data(2, 3, 5, 5) if make(nn).__class__.__name__ != "Conv1d" else data(2, 3, 5)
    layer = make(nn).eval()
    compare(layer, interop.to_torch(layer).eval(), x)
    torch_layer = make(torch.nn).eval()
    compare(interop.from_torch(torch_layer).eval(), torch_layer, x)


def test_a_layer_with_no_torch_form_is_named():
    with pytest.raises(interop.InteropError, match=r"to_torch: cannot build torch.nn.Conv2d for Sequential.0"):
        interop.to_torch(nn.Sequential(nn.Conv2d(3, 2, 3, padding=((1, 2), (0, 1)))))
