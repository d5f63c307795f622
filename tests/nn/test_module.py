"""nn.Module against torch.nn.Module: registration by attribute assignment, iteration (names and order equal to
PyTorch's), train/eval, zero_grad, dtype casts that keep the Parameter objects, apply, state_dict keys,
shapes and dtypes, load_state_dict (weights exported from PyTorch, every problem in one message), Parameter.
Hooks: test_module_hooks.py; containers: test_containers.py."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn as nn
from nets import small_cnn
from oracle import rand

torch.set_num_threads(1)


def bn_model(lib):
    class Block(lib.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv1 = lib.Conv2d(cin, cout, 3, padding=1, bias=False)
            self.bn1 = lib.BatchNorm2d(cout)
            self.shortcut = lib.Sequential(lib.Conv2d(cin, cout, 1), lib.BatchNorm2d(cout, affine=False))

        def forward(self, x):
            return (self.bn1(self.conv1(x)) + self.shortcut(x)).relu()

    return lib.Sequential(OrderedDict([
        ("stem", lib.Sequential(lib.Conv2d(3, 4, 3), lib.BatchNorm2d(4), lib.ReLU())),
        ("blocks", lib.Sequential(Block(4, 6), lib.Sequential(Block(6, 6), lib.Dropout(0.0)))),
        ("head", lib.Sequential(lib.AdaptiveAvgPool2d(1), lib.Flatten(), lib.Linear(6, 2))),
    ]))


def nested_sequentials(lib):
    class Nested(lib.Module):
        def __init__(self):
            super().__init__()
            self.body = lib.Sequential(lib.Sequential(lib.Linear(4, 5), lib.Sequential(lib.Tanh(), lib.Linear(5, 5))),
                                       lib.LayerNorm(5))
            self.layers = lib.ModuleList([lib.Linear(5, 3), lib.ReLU()])
            self.heads = lib.ModuleDict({"out": lib.Linear(3, 2), "act": lib.Sigmoid()})
            self.norm = lib.GroupNorm(1, 2)

        def forward(self, x):
            x = self.body(x)
            for layer in self.layers:
                x = layer(x)
            return self.norm(self.heads["act"](self.heads["out"](x)))

    return Nested()


MODELS = [small_cnn, bn_model, nested_sequentials]


def _sd_signature(module):
    return [(k, tuple(v.shape), str(v.dtype).split(".")[-1]) for k, v in module.state_dict().items()]


def _torch_weights(pt):
    return {k: v.detach().numpy() for k, v in pt.state_dict().items()}


# ---- registration ----------------------------------------------------------------------------------------------
class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(cnnlab.ones(3))
        self.register_buffer("stat", cnnlab.zeros(3))
        self.register_buffer("scratch", cnnlab.zeros(2), persistent=False)
        self.register_parameter("unused", None)
        self.child = nn.Linear(3, 2)
        self.plain = cnnlab.ones(1)  # a plain tensor attribute is not registered

    def forward(self, x):
        return self.child(x * self.w + self.stat)


def test_attribute_assignment_registers():
    m = Custom()
    assert [n for n, _ in m.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert [n for n, _ in m.named_buffers()] == ["stat", "scratch"]
    assert list(m.state_dict()) == ["w", "stat", "child.weight", "child.bias"]  # non-persistent left out
    assert m.unused is None and isinstance(m.w, nn.Parameter) and m.child is m._modules["child"]
    assert "w" in dir(m) and "child" in dir(m)
    m.scale = nn.Buffer(cnnlab.ones(2))
    assert "scale" in dict(m.named_buffers()) and type(m.scale) is cnnlab.Tensor
    m.stat = cnnlab.full((3,), 2.0)  # a tensor assigned to a buffer's name replaces the buffer
    assert m._buffers["stat"].tolist() == [2.0, 2.0, 2.0]
    del m.w
    assert "w" not in dict(m.named_parameters())
    with pytest.raises(AttributeError, match="'Custom' object has no attribute 'w'"):
        m.w
    m.child = None
    assert [n for n, _ in m.named_children()] == []


def test_reassignment_like_torch():
    for lib, ones in ((nn, cnnlab.ones), (torch.nn, torch.ones)):
        m = lib.Module()
        m.x = lib.Parameter(ones(1))
        with pytest.raises(TypeError, match="cannot assign .*Linear' as parameter 'x'"):
            m.x = lib.Linear(1, 1)
        m.y = lib.Linear(1, 1)
        m.z = lib.ReLU()
        m.y = lib.Parameter(ones(2))  # a module's name re-used for a parameter: no longer a module
        assert list(m._modules) == ["z"] and m.y.shape == (2,)
        m.z = None
        m.z = lib.Tanh()
        m.w = lib.ReLU()
        m.z = lib.Sigmoid()  # replacing a module keeps its place
        assert list(m._modules) == ["z", "w"] and isinstance(m.z, lib.Sigmoid)


@pytest.mark.parametrize("action,exc,msg", [
    (lambda m: setattr(m, "w", cnnlab.ones(2)), TypeError, r"cannot assign '.*Tensor' as parameter 'w'"),
    (lambda m: setattr(m, "child", 3), TypeError, "cannot assign 'int' as child module 'child'"),
    (lambda m: setattr(m, "stat", [1.0]), TypeError, "cannot assign 'list' as buffer 'stat'"),
    (lambda m: m.register_buffer("a.b", cnnlab.ones(1)), KeyError, r'buffer name can.{1,2}t contain "\."'),
    (lambda m: m.register_buffer("", cnnlab.ones(1)), KeyError, "buffer name can.{1,2}t be empty string"),
    (lambda m: m.register_buffer("plain", cnnlab.ones(1)), KeyError, "attribute 'plain' already exists"),
    (lambda m: m.register_buffer("b", np.ones(1)), TypeError, "cannot assign 'numpy.ndarray' object to buffer 'b'"),
    (lambda m: m.register_parameter("p", cnnlab.ones(1)), TypeError, "object to parameter 'p'"),
    (lambda m: m.add_module("x", 3), TypeError, "int is not a Module subclass"),
    (lambda m: m.add_module("a.b", nn.ReLU()), KeyError, r'module name can.{1,2}t contain "\."'),
])
def test_registration_errors(action, exc, msg):
    with pytest.raises(exc, match=msg):
        action(Custom())


def test_assignment_before_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)
            super().__init__()

    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call"):
        Bad()


def test_missing_forward():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()(cnnlab.ones(1))


# ---- iteration: names and order equal to PyTorch's -------------------------------------------------------------------
@pytest.mark.parametrize("build", MODELS, ids=lambda b: b.__name__)
def test_iteration_matches_torch(build):
    cn, pt = build(nn), build(torch.nn)
    assert [n for n, _ in cn.named_parameters()] == [n for n, _ in pt.named_parameters()]
    assert [n for n, _ in cn.named_buffers()] == [n for n, _ in pt.named_buffers()]
    assert [n for n, _ in cn.named_modules()] == [n for n, _ in pt.named_modules()]
    assert [n for n, _ in cn.named_children()] == [n for n, _ in pt.named_children()]
    assert [type(m).__name__ for m in cn.modules()] == [type(m).__name__ for m in pt.modules()]
    assert [type(m).__name__ for m in cn.children()] == [type(m).__name__ for m in pt.children()]
    assert [n for n, _ in cn.named_parameters(prefix="model", recurse=True)] == \
           [n for n, _ in pt.named_parameters(prefix="model", recurse=True)]
    assert sum(p.numel() for p in cn.parameters()) == sum(p.numel() for p in pt.parameters())


def test_parameters_recurse_false_and_get_submodule():
    cn, pt = bn_model(nn), bn_model(torch.nn)
    block_cn, block_pt = cn.get_submodule("blocks.0"), pt.get_submodule("blocks.0")
    assert [n for n, _ in block_cn.named_parameters(recurse=False)] == []
    assert [n for n, _ in cn.get_submodule("stem.1").named_parameters(recurse=False)] == ["weight", "bias"]
    assert type(block_cn).__name__ == type(block_pt).__name__ == "Block"
    assert cn.get_submodule("") is cn
    assert cn.get_parameter("blocks.0.bn1.weight") is block_cn.bn1.weight
    assert cn.get_buffer("stem.1.running_var") is cn.stem[1].running_var
    with pytest.raises(AttributeError, match="Sequential has no attribute `nope`"):
        cn.get_submodule("stem.nope")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        cn.get_submodule("stem.0.weight")
    with pytest.raises(AttributeError, match="`running_mean` is not an nn.Parameter"):
        cn.get_parameter("stem.1.running_mean")


def test_shared_parameters_and_modules_are_deduplicated():
    for lib in (nn, torch.nn):
        shared = lib.Linear(4, 4)
        model = lib.Sequential(shared, lib.ReLU(), shared)
        model.extra = lib.Linear(4, 4, bias=False)
        model.extra.weight = shared.weight  # tied weight
        names = [n for n, _ in model.named_parameters()]
        assert names == ["0.weight", "0.bias"], (lib, names)
        assert len(list(model.parameters())) == 2
        assert len(list(model.named_parameters(remove_duplicate=False))) == 5
        assert [n for n, _ in model.named_modules()] == ["", "0", "1", "extra"]
        assert len(list(model.named_modules(remove_duplicate=False))) == 5
        assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "extra.weight"]


# ---- modes and bulk operations -----------------------------------------------------------------------------------------
def test_train_eval_propagate():
    m = bn_model(nn)
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.blocks.train()
    assert not m.training and not m.stem.training and all(x.training for x in m.blocks.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")


def test_zero_grad():
    m = small_cnn(nn)
    m(cnnlab.randn(2, 3, 32, 32)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    grads = [p.grad for p in m.parameters()]
    m.zero_grad(set_to_none=False)
    assert all(p.grad is g and not p.grad.numpy().any() for p, g in zip(m.parameters(), grads))
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_requires_grad_freezes():
    m = small_cnn(nn)
    assert m.features.requires_grad_(False) is m.features
    m(cnnlab.randn(1, 3, 32, 32)).sum().backward()
    assert all(p.grad is None for p in m.features.parameters())
    assert m.fc1.weight.grad is not None


def test_dtype_casts_keep_parameter_objects():
    m = bn_model(nn)
    params, buffers = list(m.parameters()), list(m.buffers())
    m(cnnlab.randn(2, 3, 8, 8)).sum().backward()
    assert m.double() is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == cnnlab.float64 and p.grad.dtype == cnnlab.float64 for p in params)
    assert [id(b) for b in m.buffers()] == [id(b) for b in buffers]
    assert m.stem[1].num_batches_tracked.dtype == cnnlab.int64  # integer buffers are not cast
    assert m.stem[1].running_mean.dtype == cnnlab.float64
    m.float()
    assert all(p.dtype == cnnlab.float32 for p in params)
    m.to(cnnlab.float64)
    assert all(p.dtype == cnnlab.float64 for p in params)
    m.to("cpu", cnnlab.float32)
    m.to(cnnlab.zeros(1, dtype=cnnlab.float64))
    assert all(p.dtype == cnnlab.float64 for p in params)
    assert m.to("cpu") is m and m.cpu() is m and m.to(device="cpu", dtype=cnnlab.float32) is m
    assert all(p.dtype == cnnlab.float32 for p in params)
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point dtypes"):
        m.to(cnnlab.int64)
    with pytest.raises(ValueError, match="CPU only"):
        m.to("cuda")


def test_optimizer_made_before_double_keeps_training():
    optim = pytest.importorskip("cnnlab.optim")
    m = nn.Linear(3, 1)
    opt = optim.SGD(m.parameters(), lr=0.1)
    m.double()
    before = m.weight.detach().numpy().copy()
    x = cnnlab.tensor(rand(4, 3))
    m(x).sum().backward()
    opt.step()
    assert m.weight.dtype == cnnlab.float64
    np.testing.assert_allclose(m.weight.detach().numpy(), before - 0.1 * x.numpy().sum(0, keepdims=True))


def test_apply_visits_children_first_like_torch():
    order = {}
    for lib in (nn, torch.nn):
        seen = []
        assert nested_sequentials(lib).apply(lambda mod: seen.append(type(mod).__name__)) is not None
        order[lib] = seen
    assert order[nn] == order[torch.nn]

    def init_fn(mod):
        if isinstance(mod, nn.Linear):
            nn.init.constant_(mod.weight, 0.5)
            nn.init.zeros_(mod.bias)

    m = nested_sequentials(nn).apply(init_fn)
    assert all(np.all(mod.weight.detach().numpy() == 0.5) for mod in m.modules() if isinstance(mod, nn.Linear))


# ---- state_dict ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", MODELS, ids=lambda b: b.__name__)
def test_state_dict_keys_shapes_dtypes_match_torch(build):
    assert _sd_signature(build(nn)) == _sd_signature(build(torch.nn))


def test_state_dict_details():
    m = bn_model(nn)
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    nbt = sd["stem.1.num_batches_tracked"]
    assert nbt.dtype == cnnlab.int64 and nbt.shape == () and int(nbt) == 0
    assert "blocks.0.shortcut.1.weight" not in sd and "blocks.0.shortcut.1.running_mean" in sd
    assert not sd["stem.0.weight"].requires_grad and type(sd["stem.0.weight"]) is cnnlab.Tensor
    assert np.shares_memory(sd["stem.0.weight"].numpy(), m.stem[0].weight.detach().numpy())
    assert m.state_dict(keep_vars=True)["stem.0.weight"] is m.stem[0].weight
    assert list(m.stem.state_dict(prefix="x.")) == ["x." + k for k in m.stem.state_dict()]


@pytest.mark.parametrize("build,shape", [(small_cnn, (2, 3, 32, 32)), (bn_model, (2, 3, 9, 9)),
                                         (nested_sequentials, (3, 4))], ids=["small_cnn", "bn_model", "nested"])
def test_torch_state_dict_loads_and_gives_torch_outputs(build, shape):
    pt = build(torch.nn).double()
    with torch.no_grad():  # move BatchNorm's statistics away from their initial values
        for name, b in pt.named_buffers():
            if "running" in name:
                b.uniform_(0.5, 1.5)
            elif "num_batches" in name:
                b.fill_(7)
    cn = build(nn)
    assert repr(cn.load_state_dict(_torch_weights(pt))) == "<All keys matched successfully>"
    cn.double()
    for mode in (False, True):
        cn.train(mode), pt.train(mode)
        x = rand(*shape)
        np.testing.assert_allclose(cn(cnnlab.tensor(x)).detach().numpy(), pt(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-7, atol=1e-9)
    assert int(cn.state_dict().get("stem.1.num_batches_tracked", cnnlab.tensor(8))) == 8


def test_load_copies_into_existing_parameters_and_casts():
    m = nn.Linear(3, 2)
    w = m.weight
    sd = {"weight": np.arange(6.0).reshape(2, 3), "bias": cnnlab.tensor([1, 2])}  # float64 and int64 values
    m.load_state_dict(sd)
    assert m.weight is w and w.dtype == cnnlab.float32 and w.requires_grad
    assert w.tolist() == [[0, 1, 2], [3, 4, 5]] and m.bias.tolist() == [1.0, 2.0]
    sd["weight"][0, 0] = 99  # a copy, not shared
    assert w.tolist()[0][0] == 0


def test_load_state_dict_reports_every_problem_like_torch():
    def bad_state(lib_tensor):
        return OrderedDict([("features.0.weight", lib_tensor(np.zeros((5, 3, 5, 5)))),
                            ("features.0.bias", lib_tensor(np.zeros(4))),
                            ("features.3.weight", lib_tensor(np.zeros((10, 5, 5, 5)))),
                            ("features.3.bias", lib_tensor(np.zeros(10))),
                            ("fc1.weight", lib_tensor(np.zeros((32, 250)))),
                            ("fc1.bias", lib_tensor(np.zeros(32))),
                            ("fc2.weight", lib_tensor(np.zeros((2, 32)))),
                            ("fc9.weight", lib_tensor(np.zeros(1))), ("features.0.extra", lib_tensor(np.zeros(1)))])

    with pytest.raises(RuntimeError) as pt_err:
        small_cnn(torch.nn).load_state_dict(bad_state(torch.tensor))
    with pytest.raises(RuntimeError) as cn_err:
        small_cnn(nn).load_state_dict(bad_state(cnnlab.tensor))
    assert str(cn_err.value) == str(pt_err.value).replace("torch.Size", "cnnlab.Size")
    assert str(cn_err.value).startswith('Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: '
                                        '"fc2.bias". \n\tUnexpected key(s) in state_dict: "fc9.weight", '
                                        '"features.0.extra". \n\tsize mismatch for features.0.bias')
    assert isinstance(cn_err.value, ValueError)  # a ShapeError: both except ValueError and RuntimeError work


def test_load_state_dict_non_strict():
    m = small_cnn(nn)
    sd = {k: v for k, v in m.state_dict().items() if not k.startswith("fc2")}
    sd["extra.weight"] = np.zeros(3)
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc2.weight", "fc2.bias"] and result.unexpected_keys == ["extra.weight"]
    missing, unexpected = result
    assert missing == result.missing_keys
    assert repr(result) == ("IncompatibleKeys(missing_keys=['fc2.weight', 'fc2.bias'], "
                            "unexpected_keys=['extra.weight'])").replace("Incompat", "_Incompat")
    sd["fc1.bias"] = np.zeros(3)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.bias: copying a param with shape "
                                           r"cnnlab.Size\(\[3\]\) from checkpoint, the shape in current model is "
                                           r"cnnlab.Size\(\[32\]\)."):
        m.load_state_dict(sd, strict=False)  # shape mismatches are errors even when not strict, as PyTorch


def test_load_state_dict_rejects_non_arrays_and_non_mappings():
    m = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias", expected cnnlab.Tensor or a '
                                           "NumPy array from checkpoint but received <class 'str'>"):
        m.load_state_dict({"weight": np.zeros((1, 2)), "bias": "zero"})
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([("weight", np.zeros((1, 2)))])


def test_load_state_dict_without_num_batches_tracked_and_assign():
    bn = nn.BatchNorm1d(3)
    sd = {k: v for k, v in torch.nn.BatchNorm1d(3).state_dict().items() if k != "num_batches_tracked"}
    assert repr(bn.load_state_dict(sd)) == "<All keys matched successfully>"  # an old-format checkpoint
    lin = nn.Linear(2, 2)
    old = lin.weight
    lin.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)}, assign=True)
    assert lin.weight is not old and isinstance(lin.weight, nn.Parameter) and lin.weight.dtype == cnnlab.float64


def test_load_state_dict_one_element_to_scalar_compat():
    m = nn.Module()
    m.register_buffer("step", cnnlab.tensor(0))
    m.load_state_dict({"step": np.array([5])})
    assert m.step.shape == () and int(m.step) == 5


def test_deepcopy_and_pickle_keep_parameters():
    m = bn_model(nn)
    m2 = copy.deepcopy(m)
    assert all(isinstance(p, nn.Parameter) for p in m2.parameters())
    assert list(m2.state_dict()) == list(m.state_dict())
    with cnnlab.no_grad():
        m2.stem[0].weight.fill_(0.0)
    assert m.stem[0].weight.detach().numpy().any()
    m = m.stem  # pickle needs classes defined at module level
    m3 = pickle.loads(pickle.dumps(m))
    assert isinstance(m3[0].weight, nn.Parameter) and m3[0].weight.requires_grad
    x = cnnlab.randn(1, 3, 8, 8)
    m.eval(), m3.eval()
    np.testing.assert_array_equal(m(x).detach().numpy(), m3(x).detach().numpy())


# ---- Parameter ------------------------------------------------------------------------------------------------------------
def test_parameter():
    t = cnnlab.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, cnnlab.Tensor) and p.requires_grad and p.is_leaf
    assert np.shares_memory(p.detach().numpy(), t.numpy())
    assert repr(p) == repr(torch.nn.Parameter(torch.zeros(2, 3)))
    assert repr(nn.Parameter(cnnlab.ones(2), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.ones(2), requires_grad=False))
    assert type(p * 2) is cnnlab.Tensor
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients") as info:
        nn.Parameter(cnnlab.tensor([1, 2]))
    assert isinstance(info.value, cnnlab.errors.DTypeError)  # what the docstring promises
