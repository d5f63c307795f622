"""nn.functional results carry PyTorch's grad_fn name: the node PyTorch records last for the op, with its overload
index (`NllLossBackward0`, `MeanBackward1`, `SqueezeBackward1` for a 1-d pool that runs as the 2-d one). Each case
runs in both libraries on the same float64 inputs and compares `grad_fn.name()` and the cnnlab repr."""
import numpy as np
import pytest

from oracle import CN, PT, rand

X4, X3, X5, X2 = rand(2, 3, 6, 6, seed=1), rand(2, 3, 8, seed=2), rand(1, 2, 4, 4, 4, seed=3), rand(4, 5, seed=4)
P2 = rand(4, 5, seed=5, low=0.05, high=0.95)  # probabilities
IDX = np.array([1, 0, 4, 2])
IDX4 = np.random.default_rng(6).integers(0, 3, size=(2, 6, 6))
IDX3 = np.random.default_rng(7).integers(0, 3, size=(2, 8))


def _t(lib, a, requires_grad=True):
    return lib.tensor(a, requires_grad)


def _i(lib, a):
    return lib.tensor(a, False)


REDUCTIONS = ("mean", "sum", "none")
CASES = {}
for r in REDUCTIONS:
    CASES.update({
        f"cross_entropy-{r}": lambda L, r=r: L.F.cross_entropy(_t(L, X2), _i(L, IDX), reduction=r),
        f"cross_entropy-4d-{r}": lambda L, r=r: L.F.cross_entropy(_t(L, X4), _i(L, IDX4), reduction=r),
        f"cross_entropy-3d-{r}": lambda L, r=r: L.F.cross_entropy(_t(L, X3), _i(L, IDX3), reduction=r),
        f"cross_entropy-label_smoothing-{r}": lambda L, r=r: L.F.cross_entropy(_t(L, X2), _i(L, IDX), reduction=r,
                                                                                label_smoothing=0.1),
        f"cross_entropy-probs-{r}": lambda L, r=r: L.F.cross_entropy(_t(L, X2), _t(L, P2, False), reduction=r),
        f"nll_loss-{r}": lambda L, r=r: L.F.nll_loss(_t(L, X2), _i(L, IDX), reduction=r),
        f"nll_loss-4d-{r}": lambda L, r=r: L.F.nll_loss(_t(L, X4), _i(L, IDX4), reduction=r),
        f"nll_loss-3d-{r}": lambda L, r=r: L.F.nll_loss(_t(L, X3), _i(L, IDX3), reduction=r),
        f"mse_loss-{r}": lambda L, r=r: L.F.mse_loss(_t(L, X2), _t(L, P2, False), reduction=r),
        f"mse_loss-weight-{r}": lambda L, r=r: L.F.mse_loss(_t(L, X2), _t(L, P2, False), reduction=r,
                                                            weight=_t(L, P2, False)),
        f"l1_loss-{r}": lambda L, r=r: L.F.l1_loss(_t(L, X2), _t(L, P2), reduction=r),
        f"l1_loss-weight-{r}": lambda L, r=r: L.F.l1_loss(_t(L, X2), _t(L, P2, False), reduction=r,
                                                          weight=_t(L, P2, False)),
        f"smooth_l1_loss-{r}": lambda L, r=r: L.F.smooth_l1_loss(_t(L, X2), _t(L, P2, False), reduction=r),
        f"smooth_l1_loss-beta0-{r}": lambda L, r=r: L.F.smooth_l1_loss(_t(L, X2), _t(L, P2, False), reduction=r,
                                                                       beta=0.0),
        f"huber_loss-{r}": lambda L, r=r: L.F.huber_loss(_t(L, X2), _t(L, P2, False), reduction=r),
        f"huber_loss-weight-{r}": lambda L, r=r: L.F.huber_loss(_t(L, X2), _t(L, P2, False), reduction=r,
                                                                weight=_t(L, P2, False)),
        f"binary_cross_entropy-{r}": lambda L, r=r: L.F.binary_cross_entropy(_t(L, P2), _t(L, P2, False),
                                                                             reduction=r),
        f"binary_cross_entropy_with_logits-{r}": lambda L, r=r: L.F.binary_cross_entropy_with_logits(
            _t(L, X2), _t(L, P2, False), reduction=r),
        f"kl_div-{r}": lambda L, r=r: L.F.kl_div(_t(L, X2), _t(L, P2, False), reduction=r),
        f"kl_div-log_target-{r}": lambda L, r=r: L.F.kl_div(_t(L, X2), _t(L, X2, False), reduction=r,
                                                            log_target=True),
        f"margin_ranking_loss-{r}": lambda L, r=r: L.F.margin_ranking_loss(_t(L, X2[0]), _t(L, X2[1]),
                                                                           _t(L, np.sign(X2[2]), False), reduction=r),
        f"multi_margin_loss-{r}": lambda L, r=r: L.F.multi_margin_loss(_t(L, X2), _i(L, IDX), reduction=r),
        f"multilabel_margin_loss-{r}": lambda L, r=r: L.F.multilabel_margin_loss(
            _t(L, X2), _i(L, np.array([[1, 0, -1, 2, 2]] * 4)), reduction=r),
    })
