"""The model zoo's examples run (reduced) and reach what they claim, and the benchmark's zoo builders give the
same network in both libraries."""
import importlib.util
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(ROOT, "examples", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_transfer_learning_example_reduced():
    lines = []
    result = _example("transfer_learning").run(quick=True, log=lines.append)
    assert result["pretrain"] > 0.8  # digits 0-4, five classes: chance is 0.2
    for way in ("frozen", "finetune", "scratch"):
        assert len(result[way]) == 1 and result[way][0] > 0.6, (way, result)  # digits 5-9 from 50 labels
    assert any(line.strip().startswith("(a) pretrained features frozen + new head") for line in lines)


def test_transfer_learning_example_data_helpers():
    ex = _example("transfer_learning")
    x, y = ex.digits(True, ex.NEW)
    assert x.shape[1:] == (1, 28, 28) and set(np.unique(y)) == {0, 1, 2, 3, 4}
    few_x, few_y = ex.few_labels(x, y, 3, seed=0)
    assert np.bincount(few_y).tolist() == [3] * 5


def test_unet_example_reduced_segments_circles(tmp_path):
    png = tmp_path / "unet.png"
    result = _example("unet_segmentation").run(quick=True, png=str(png), log=lambda *a: None)
    # marking every pixel as circle scores about 0.08; a network that cannot tell circles from squares by their
    # shape and marks every bright pixel scores about 0.5 of that union at best, and all-background scores 0
    assert result["chance"] < 0.15 and result["iou"] > 0.3, result
    Image = pytest.importorskip("PIL.Image")
    with Image.open(png) as im:
        assert im.size == (8 * 34 + 2, 3 * 34 + 2)  # 8 columns, 3 rows (input, mask, prediction) of 32 + 2


def test_unet_example_masks_mark_circles_only():
    ex = _example("unet_segmentation")
    x, masks = ex.shapes(50, seed=3, noise=0.0)
    bright = x[:, 0] > 0.4
    assert (masks == 1).sum() > 0 and (bright & (masks == 0)).sum() > 0  # squares are bright but not marked
    assert not (masks.astype(bool) & ~bright).any()  # every marked pixel is a shape's pixel
    assert ex.iou(masks, masks) == 1.0 and ex.iou(np.zeros_like(masks), masks) == 0.0


@pytest.mark.parametrize("name", ["mobilenet_v2", "convnext_tiny"])
def test_benchmark_zoo_builders_compute_the_same_function(name):
    pytest.importorskip("tv")  # torchvision as in tests/tv.py, or skip
    import torch

    import cnnlab
    from benchmarks import cases, models
    build = models.zoo(name, num_classes=10)
    state, _ = cases._initial_state(build, 0)
    ours = cases._network(cases.library("cnnlab"), build, state).eval()
    theirs = cases._network(cases.library("torch"), build, state).eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64), dtype=np.float32)
    with cnnlab.no_grad(), torch.no_grad():
        got, want = ours(cnnlab.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
