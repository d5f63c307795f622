"""Autograd warm-up from the first lectures: leaves, backward, grad accumulation, detach, manual SGD."""
import torch

if __name__ == "__main__":
    CHECK = {}
    x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    y = x * x + 2 * x
    z = y.mean()
    z.backward()
    CHECK["grad"] = x.grad
    CHECK["is_leaf"] = (x.is_leaf, y.is_leaf)
    CHECK["grad_fn_none"] = x.grad_fn is None
    CHECK["y_has_grad_fn"] = y.grad_fn is not None
    z = (x ** 2).sum()
    z.backward()
    CHECK["accumulated"] = x.grad
    x.grad.zero_()
    CHECK["zeroed"] = x.grad
    v = torch.tensor([1.0, 0.1, 0.01])
    a = torch.ones(3, requires_grad=True)
    b = a * 3
    b.backward(v)
    CHECK["vjp"] = a.grad
    c = a.detach()
    CHECK["detach_rg"] = c.requires_grad
    with torch.no_grad():
        d = a * 2
    CHECK["no_grad_rg"] = d.requires_grad
    w = torch.randn(3, 1).requires_grad_(True)
    CHECK["requires_grad_"] = w.requires_grad
    # manual gradient descent on a line fit
    xs = torch.linspace(-1, 1, 20).view(-1, 1)
    ys = 3 * xs + 0.5
    W = torch.zeros(1, 1, requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    lr = 0.1
    for step in range(50):
        pred = xs @ W + bias
        loss = ((pred - ys) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            W -= lr * W.grad
            bias -= lr * bias.grad
            W.grad.zero_()
            bias.grad.zero_()
    CHECK["W"] = W
    CHECK["b"] = bias
    CHECK["loss"] = loss.item()
    t = torch.tensor([2.0], requires_grad=True)
    (g,) = torch.autograd.grad((t ** 3).sum(), t)
    CHECK["autograd_grad"] = g
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    q = p.sum()
    q.backward(retain_graph=True)
    q.backward()
    CHECK["retain"] = p.grad
    CHECK["numpy_of_grad_tensor"] = p.detach().numpy()
    CHECK["requires_grad_error"] = None
    try:
        p.numpy()
    except RuntimeError:
        CHECK["requires_grad_error"] = "RuntimeError"