CASES["kl_div-batchmean"] = lambda L: L.F.kl_div(_t(L, X2), _t(L, P2, False), reduction="batchmean")

for n, x in ((1, X3), (2, X4), (3, X5)):
    CASES.update({
        f"max_pool{n}d": lambda L, n=n, x=x: getattr(L.F, f"max_pool{n}d")(_t(L, x), 2),
        f"max_pool{n}d-indices": lambda L, n=n, x=x: getattr(L.F, f"max_pool{n}d")(_t(L, x), 2,
                                                                                   return_indices=True)[0],
        f"avg_pool{n}d": lambda L, n=n, x=x: getattr(L.F, f"avg_pool{n}d")(_t(L, x), 2),
        f"lp_pool{n}d": lambda L, n=n, x=x: getattr(L.F, f"lp_pool{n}d")(_t(L, x), 2, 2),
        f"adaptive_avg_pool{n}d-1": lambda L, n=n, x=x: getattr(L.F, f"adaptive_avg_pool{n}d")(_t(L, x), 1),
        f"adaptive_avg_pool{n}d-3": lambda L, n=n, x=x: getattr(L.F, f"adaptive_avg_pool{n}d")(_t(L, x), 3),
        f"adaptive_max_pool{n}d-1": lambda L, n=n, x=x: getattr(L.F, f"adaptive_max_pool{n}d")(_t(L, x), 1),
        f"adaptive_max_pool{n}d-3": lambda L, n=n, x=x: getattr(L.F, f"adaptive_max_pool{n}d")(_t(L, x), 3),
        f"max_unpool{n}d": lambda L, n=n, x=x: getattr(L.F, f"max_unpool{n}d")(
            *getattr(L.F, f"max_pool{n}d")(_t(L, x), 2, return_indices=True), 2),
    })
