"""cnnlab.summary against torchinfo (run on the same models built in PyTorch): parameters per row and in total,
output sizes per row, depth and call order, shared modules; mult-adds against torchinfo's count less the bias
terms; the lecture notes' parameter table; teaching errors that name the layer by its path."""
import numpy as np
import pytest

import cnnlab
import cnnlab.nn as cnn
from cnnlab.inspect import summary

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")


def notes_net(lib):
    """Seed 001's network: conv 5x5x8 (608), pool, conv 5x5x16 (3,216), pool, fc 400 -> 120 (48,120) -> 84 -> 10."""
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def res_net(lib):
    """Residual blocks with a strided 1x1 downsample, batch norm, in-place ReLU, functional calls in forward."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None if stride == 1 and cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(3, 2, 1))
            self.layer1 = nn.Sequential(Block(8, 8, 1), Block(8, 8, 1))
            self.layer2 = nn.Sequential(Block(8, 16, 2), Block(16, 16, 1))
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, 5)

        def forward(self, x):
            x = self.layer2(self.layer1(self.stem(x)))
            return self.fc(lib.flatten(self.avgpool(x), 1))
    return Net()


def cat_net(lib):
    """Concatenated branches, a module used twice (shared), grouped and dilated convs, a frozen layer."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(4, 6, 3, padding=1)
            self.b = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2))
            self.pool = nn.MaxPool2d(2)
            self.head = nn.Conv2d(12, 3, 1)

        def forward(self, x):
            y = lib.cat([self.a(x), nn.functional.relu(self.b(x))], 1)
            return self.head(self.pool(self.pool(y)))
    net = Net()
    net.a.requires_grad_(False)
    return net


def _pair(build):
    torch.manual_seed(0)
    tmodel = build(torch)
    cmodel = build(cnnlab)
    state = {k: v.detach().numpy() for k, v in tmodel.state_dict().items()}
    cmodel.load_state_dict(state)
    return cmodel, tmodel


@pytest.mark.parametrize("build, size", [(notes_net, (2, 3, 32, 32)), (res_net, (1, 3, 64, 48)),
                                         (cat_net, (3, 4, 20, 20))])
def test_rows_and_totals_match_torchinfo(build, size):
    cmodel, tmodel = _pair(build)
    ours = summary(cmodel, size, depth=10)
    ref = torchinfo.summary(tmodel, size, depth=10, verbose=0)
    assert ours.total_params == ref.total_params
    assert ours.trainable_params == ref.trainable_params
    assert len(ours.summary_list) == len(ref.summary_list)
    for mine, theirs in zip(ours.summary_list, ref.summary_list):
        assert (mine.class_name, mine.depth, mine.output_size, mine.is_recursive) == \
            (theirs.class_name, theirs.depth, theirs.output_size, theirs.is_recursive)
        assert mine.var_name == theirs.var_name or mine.depth == 0
        if not theirs.is_recursive:
            assert mine.num_params == theirs.num_params, mine
        if isinstance(mine.module, (cnn.Conv2d, cnn.Linear)):  # torchinfo counts the bias; the _ops convention not
            bias = getattr(theirs.module, "bias", None)
            positions = int(np.prod(theirs.output_size)) // theirs.output_size[1 if mine.kernel_size else -1] \
                if bias is not None and mine.macs else 0
            assert mine.macs == theirs.macs - (bias.numel() * positions if bias is not None else 0), mine


def test_the_lecture_notes_parameter_table():
    s = summary(notes_net(cnnlab), (1, 3, 32, 32))
    params = [r.num_params for r in s.summary_list if r.num_params]
    assert params[1:4] == [608, 3216, 48120]
    assert s.summary_list[0].num_params == s.total_params == 608 + 3216 + 48120 + 10164 + 850
    text = str(s)
    assert "608" in text and "3,216" in text and "48,120" in text and "Total params: 62,958" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_mult_adds_formula_and_geometry_columns():
    s = summary(cat_net(cnnlab), (3, 4, 20, 20), depth=10)
    rows = {}
    for r in s.summary_list:
        rows.setdefault(r.path, r)
    assert rows["a"].macs == 3 * 6 * 4 * 9 * 20 * 20  # N * C_out * C_in * k * k * H_out * W_out
    assert rows["b.1"].macs == 3 * 6 * 2 * 9 * 20 * 20  # groups=2: C_in / groups
    assert rows["b.1"].kernel_size == (3, 3) and rows["b.1"].padding == ((2, 2), (2, 2))
    assert rows["b.1"].dilation == (2, 2) and rows["b.1"].receptive_field == (5, 5)
    assert rows["pool"].stride == (2, 2) and rows["pool"].jump == (2, 2)
    assert [r.receptive_field for r in s.summary_list if r.path == "pool"] == [(6, 6), (8, 8)]
    assert s.total_mult_adds == sum(r.macs for r in s.summary_list)
    assert rows["a"].trainable is False and rows[""].trainable == "partial"
    assert "(recursive)" in str(s)
    text = str(summary(cat_net(cnnlab), (3, 4, 20, 20), col_names=("output_size", "jump", "activation_memory",
                                                                   "trainable", "input_size")))
    assert "Act. mem" in text and "Trainable" in text and "partial" in text


