"""Module hooks against torch.nn.Module's: forward pre-hooks and hooks (replacing args and outputs, kwargs,
prepend, removal) and full backward hooks and pre-hooks (the gradients they see, replacements, order, the
special cases of torch.utils.hooks.BackwardHook), with the same modules and weights in both libraries."""
import warnings

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn as nn
from cnnlab.errors import GradError
from nets import small_cnn
from oracle import rand

torch.set_num_threads(1)


# ---- forward hooks -------------------------------------------------------------------------------------------
def test_forward_hook_captures_feature_maps_and_removes():
    m = small_cnn(nn)
    maps = {}
    handles = [m.features[i].register_forward_hook(lambda mod, inp, out, i=i: maps.__setitem__(i, out.shape))
               for i in (0, 2, 5)]
    m(cnnlab.randn(2, 3, 32, 32))
    assert maps == {0: (2, 5, 28, 28), 2: (2, 5, 14, 14), 5: (2, 10, 5, 5)}
    for h in handles:
        h.remove()
    h.remove()  # removing twice is harmless
    maps.clear()
    m(cnnlab.randn(1, 3, 32, 32))
    assert maps == {}


def test_hooks_modify_input_and_output_like_torch():
    results = []
    x = rand(2, 4)
    for lib, tensor in ((nn, cnnlab.tensor), (torch.nn, torch.tensor)):
        layer = lib.Linear(4, 3)
        with (cnnlab.no_grad() if lib is nn else torch.no_grad()):
            layer.weight.fill_(0.5)
            layer.bias.fill_(0.25)
        calls = []
        layer.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # a single value replaces args
        layer.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
        h = layer.register_forward_hook(lambda mod, args, out: out * 10)
        layer.register_forward_hook(lambda mod, args, out: calls.append("first"), prepend=True)
        layer.register_forward_hook(lambda mod, args, kwargs, out: calls.append(sorted(kwargs)), with_kwargs=True)
        out1 = layer(tensor(x).float())
        h.remove()
        out2 = layer(tensor(x).float())
        results.append((out1.detach().numpy(), out2.detach().numpy(), calls))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    assert results[0][2] == results[1][2] == ["first", [], "first", []]


def test_pre_hook_with_kwargs_and_handle_context_manager():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    with m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True):
        assert m(cnnlab.ones(2)).tolist() == [3.0, 3.0]
    assert m(cnnlab.ones(2)).tolist() == [1.0, 1.0]
    m.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple of"):
        m(cnnlab.ones(2))


def test_hook_gradients_flow_through_modified_output():
    layer = nn.Linear(3, 2)
    layer.register_forward_hook(lambda mod, args, out: out * 2)
    layer(cnnlab.ones(1, 3)).sum().backward()
    np.testing.assert_allclose(layer.bias.grad.numpy(), [2.0, 2.0])


# ---- full backward hooks --------------------------------------------------------------------------------------
def conv_model(lib):
    """conv -> batchnorm -> relu -> flatten -> linear, float64, with the same weights in both libraries."""
    torch.manual_seed(0)
    pt = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                             torch.nn.Flatten(), torch.nn.Linear(3 * 5 * 5, 4)).double()
    if lib is torch:
        return pt
    cn = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                       nn.Linear(3 * 5 * 5, 4)).double()
    cn.load_state_dict({k: v.numpy() for k, v in pt.state_dict().items()})
    return cn


def _arr(t):
    return None if t is None else (t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()).copy()


def run_hooked(lib, scale=None, pre_scale=None):
    """Backward through conv_model with a hook on every layer that records (grad_input, grad_output); with scale,
    the hook on layer 1 (BatchNorm) returns grad_input * scale; with pre_scale, a pre-hook on layer 4 (Linear)
    returns grad_output * pre_scale. Returns the records, x.grad and the parameters' grads."""
    model = conv_model(lib)
    seen = {}
    for i, layer in enumerate(model):
        def hook(mod, gin, gout, i=i):
            seen[i] = ([_arr(g) for g in gin], [_arr(g) for g in gout])
            if scale is not None and i == 1:
                return tuple(g * scale for g in gin)
        layer.register_full_backward_hook(hook)
    if pre_scale is not None:
        model[4].register_full_backward_pre_hook(lambda mod, gout: (gout[0] * pre_scale,))
    x = lib.tensor(rand(2, 2, 5, 5, seed=1), requires_grad=True)
    g = lib.tensor(rand(2, 4, seed=2))
    (model(x) * g).sum().backward()
    return seen, _arr(x.grad), [_arr(p.grad) for p in model.parameters()]


