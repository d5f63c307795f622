"""cnnlab.onnx.load: files written by export and by torch.onnx.export run as cnnlab Modules with trainable
parameters: the same outputs, and the same gradients as PyTorch's for a fine-tuning step."""
import io

import numpy as np
import pytest

import cnnlab
import cnnlab.models as M
import cnnlab.onnx

pytest.importorskip("onnx")
torch = pytest.importorskip("torch")


def test_load_what_export_wrote():
    cnnlab.manual_seed(0)
    model = M.resnet18(num_classes=7).eval()
    buf = io.BytesIO()
    cnnlab.onnx.export(model, cnnlab.randn(1, 3, 32, 32), buf)
    back = cnnlab.onnx.load(buf.getvalue()).eval()
    x = cnnlab.randn(2, 3, 32, 32)
    with cnnlab.no_grad():
        np.testing.assert_allclose(back(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore")
def test_load_torch_export_and_fine_tune_step():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Conv2d(4, 4, 3, stride=2), torch.nn.Flatten(), torch.nn.Linear(4 * 7 * 7, 5),
                             torch.nn.Softmax(1)).eval()
    buf = io.BytesIO()
    torch.onnx.export(tm, (torch.randn(1, 3, 32, 32),), buf, dynamo=False)
    cn = cnnlab.onnx.load(buf.getvalue())
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal((1, 5)).astype(np.float32)
    y = cn(cnnlab.tensor(x))
    yt = tm(torch.from_numpy(x))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    (y * cnnlab.tensor(g)).sum().backward()
    (yt * torch.from_numpy(g)).sum().backward()
    # the file's initializers are the module's parameters, in order, under their names ('0.weight' -> '0_weight')
    ours = dict(cn.named_parameters())
    assert sorted(ours) == sorted(k.replace(".", "_") for k, _ in tm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(ours[name.replace(".", "_")].grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)


def test_unknown_ops_are_named_in_one_line():
    import onnx
    from onnx import helper
    node = helper.make_node("Einsum", ["x"], ["y"], equation="ii->i")
    graph = helper.make_graph([node, helper.make_node("Celu", ["y"], ["z"])], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 2])],
                              [helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [2])])
    data = helper.make_model(graph).SerializeToString()
    with pytest.raises(cnnlab.onnx.ExportError, match=r"^onnx.load: these ops have no cnnlab form: Celu, Einsum\."):
        cnnlab.onnx.load(data)


class PadResizeNet(torch.nn.Module):
    """Reflect padding and bilinear interpolation (both coordinate rules) between convolutions, as in a
    segmentation head."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 4, 3)
        self.c2 = torch.nn.Conv2d(4, 2, 3)

    def forward(self, x):
        F = torch.nn.functional
        y = self.c1(F.pad(x, (1, 2, 2, 1), mode="reflect"))
        y = F.interpolate(torch.relu(y), scale_factor=2, mode="bilinear")
        y = F.interpolate(y, size=(7, 9), mode="bilinear", align_corners=True)
        return self.c2(F.pad(y, (1, 1, 0, 2), mode="replicate")) + F.interpolate(y[:, :2], scale_factor=2.0,
                                                                                  mode="nearest")[..., ::2, ::2]


@pytest.mark.filterwarnings("ignore")
def test_load_torch_export_with_pad_and_resize_and_fine_tune_step():
    torch.manual_seed(0)
    tm = PadResizeNet().eval()
    buf = io.BytesIO()
    torch.onnx.export(tm, (torch.randn(1, 3, 6, 5),), buf, dynamo=False)
    import onnx
    modes = sorted(a.s.decode() for n in onnx.load_from_string(buf.getvalue()).graph.node
                   if n.op_type in ("Pad", "Resize") for a in n.attribute if a.name == "mode")
    assert modes == ["edge", "linear", "linear", "nearest", "reflect"]  # the file holds what this test is about
    cn = cnnlab.onnx.load(buf.getvalue())
    x = np.random.default_rng(0).standard_normal((1, 3, 6, 5)).astype(np.float32)
    yt = tm(torch.from_numpy(x))
    y = cn(cnnlab.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(np.float32)
    (y * cnnlab.tensor(g)).sum().backward()
    (yt * torch.from_numpy(g)).sum().backward()
    ours = dict(cn.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(ours[name.replace(".", "_")].grad.numpy(), p.grad.numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)
