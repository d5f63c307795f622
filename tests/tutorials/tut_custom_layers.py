"""Writing your own layers: nn.Parameter, register_buffer, extra_repr, ParameterList."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * 0.1)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.register_buffer("scale", torch.tensor(2.0))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) * self.scale

    def extra_repr(self):
        return f"in_features={self.weight.shape[1]}, out_features={self.weight.shape[0]}"


class MyConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.kernel = nn.Parameter(torch.ones(2, 1, 3, 3))
        self.lin = MyLinear(2 * 4 * 4, 3)

    def forward(self, x):
        x = F.relu(F.conv2d(x, self.kernel))
        return self.lin(x.flatten(1))


if __name__ == "__main__":
    CHECK = {}
    model = MyConv()
    det_init(model)
    CHECK["repr"] = repr(model)
    CHECK["params"] = [n for n, _ in model.named_parameters()]
    CHECK["buffers"] = [n for n, _ in model.named_buffers()]
    CHECK["state_keys"] = list(model.state_dict().keys())
    x = torch.tensor(np.random.default_rng(13).standard_normal((2, 1, 6, 6)), dtype=torch.float32)
    out = model(x)
    CHECK["out"] = out
    out.pow(2).sum().backward()
    CHECK["grad_kernel"] = model.kernel.grad
    CHECK["grad_w"] = model.lin.weight.grad
    p = nn.Parameter(torch.ones(2))
    CHECK["param_rg"] = p.requires_grad
    CHECK["param_isinstance"] = isinstance(p, torch.Tensor)
    CHECK["param_frozen"] = nn.Parameter(torch.ones(2), requires_grad=False).requires_grad
    ps = nn.ParameterList([nn.Parameter(torch.zeros(i + 1)) for i in range(3)])
    CHECK["param_list"] = sum(q.numel() for q in ps)
