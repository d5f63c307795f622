"""The '60-minute blitz' in order: tensors (memory shared with NumPy, out=, in-place), autograd with an
external gradient, and the Neural Networks page (LeNet on 1x32x32, backward with a random gradient,
MSELoss, the manual update f.data.sub_)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        return self.fc3(f6)


if __name__ == "__main__":
    CHECK = {}
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    CHECK["ones_like"] = torch.ones_like(x_data)
    CHECK["rand_like_dtype"] = str(torch.rand_like(x_data, dtype=torch.float).dtype)
    shape = (2, 3,)
    CHECK["shapes"] = [tuple(f(shape).shape) for f in (torch.rand, torch.ones, torch.zeros)]
    tensor = torch.ones(4, 4)
    CHECK["device"] = str(tensor.device)
    tensor[:, 1] = 0
    CHECK["first_row"] = tensor[0]
    CHECK["last_col"] = tensor[..., -1]
    CHECK["cat"] = torch.cat([tensor, tensor, tensor], dim=1)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    CHECK["matmul_out"] = (y1, y2, y3)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    CHECK["mul_out"] = z3
    agg_item = tensor.sum().item()
    CHECK["agg"] = (agg_item, type(agg_item).__name__)
    tensor.add_(5)
    CHECK["add_"] = tensor
    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    CHECK["numpy_shares"] = n.copy()
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    CHECK["from_numpy_shares"] = t
    CHECK["x_np"] = x_np

    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    CHECK["autograd"] = (9 * a ** 2 == a.grad, -2 * b == b.grad)

    net = Net()
    CHECK["net_repr"] = repr(net)
    params = list(net.parameters())
    CHECK["params"] = (len(params), tuple(params[0].size()))
    det_init(net, scale=0.1)
    input = torch.tensor(np.random.default_rng(25).standard_normal((1, 1, 32, 32)), dtype=torch.float32)
    out = net(input)
    CHECK["out"] = out
    net.zero_grad()
    out.backward(torch.linspace(-1, 1, 10).view(1, 10))
    CHECK["conv1_bias_grad"] = net.conv1.bias.grad
    output = net(input)
    target = torch.linspace(0, 1, 10)
    target = target.view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    CHECK["loss"] = loss
    CHECK["grad_fn_chain"] = (loss.grad_fn.name(), loss.grad_fn.next_functions[0][0].name())
    net.zero_grad()
    CHECK["after_zero_grad"] = net.conv1.bias.grad
    loss.backward()
    CHECK["bias_grad_after"] = net.conv1.bias.grad
    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    CHECK["updated"] = net.fc3.weight
