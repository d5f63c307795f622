"""Less common but real tutorial calls: a custom autograd Function (the 'defining new autograd functions'
tutorial), double backward, einsum, print options, resize_."""
import numpy as np
import torch


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


if __name__ == "__main__":
    CHECK = {}
    x = torch.tensor([[-1.0, 2.0, -3.0], [0.5, -0.5, 4.0]], requires_grad=True)
    y = MyReLU.apply(x)
    (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    CHECK["function_out"] = y
    CHECK["function_grad"] = x.grad
    t = torch.tensor([2.0], requires_grad=True)
    (g,) = torch.autograd.grad(t ** 3, t, create_graph=True)
    g.backward()
    CHECK["double_backward"] = (g, t.grad)
    a = torch.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    CHECK["einsum"] = torch.einsum('bij,bkj->bik', a, a)
    torch.set_printoptions(precision=2)
    CHECK["printopts"] = repr(torch.tensor([1.23456, 2.0]))
    torch.set_printoptions(profile="default")
    CHECK["printopts_reset"] = repr(torch.tensor([1.23456, 2.0]))
    CHECK["resize_"] = tuple(a.clone().resize_(6, 4).shape)
    CHECK["array_protocol"] = np.array(a, dtype=np.float64, copy=True)
