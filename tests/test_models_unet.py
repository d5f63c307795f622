"""U-Net against the paper (Ronneberger et al., 2015, figure 1: 23 convolutions, the 572x572 tile's map sizes
down to 388x388) and against a U-Net written here in PyTorch, with copied weights."""
import numpy as np
import pytest

import cnnlab
from cnnlab import models
from cnnlab.errors import ShapeError
from modelcheck import assert_same_state, compare

torch = pytest.importorskip("torch")
tnn = torch.nn


class TorchUNet(tnn.Module):
    """An independent U-Net in PyTorch with the same parameter names (encoder.i, up.i, decoder.i, head)."""

    def __init__(self, cin, classes, base, depth, padding, batch_norm, bilinear):
        super().__init__()

        def double(a, b):
            layers = []
            for c in (a, b):
                layers += [tnn.Conv2d(c, b, 3, padding=padding, bias=not batch_norm)]
                layers += [tnn.BatchNorm2d(b)] if batch_norm else []
                layers += [tnn.ReLU()]
            return tnn.Sequential(*layers)

        w = [base << i for i in range(depth + 1)]
        self.encoder = tnn.ModuleList([double(cin, w[0])] + [double(w[i], w[i + 1]) for i in range(depth)])
        if bilinear:
            self.up = tnn.ModuleList([tnn.Sequential(tnn.Upsample(scale_factor=2, mode="bilinear"),
                                                     tnn.Conv2d(w[i + 1], w[i], 1)) for i in reversed(range(depth))])
        else:
            self.up = tnn.ModuleList([tnn.ConvTranspose2d(w[i + 1], w[i], 2, stride=2) for i in reversed(range(depth))])
        self.decoder = tnn.ModuleList([double(2 * w[i], w[i]) for i in reversed(range(depth))])
        self.head = tnn.Conv2d(w[0], classes, 1)

    def forward(self, x):
        skips = []
        for block in self.encoder[:-1]:
            x = block(x)
            skips.append(x)
            x = torch.nn.functional.max_pool2d(x, 2)
        x = self.encoder[-1](x)
        for up, block in zip(self.up, self.decoder):
            x = up(x)
            s = skips.pop()
            dh, dw = s.shape[2] - x.shape[2], s.shape[3] - x.shape[3]
            s = s[:, :, dh // 2:s.shape[2] - (dh - dh // 2), dw // 2:s.shape[3] - (dw - dw // 2)]
            x = block(torch.cat([s, x], 1))
        return self.head(x)


def test_the_papers_network_23_convolutions_and_the_572_tile_map_sizes():
    model = models.unet()
    convs = [m for m in model.modules() if isinstance(m, (cnnlab.nn.Conv2d, cnnlab.nn.ConvTranspose2d))]
    assert len(convs) == 23
    ref = TorchUNet(1, 2, 64, 4, 0, False, False)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ref.parameters()) == 31030658
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    assert model.output_size(572) == 388
    # the map sizes of figure 1, on a narrow copy of the network (the sizes do not depend on the width)
    narrow = models.unet(base_channels=2)
    sizes = []
    for block in list(narrow.encoder) + list(narrow.decoder):
        block.register_forward_hook(lambda m, i, out: sizes.append(tuple(out.shape[1:])))
    with cnnlab.no_grad():
        out = narrow(cnnlab.zeros(1, 1, 572, 572))
    assert out.shape == (1, 2, 388, 388)
    assert [s[1] for s in sizes] == [568, 280, 136, 64, 28, 52, 100, 196, 388]
    assert [s[0] for s in sizes] == [2, 4, 8, 16, 32, 16, 8, 4, 2]


@pytest.mark.parametrize("kwargs, size", [
    ({"base_channels": 4, "depth": 2, "padding": 0}, 60),
    ({"base_channels": 4, "depth": 3, "padding": 1}, 32),
    ({"base_channels": 3, "depth": 2, "padding": 1, "batch_norm": True}, 24),
    ({"base_channels": 4, "depth": 2, "padding": 0, "bilinear": True, "batch_norm": True}, 44),
    ({"base_channels": 4, "depth": 0, "padding": 1, "in_channels": 3, "num_classes": 5}, 9),
])
def test_matches_a_torch_unet_with_copied_weights_in_eval_and_train_mode(kwargs, size):
    full = dict(in_channels=1, num_classes=2, base_channels=64, depth=4, padding=0, batch_norm=False, bilinear=False)
    full.update(kwargs)
    model = models.unet(**full)
    torch.manual_seed(0)
    ref = TorchUNet(full["in_channels"], full["num_classes"], full["base_channels"], full["depth"],
                    full["padding"], full["batch_norm"], full["bilinear"]).double()
    model.double().load_state_dict({k: cnnlab.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, full["in_channels"], size, size))
    out = compare(model, ref, x, train=False)
    assert out[0].shape[2] == model.output_size(size) == (size if full["padding"] else out[0].shape[2])
    compare(model, ref, x, train=True)
    assert_same_state(model, ref)


def test_sizes_that_do_not_fit_name_the_nearest_valid_sizes():
    with pytest.raises(ShapeError, match=r"input size must be divisible by 2\*\*depth. Got H=100 with depth=4, "
                                         r"padding=1; nearest valid sizes: 96, 112"):
        models.unet(base_channels=2, padding=1)(cnnlab.zeros(1, 1, 100, 96))
    with pytest.raises(ShapeError, match=r"Got W=570 with depth=4, padding=0; nearest valid sizes: 556, 572"):
        models.unet(base_channels=2)(cnnlab.zeros(1, 1, 572, 570))
    # Below the smallest valid unpadded size (188 at depth 4) the message named no size at all.
    with pytest.raises(ShapeError, match=r"Got H=32 with depth=4, padding=0; nearest valid sizes: 188\."):
        models.unet(base_channels=2)(cnnlab.zeros(1, 1, 32, 32))
    with pytest.raises(ShapeError, match=r"input must be \(N, 1, H, W\). Got input.shape=\(1, 3, 32, 32\)"):
        models.unet(base_channels=2, padding=1)(cnnlab.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="padding must be 0 .* or 1 .*. Got padding=2"):
        models.unet(padding=2)
    with pytest.raises(ValueError, match="depth must be an integer >= 0. Got depth=-1"):
        models.unet(depth=-1)
    small = models.unet(depth=2, padding=0)
    # two unpadded convolutions then a pool, twice, then two more: s - 4 and (s - 4) / 2 - 4 even; the bottom
    # map b = ((s - 4) / 2 - 4) / 2 - 4 must survive the way up, 2 * (2 * b - 4) - 4 > 0: s = 44, 48, 52, ...
    assert small.valid_sizes(20, 60) == [44, 48, 52, 56, 60] and small.output_size(45) is None
    assert small.output_size(44) == 4
    assert models.get_model("unet", padding=1, base_channels=2).output_size(64) == 64