def test_depth_hides_rows_but_not_totals():
    s = summary(res_net(cnnlab), (1, 3, 64, 48), depth=1)
    text = str(s)
    assert "Block" not in text and "Sequential (layer1)" in text
    assert f"Total params: {sum(p.numel() for p in res_net(cnnlab).parameters()):,}" in text


def test_summary_leaves_mode_and_statistics_alone():
    net = res_net(cnnlab)
    before = net.stem[1].running_mean.clone()
    summary(net, (2, 3, 32, 32))
    assert net.training and cnnlab.equal(before, net.stem[1].running_mean)
    net.eval()
    summary(net, (2, 3, 32, 32), mode="train")
    assert not net.training


class _Features(cnn.Module):
    def __init__(self):
        super().__init__()
        self.features = cnn.Sequential(*[cnn.Identity() for _ in range(12)], cnn.Conv2d(3, 6, 5))
        self.classifier = cnn.Sequential(cnn.Flatten(), cnn.Linear(9216, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def test_teaching_error_names_the_layer_by_its_path():
    with pytest.raises(ValueError) as info:
        summary(_Features(), (1, 3, 16, 16))
    assert str(info.value) == ("Linear 'classifier.1' expects in_features=9216 but the flattened output of "
                               "'features.12' has 6 x 12 x 12 = 864 values; set in_features=864 or use nn.LazyLinear.")
    assert isinstance(info.value, RuntimeError)
    net = cnn.Sequential(cnn.Conv2d(3, 16, 3), cnn.Conv2d(32, 8, 3))
    with pytest.raises(ValueError, match=r"Conv2d '1' expects in_channels=32 but the output of '0' has 16 channels; "
                                         r"set in_channels=16 or use nn.LazyConv2d."):
        summary(net, (1, 3, 16, 16))
    net = cnn.Sequential(cnn.Conv2d(3, 16, 3), cnn.BatchNorm2d(8))
    with pytest.raises(ValueError, match=r"BatchNorm2d '1' expects num_features=8 but the output of '0' has 16 "):
        summary(net, (1, 3, 16, 16))


def test_check_model_for_a_first_batch():
    from cnnlab.inspect import check_model
    with pytest.raises(ValueError, match="Linear 'classifier.1' expects in_features=9216"):
        check_model(_Features(), cnnlab.zeros(2, 3, 16, 16))
    assert check_model(notes_net(cnnlab), cnnlab.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_argument_errors():
    with pytest.raises(TypeError, match="give input_size"):
        summary(notes_net(cnnlab))
    with pytest.raises(ValueError, match="unknown column"):
        summary(notes_net(cnnlab), (1, 3, 32, 32), col_names=("params",))
    with pytest.raises(ValueError, match="input_size must be a tuple of positive ints"):
        summary(notes_net(cnnlab), (1, 3, 0, 32))
    s = summary(notes_net(cnnlab), input_data=cnnlab.zeros(1, 3, 32, 32))
    assert s.input_size == [1, 3, 32, 32]


def test_checked_forward_for_a_trainers_first_batch():
    from cnnlab.inspect import checked_forward
    net = _Features()
    with pytest.raises(ValueError, match="Linear 'classifier.1' expects in_features=9216 but the flattened output"):
        checked_forward(net, cnnlab.zeros(2, 3, 16, 16))
    with pytest.raises(ValueError) as plain:  # without the check: the op's own message, which names no layer
        checked_forward(net, cnnlab.zeros(2, 3, 16, 16), check=False)
    assert "classifier.1" not in str(plain.value)
    assert not net.classifier[1]._forward_pre_hooks  # the hooks are gone afterwards


def test_any_failure_inside_a_layer_names_the_layer():
    net = cnn.Sequential(cnn.Conv2d(1, 2, 3), cnn.Sequential(cnn.MaxPool2d(4), cnn.Conv2d(2, 2, 3)))
    with pytest.raises(ValueError, match=r"summary: Conv2d '1.1' failed on an input of shape \(1, 2, 2, 2\): "
                                         r"conv2d: output size would be 0 or less"):
        summary(net, (1, 1, 10, 10))


def test_mult_adds_of_transposed_and_1d_3d_convolutions():
    net = cnn.Sequential(cnn.ConvTranspose2d(4, 6, 3, stride=2, groups=2), cnn.Flatten(2), cnn.Conv1d(6, 2, 5))
    s = summary(net, (2, 4, 5, 7))
    rows = s.summary_list
    assert rows[1].macs == 2 * 5 * 7 * 4 * 3 * 9  # every input value meets each of its group's weights once
    assert rows[3].macs == 2 * 2 * 161 * 6 * 5  # (11 * 15 - 4) positions
    s3 = summary(cnn.Conv3d(2, 3, (1, 2, 3)), (1, 2, 4, 5, 6))
    assert s3.total_mult_adds == 3 * 2 * 6 * 4 * 4 * 4 and s3.summary_list[0].receptive_field == (1, 2, 3)


def test_receptive_fields_of_blocks_that_downsample():
    rows = {r.path: r for r in summary(res_net(cnnlab), (1, 3, 64, 48)).summary_list}
    # stem 7 (jump 2) -> pool 11 (jump 4) -> 4 convs of layer1 +32 -> 43; layer2: 3x3 s2 +8, three 3x3 at jump 8
    assert rows["layer1"].receptive_field == (43, 43) and rows["layer2.0"].receptive_field == (67, 67)
    assert rows["layer2"].receptive_field == (99, 99) and rows["layer2"].jump == (8, 8)