@pytest.mark.parametrize("scale,pre_scale", [(None, None), (3.0, None), (None, -0.5), (2.0, 10.0)])
def test_full_backward_hooks_see_and_replace_gradients_like_torch(scale, pre_scale):
    cn_seen, cn_xgrad, cn_pgrads = run_hooked(cnnlab, scale, pre_scale)
    pt_seen, pt_xgrad, pt_pgrads = run_hooked(torch, scale, pre_scale)
    assert sorted(cn_seen) == sorted(pt_seen) == [0, 1, 2, 3, 4]
    for i in pt_seen:
        for side in (0, 1):
            assert len(cn_seen[i][side]) == len(pt_seen[i][side]) == 1
            np.testing.assert_allclose(cn_seen[i][side][0], pt_seen[i][side][0], rtol=1e-10, atol=1e-12,
                                       err_msg=f"layer {i} {'grad_output' if side else 'grad_input'}")
    np.testing.assert_allclose(cn_xgrad, pt_xgrad, rtol=1e-10, atol=1e-12)
    for a, b in zip(cn_pgrads, pt_pgrads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    if scale is not None:  # the replacement reached the layers below (conv weight grad scaled by 3 or 2)
        np.testing.assert_allclose(cn_pgrads[0], run_hooked(cnnlab, None, pre_scale)[2][0] * scale, rtol=1e-10)


def test_backward_hook_arguments_match_torch_in_special_cases():
    """Unused inputs and outputs, inputs that do not require grad, non-tensor and keyword arguments, identity,
    a list output (warning, no hooks), no input requiring grad (warning, grad_input of Nones)."""
    def build(lib):
        class Two(lib.nn.Module):
            def forward(self, x, y, k=None):
                return x * 2, x * 3

        class Scaled(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = lib.nn.Parameter(lib.ones(2, dtype=lib.float64) * 1.5)

            def forward(self, x):
                return x * self.w

        class AsList(lib.nn.Module):
            def forward(self, x):
                return [x * 2]

        class Same(lib.nn.Module):
            def forward(self, x):
                return x

        x = lib.tensor([1.0, 2.0], requires_grad=True, dtype=lib.float64)
        y = lib.tensor([5.0], requires_grad=True, dtype=lib.float64)
        plain = lib.tensor([5.0], dtype=lib.float64)
        return [(Two(), (x, y), {}, lambda o: o[0].sum()), (Two(), (x, plain), {}, lambda o: o[0].sum()),
                (Two(), (x, 3), {}, lambda o: o[0].sum()),
                (Two(), (x, y), {"k": lib.ones(1, requires_grad=True)}, lambda o: o[0].sum()),
                (Two(), (x, y), {}, lambda o: (o[1] * o[1]).sum()),
                (Scaled(), (lib.tensor([1.0, 2.0], dtype=lib.float64),), {}, lambda o: (o * o).sum()),
                (AsList(), (x,), {}, lambda o: o[0].sum()), (Same(), (x,), {}, lambda o: (o * o).sum())]

    def trace(lib):
        out = []
        for module, args, kwargs, loss in build(lib):
            seen = []
            module.register_full_backward_hook(lambda m, gin, gout: seen.append(
                ("hook", [_arr(g) if hasattr(g, "shape") else g for g in gin], [_arr(g) for g in gout])))
            module.register_full_backward_pre_hook(lambda m, gout: seen.append(("pre", [_arr(g) for g in gout])))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                loss(module(*args, **kwargs)).backward()
            out.append((repr(seen), [str(w.message) for w in caught]))
        return out

    cn, pt = trace(cnnlab), trace(torch)
    for k, (c, p) in enumerate(zip(cn, pt)):
        assert c == p, f"case {k}"
    assert "no inputs require gradients" in cn[5][1][0] and "should be a Tensor or a tuple" in cn[6][1][0]


def test_backward_hook_order_prepend_and_nesting_like_torch():
    def trace(lib, x_requires_grad):
        torch.manual_seed(0)
        seq = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        order = []
        for name, m in [("outer", seq), ("0", seq[0]), ("2", seq[2])]:
            m.register_full_backward_hook(lambda mod, gi, go, name=name: order.append(("hook", name)))
            m.register_full_backward_pre_hook(lambda mod, go, name=name: order.append(("pre", name)))
        seq[0].register_full_backward_hook(lambda mod, gi, go: order.append(("hook-first", "0")), prepend=True)
        seq[2].register_full_backward_pre_hook(lambda mod, go: order.append(("pre-first", "2")), prepend=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seq(lib.ones(5, 3, requires_grad=x_requires_grad)).sum().backward()
        return order

    for requires_grad in (True, False):
        assert trace(cnnlab, requires_grad) == trace(torch, requires_grad)


def test_backward_hooks_per_call_retain_graph_removal_and_no_grad():
    layer = nn.Linear(3, 3)
    calls = []
    handle = layer.register_full_backward_hook(lambda m, gin, gout: calls.append(gout[0].shape))
    x = cnnlab.randn(2, 3, requires_grad=True)
    y = layer(layer(x))  # two calls of one module: the hook fires once per call
    y.sum().backward(retain_graph=True)
    assert len(calls) == 2
    y.sum().backward()  # a second pass through the retained graph fires them again
    assert len(calls) == 4
    out = layer(x)
    assert out.grad_fn.name() == "BackwardHookFunctionBackward"  # as torch names the node
    with cnnlab.no_grad():
        assert layer(x).grad_fn is None
    handle.remove()
    layer(x).sum().backward()
    assert len(calls) == 4
    assert layer(x).grad_fn.name() != "BackwardHookFunctionBackward"  # no hooks: no extra nodes
    (g,) = cnnlab.autograd.grad(layer(x).sum(), x)  # autograd.grad goes through the hooks too
    layer.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 0,))
    (g0,) = cnnlab.autograd.grad(layer(x).sum(), x)
    assert np.abs(g.numpy()).sum() > 0 and np.all(g0.numpy() == 0)


def test_forward_hooks_see_routed_inputs_and_backward_wraps_replaced_output():
    for lib in (cnnlab, torch):
        layer = lib.nn.Linear(3, 2)
        seen = []
        layer.register_forward_hook(lambda m, args, out: out * 2)  # the replaced output is what gets hooked
        layer.register_full_backward_hook(lambda m, gin, gout: seen.append(gout[0].tolist()))
        (layer(lib.ones(1, 3, requires_grad=True)) * lib.tensor([[1.0, 3.0]])).sum().backward()
        assert seen == [[[1.0, 3.0]]], lib.__name__


def test_backward_hook_errors_like_torch():
    def errors(lib, register):
        layer = lib.nn.Linear(3, 2).double()
        register(layer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError) as info:
                layer(lib.ones(4, 3, dtype=lib.float64, requires_grad=True)).sum().backward()
        return str(info.value)

    cases = [
        (lambda m: m.register_full_backward_hook(lambda mod, gin, gout: (gin[0], gin[0])),
         "Backward hook returned an invalid number of grad_input, got 2, but expected 1"),
        (lambda m: m.register_full_backward_pre_hook(lambda mod, gout: (gout[0], gout[0])),
         "Backward pre hook returned an invalid number of grad_output, got 2, but expected 1"),
        (lambda m: m.register_full_backward_hook(lambda mod, gin, gout: (gin[0].float(),)), "type"),
    ]
    for register, torch_match in cases:
        assert torch_match in errors(torch, register)
        message = errors(cnnlab, register)
        assert torch_match.split(",")[0] in message or "shape and dtype" in message
    with pytest.raises(GradError, match=r"Got grad_input\[0\] of shape \(2,\) and dtype float64 for one of shape "
                                        r"\(4, 3\) and dtype float64"):
        layer = nn.Linear(3, 2).double()
        layer.register_full_backward_hook(lambda mod, gin, gout: (cnnlab.ones(2, dtype=cnnlab.float64),))
        layer(cnnlab.ones(4, 3, dtype=cnnlab.float64, requires_grad=True)).sum().backward()
    # no input requires grad: a hook may only return None(s)
    for lib in (cnnlab, torch):
        layer = lib.nn.Linear(3, 2)
        layer.register_full_backward_hook(lambda mod, gin, gout: (lib.ones(2),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="should always return None or None for all gradients"):
                layer(lib.ones(4, 3)).sum().backward()


def test_forward_hook_always_call_like_torch():
    def trace(lib):
        class Fails(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m, calls = Fails(), []
        m.register_forward_hook(lambda mod, args, out: calls.append(("plain", out)))
        m.register_forward_hook(lambda mod, args, out: calls.append(("always", out)), always_call=True)
        m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(("kw", sorted(kwargs), out)),
                                always_call=True, with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: 1 / 0, always_call=True)  # silenced: a warning
        with pytest.warns(UserWarning, match="always_call=True.*raised an exception that was silenced"):
            with pytest.raises(ValueError, match="boom"):
                m(lib.ones(1))
        return calls

    assert trace(cnnlab) == trace(torch) == [("always", None), ("kw", [], None)]
    layer, calls = nn.Identity(), []
    layer.register_forward_hook(lambda mod, args, out: calls.append(out.tolist()), always_call=True)
    layer(cnnlab.ones(2))
    assert calls == [[1.0, 1.0]]  # forward succeeded: called once, with the output


def test_module_pickled_without_backward_hook_registries_still_works():
    import pickle
    layer = nn.Linear(2, 2)
    state = dict(layer.__dict__)
    for name in ("_backward_hooks", "_backward_pre_hooks", "_forward_hooks_always_called"):
        del state[name]  # as a module saved before these registries existed
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__(state)
    restored = pickle.loads(pickle.dumps(old))
    assert restored(cnnlab.ones(1, 2)).shape == (1, 2)
    seen = []
    restored.register_full_backward_hook(lambda m, gin, gout: seen.append(1))
    restored(cnnlab.ones(1, 2, requires_grad=True)).sum().backward()
    assert seen == [1]
