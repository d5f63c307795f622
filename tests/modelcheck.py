"""Helpers for comparing a cnnlab module with its PyTorch/torchvision twin: copy the weights, run both on the same
float64 input, backpropagate the same random upstream gradient, compare outputs and every gradient."""
import numpy as np

import cnnlab

torch = __import__("pytest").importorskip("torch")


def copy_weights(ref, model):
    """Load ref's state_dict (parameters and buffers) into model; both trees must have the same keys."""
    model.load_state_dict({k: cnnlab.tensor(v.detach().numpy().copy()) for k, v in ref.state_dict().items()})


def param_count(module):
    return sum(p.numel() for p in module.parameters())


def keys_and_shapes(module):
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def _outputs(out):
    return list(out) if isinstance(out, tuple) else [out]


def compare(model, ref, x, train=False, grads=True, rtol=1e-7, atol=1e-9, seed=0, scaled=False):
    """Run model (cnnlab) and ref (torch) on x (an ndarray; float64, or float32 for a quick look at a large
    input) in train or eval mode; assert equal outputs (a namedtuple's fields too), input gradients and parameter
    gradients. scaled=True adds rtol * max|gradient| to atol for each gradient (deep train-mode networks whose
    gradients reach 1e8 have rounding of that order in their near-zero entries). Returns the cnnlab outputs."""
    model.to(getattr(cnnlab, x.dtype.name)).train(train)
    ref.to(getattr(torch, x.dtype.name)).train(train)
    cx = cnnlab.tensor(x, requires_grad=grads)
    tx = torch.tensor(x, requires_grad=grads)
    if grads:
        cout, tout = _outputs(model(cx)), _outputs(ref(tx))
    else:
        with cnnlab.no_grad():
            cout = _outputs(model(cx))
        with torch.no_grad():
            tout = _outputs(ref(tx))
    assert len(cout) == len(tout)
    rng = np.random.default_rng(seed)
    closs, tloss = 0, 0
    for c, t in zip(cout, tout):
        if t is None:
            assert c is None
            continue
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
        g = rng.standard_normal(tuple(t.shape))
        closs = closs + (c * cnnlab.tensor(g)).sum()
        tloss = tloss + (t * torch.tensor(g)).sum()
    if grads:
        closs.backward()
        tloss.backward()
        np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=rtol,
                                   atol=_atol(tx.grad, rtol, atol, scaled))
        tparams = dict(ref.named_parameters())
        for name, p in model.named_parameters():
            tg = tparams[name].grad
            if tg is None:
                assert p.grad is None or not p.grad.numpy().any(), name
            else:
                np.testing.assert_allclose(p.grad.numpy(), tg.numpy(), rtol=rtol, atol=_atol(tg, rtol, atol, scaled),
                                           err_msg=name)
    return cout


def _atol(g, rtol, atol, scaled):
    return atol + (rtol * float(g.abs().max()) if scaled and g.numel() else 0.0)


def assert_same_state(model, ref, rtol=1e-7, atol=1e-9):
    """Every state_dict entry equal (parameters and buffers such as BatchNorm's running statistics)."""
    tstate = ref.state_dict()
    cstate = model.state_dict()
    assert list(cstate) == list(tstate)
    for k, v in cstate.items():
        np.testing.assert_allclose(v.numpy(), tstate[k].numpy(), rtol=rtol, atol=atol, err_msg=k)