CASES.update({
    "max_pool2d-unbatched": lambda L: L.F.max_pool2d(_t(L, X4[0]), 3, 2, 1, 1, True),
    "adaptive_avg_pool2d-1-unbatched": lambda L: L.F.adaptive_avg_pool2d(_t(L, X4[0]), (1, 1)),
    "lp_pool2d-inf": lambda L: L.F.lp_pool2d(_t(L, X4), float("inf"), 2),
    "dropout": lambda L: L.F.dropout(_t(L, X4), 0.5),
    "dropout-p1": lambda L: L.F.dropout(_t(L, X4), 1.0),
    "dropout1d": lambda L: L.F.dropout1d(_t(L, X3), 0.5),
    "dropout2d": lambda L: L.F.dropout2d(_t(L, X4), 0.5),
    "dropout3d": lambda L: L.F.dropout3d(_t(L, X5), 0.5),
    "alpha_dropout": lambda L: L.F.alpha_dropout(_t(L, X4), 0.5, training=True),
    "alpha_dropout-p1": lambda L: L.F.alpha_dropout(_t(L, X4), 1.0, training=True),
    "feature_alpha_dropout": lambda L: L.F.feature_alpha_dropout(_t(L, X4), 0.5, training=True),
    "gelu-tanh": lambda L: L.F.gelu(_t(L, X4), approximate="tanh"),
    "elu-alpha": lambda L: L.F.elu(_t(L, X4), 0.5),
    "softmax": lambda L: L.F.softmax(_t(L, X4), dim=1),
    "log_softmax": lambda L: L.F.log_softmax(_t(L, X4), dim=1),
    "softmin": lambda L: L.F.softmin(_t(L, X4), dim=1),
    "interpolate-linear": lambda L: L.F.interpolate(_t(L, X3), scale_factor=2, mode="linear"),
    "interpolate-nearest-1d": lambda L: L.F.interpolate(_t(L, X3), size=5),
    "interpolate-nearest-3d": lambda L: L.F.interpolate(_t(L, X5), scale_factor=2),
    "interpolate-nearest-exact-3d": lambda L: L.F.interpolate(_t(L, X5), size=3, mode="nearest-exact"),
    "interpolate-trilinear": lambda L: L.F.interpolate(_t(L, X5), scale_factor=2, mode="trilinear"),
    "interpolate-bilinear-align_corners": lambda L: L.F.interpolate(_t(L, X4), size=(3, 5), mode="bilinear",
                                                                    align_corners=True),
    "interpolate-bilinear-antialias": lambda L: L.F.interpolate(_t(L, X4), size=(3, 5), mode="bilinear",
                                                                antialias=True),
    "interpolate-bicubic-antialias": lambda L: L.F.interpolate(_t(L, X4), size=(3, 5), mode="bicubic",
                                                               antialias=True),
    "interpolate-area-1d": lambda L: L.F.interpolate(_t(L, X3), size=3, mode="area"),
    "interpolate-area-to-1": lambda L: L.F.interpolate(_t(L, X4), size=1, mode="area"),
    "interpolate-area-3d": lambda L: L.F.interpolate(_t(L, X5), size=2, mode="area"),
    "upsample_bilinear": lambda L: L.F.upsample_bilinear(_t(L, X4), scale_factor=2),
    "conv2d": lambda L: L.F.conv2d(_t(L, X4), _t(L, rand(4, 3, 3, 3, seed=7)), _t(L, rand(4, seed=8))),
    "conv1d": lambda L: L.F.conv1d(_t(L, X3), _t(L, rand(4, 3, 3, seed=9))),
    "linear-2d-bias": lambda L: L.F.linear(_t(L, X2), _t(L, rand(3, 5, seed=10)), _t(L, rand(3, seed=11))),
    "linear-2d": lambda L: L.F.linear(_t(L, X2), _t(L, rand(3, 5, seed=10))),
    "batch_norm-train": lambda L: L.F.batch_norm(_t(L, X4), _i(L, np.zeros(3)), _i(L, np.ones(3)),
                                                 _t(L, rand(3, seed=12)), _t(L, rand(3, seed=13)), training=True),
    "batch_norm-eval": lambda L: L.F.batch_norm(_t(L, X4), _i(L, np.zeros(3)), _i(L, np.ones(3)),
                                                _t(L, rand(3, seed=12)), _t(L, rand(3, seed=13)), training=False),
    "layer_norm": lambda L: L.F.layer_norm(_t(L, X4), (6,), _t(L, rand(6, seed=14)), _t(L, rand(6, seed=15))),
    "flatten": lambda L: L.torch.flatten(_t(L, X4), 1),
    "view": lambda L: _t(L, X4).view(2, -1),
})
for act in ("relu", "leaky_relu", "elu", "selu", "celu", "gelu", "sigmoid", "tanh", "silu", "mish", "softplus",
            "hardtanh", "relu6", "hardswish", "hardsigmoid", "logsigmoid", "softsign"):
    CASES[act] = lambda L, act=act: getattr(L.F, act)(_t(L, X4))


@pytest.mark.parametrize("case", sorted(CASES))
def test_grad_fn_name_matches_torch(case):
    expected = CASES[case](PT).grad_fn.name()
    got = CASES[case](CN).grad_fn
    assert got.name() == expected
    assert repr(got) == f"<{expected}>"
