"""cnnlab.utils.make_grid and save_image against torchvision.utils' (the same inputs into both, float64)."""
import numpy as np
import pytest

import cnnlab
from cnnlab.utils import make_grid, save_image

torch = pytest.importorskip("torch")
from tv import tvm  # noqa: E402,F401  (makes torchvision importable on the CPU build of torch; skips without it)

import torchvision.utils as tvu  # noqa: E402


def _both(array):
    return cnnlab.tensor(array), torch.tensor(array)


def _same(ours, ref):
    assert isinstance(ours, cnnlab.Tensor)
    assert tuple(ours.shape) == tuple(ref.shape)
    assert ours.numpy().dtype == ref.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("shape", [(1, 3, 5, 7), (5, 3, 4, 6), (8, 1, 5, 5), (10, 3, 3, 2), (13, 4, 2, 3),
                                   (3, 2, 4, 4)])
@pytest.mark.parametrize("nrow,padding,pad_value", [(8, 2, 0.0), (3, 0, 0.0), (4, 5, 0.5), (1, 1, 1.0), (20, 3, -2.0)])
def test_layout_matches_torchvision(shape, nrow, padding, pad_value):
    x = np.random.default_rng(0).standard_normal(shape)
    ours, ref = _both(x)
    _same(make_grid(ours, nrow=nrow, padding=padding, pad_value=pad_value),
          tvu.make_grid(ref, nrow=nrow, padding=padding, pad_value=pad_value))


@pytest.mark.parametrize("value_range", [None, (-1.0, 1.0), (0, 3), (0.5, 0.5)])
@pytest.mark.parametrize("scale_each", [False, True])
@pytest.mark.parametrize("shape", [(6, 3, 4, 5), (4, 1, 3, 3), (1, 3, 4, 4), (3, 5, 5)])
def test_normalize_matches_torchvision(value_range, scale_each, shape):
    x = np.random.default_rng(1).standard_normal(shape) * 3 + 1
    ours, ref = _both(x)
    kwargs = dict(normalize=True, value_range=value_range, scale_each=scale_each, nrow=4)
    out = make_grid(ours, **kwargs)
    expected = tvu.make_grid(ref, **kwargs)
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours.numpy(), x)  # the input is left alone


@pytest.mark.parametrize("shape", [(7, 9), (1, 7, 9), (3, 7, 9), (4, 7, 9)])
def test_single_images_match_torchvision(shape):
    x = np.random.default_rng(2).random(shape)
    ours, ref = _both(x)
    _same(make_grid(ours), tvu.make_grid(ref))


def test_list_of_images_and_float32():
    xs = [np.random.default_rng(i).random((3, 6, 5)).astype(np.float32) for i in range(5)]
    _same(make_grid([cnnlab.tensor(a) for a in xs], nrow=2, padding=1),
          tvu.make_grid([torch.tensor(a) for a in xs], nrow=2, padding=1))


def test_uint8_images_match_torchvision():
    x = np.random.default_rng(3).integers(0, 256, (6, 3, 4, 4), dtype=np.uint8)
    ours, ref = _both(x)
    _same(make_grid(ours, nrow=4, pad_value=255), tvu.make_grid(ref, nrow=4, pad_value=255))


@pytest.mark.parametrize("shape,kwargs", [((6, 3, 8, 5), {"nrow": 4}), ((5, 1, 7, 7), {"normalize": True}),
                                          ((1, 3, 9, 4), {}), ((3, 4, 6, 6), {"padding": 0})])
def test_save_image_writes_torchvisions_pixels(tmp_path, shape, kwargs):
    Image = pytest.importorskip("PIL.Image")
    x = np.random.default_rng(4).random(shape) * 1.2 - 0.1  # some values outside [0, 1]: clamped
    ours, ref = _both(x)
    save_image(ours, tmp_path / "ours.png", **kwargs)
    tvu.save_image(ref, tmp_path / "ref.png", **kwargs)
    with Image.open(tmp_path / "ours.png") as a, Image.open(tmp_path / "ref.png") as b:
        assert a.format == "PNG" and a.mode == b.mode and a.size == b.size
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_save_image_format_and_file_object(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    import io
    buffer = io.BytesIO()
    save_image(cnnlab.rand(4, 3, 5, 5), buffer, format="PNG", nrow=2)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(buffer).size == (16, 16)


def test_does_not_build_a_graph_and_keeps_the_input():
    x = cnnlab.rand(4, 3, 5, 5, requires_grad=True)
    grid = make_grid(x, normalize=True)
    assert not grid.requires_grad
    assert float(x.detach().min()) >= 0  # unchanged by the in-place normalisation of the copy


@pytest.mark.parametrize("call,message,kind", [
    (lambda: make_grid(np.zeros((2, 3, 4, 4))), "make_grid: expected a tensor or a list of tensors. Got ndarray.",
     TypeError),
    (lambda: make_grid([cnnlab.zeros(3, 4, 4), np.zeros((3, 4, 4))]), "Got a list containing ndarray.", TypeError),
    (lambda: make_grid([]), "make_grid: expected a non-empty list of tensors", ValueError),
    (lambda: make_grid([cnnlab.zeros(3, 4, 4), cnnlab.zeros(3, 5, 4)]),
     "the images of a list must have one shape. Got shapes [(3, 4, 4), (3, 5, 4)].", ValueError),
    (lambda: make_grid(cnnlab.zeros(4)), "Got tensor.shape=(4,).", ValueError),
    (lambda: make_grid(cnnlab.zeros(2, 2, 3, 4, 4)), "Got tensor.shape=(2, 2, 3, 4, 4).", ValueError),
    (lambda: make_grid(cnnlab.zeros(0, 3, 4, 4)), "expected at least one image", ValueError),
    (lambda: make_grid(cnnlab.zeros(2, 3, 4, 4), normalize=True, value_range=[0, 1]),
     "value_range has to be a tuple (min, max) of numbers. Got value_range=[0, 1].", TypeError),
])
def test_errors(call, message, kind):
    with pytest.raises(kind) as e:
        call()
    assert message in str(e.value)


def test_torchvision_rejects_what_we_reject_with_the_same_type():
    with pytest.raises(TypeError):
        tvu.make_grid(torch.zeros(2, 3, 4, 4), normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError):
        tvu.make_grid(np.zeros((2, 3, 4, 4)))
