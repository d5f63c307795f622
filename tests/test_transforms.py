"""cnnlab.data.transforms against Pillow and hand-computed expectations."""
import numpy as np
import pytest

import cnnlab
from cnnlab.data import transforms as T

Image = pytest.importorskip("PIL.Image")


def _img(h=6, w=8, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


def test_to_tensor_layout_and_scale():
    a = _img()
    t = T.ToTensor()(a)
    assert t.shape == (3, 6, 8) and t.dtype == cnnlab.float32
    np.testing.assert_allclose(t.numpy()[1], a[:, :, 1] / 255.0, rtol=1e-6)
    assert T.ToTensor()(Image.fromarray(a[:, :, 0])).shape == (1, 6, 8)


def test_normalize():
    t = T.ToTensor()(_img())
    out = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.5))(t).numpy()
    np.testing.assert_allclose(out[2], (t.numpy()[2] - 0.3) / 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="std must not contain zeros"):
        T.Normalize((0.5,), (0.0,))


def test_center_crop_and_pad_kinds():
    a = _img(7, 9)
    np.testing.assert_array_equal(T.CenterCrop((3, 5))(a), a[2:5, 2:7])
    t = T.CenterCrop(3)(T.ToTensor()(a))
    assert t.shape == (3, 3, 3)
    pil = T.CenterCrop(4)(Image.fromarray(a))
    assert pil.size == (4, 4)


def test_random_crop_with_padding_is_seeded():
    a = _img(8, 8)
    cnnlab.manual_seed(5)
    c1 = T.RandomCrop(8, padding=2)(a)
    cnnlab.manual_seed(5)
    c2 = T.RandomCrop(8, padding=2)(a)
    np.testing.assert_array_equal(c1, c2)
    padded = np.pad(a, ((2, 2), (2, 2), (0, 0)))
    assert any(np.array_equal(c1, padded[i:i + 8, j:j + 8]) for i in range(5) for j in range(5))
    with pytest.raises(ValueError, match="the crop is larger than the image"):
        T.RandomCrop(10)(a)


def test_flips():
    a = _img()
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(a), a[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(a), a)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(a), a[::-1])


def test_rotation_matches_pillow():
    a = _img(9, 9, 1)[:, :, 0]
    out = T.RandomRotation((90, 90))(a)
    np.testing.assert_array_equal(out, np.asarray(Image.fromarray(a).rotate(90)))
    np.testing.assert_array_equal(out, np.rot90(a))


def test_grayscale_matches_pillow_luma():
    a = _img()
    g = T.Grayscale()(a)
    ref = np.asarray(Image.fromarray(a).convert("L")).astype(int)
    assert g.shape == (6, 8) and np.abs(g.astype(int) - ref).max() <= 1
    assert T.Grayscale(3)(a).shape == (6, 8, 3)


def test_resize_matches_pillow():
    a = _img(10, 20, 1)[:, :, 0]
    out = T.Resize((5, 7))(a)
    ref = np.asarray(Image.fromarray(a.astype(np.float32), mode="F").resize((7, 5), Image.BILINEAR))
    np.testing.assert_array_equal(out, np.clip(np.rint(ref), 0, 255).astype(np.uint8))
    assert T.Resize(5)(a).shape == (5, 10)  # the smaller edge becomes 5


def test_compose_pipeline():
    pipe = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    x = pipe(np.zeros((28, 28), np.uint8))
    assert x.shape == (1, 28, 28) and np.allclose(x.numpy(), -0.1307 / 0.3081)
    assert "ToTensor()" in repr(pipe)
