"""cnnlab.filters: the kernels as the notes write them, apply() against SciPy's ndimage.correlate on real photos
in every padding mode, against PyTorch's conv2d (values and gradients), gradient_magnitude, the errors, and
the `cnnlab filter` command."""
import sys

import numpy as np
import pytest

import cnnlab
from cnnlab import filters

ndimage = pytest.importorskip("scipy.ndimage")
skdata = pytest.importorskip("skimage.data")

# our padding mode -> SciPy's name for the same border
SCIPY_MODE = {"zeros": "constant", "reflect": "mirror", "replicate": "nearest", "circular": "wrap"}


@pytest.fixture(scope="module")
def camera():
    return skdata.camera()[::2, ::2].astype(np.float64) / 255  # a real photo, 256x256 gray


@pytest.fixture(scope="module")
def coffee():
    return skdata.coffee()[::4, ::4].transpose(2, 0, 1).astype(np.float64) / 255  # real colour photo (3, 100, 150)


def test_kernels_are_written_as_the_notes_write_them():
    expected = {
        "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
        "vertical_edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
        "horizontal_edge": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
        "sobel_vertical": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
        "scharr_vertical": [[3, 0, -3], [10, 0, -10], [3, 0, -3]],
        "prewitt_vertical": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
        "edge_4": [[0, -1, 0], [-1, 4, -1], [0, -1, 0]],
        "edge_8": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
        "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
        "box_blur": np.ones((3, 3)) / 9,
        "gaussian_blur_3": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
        "gaussian_blur_5": np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256,
        "unsharp_mask_5": np.array([[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, -476, 24, 6], [4, 16, 24, 16, 4],
                                    [1, 4, 6, 4, 1]]) / -256,
        "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    }
    for name, values in expected.items():
        k = filters.kernel(name)
        assert k.dtype == cnnlab.float32 and isinstance(k, cnnlab.Tensor), name
        np.testing.assert_allclose(k.numpy(), np.asarray(values, dtype=np.float32), rtol=1e-7, err_msg=name)
    for op in ("sobel", "scharr", "prewitt"):
        np.testing.assert_array_equal(filters.kernel(f"{op}_horizontal").numpy(),
                                      filters.kernel(f"{op}_vertical").numpy().T)
    np.testing.assert_array_equal(filters.kernel("horizontal_edge").numpy(), filters.kernel("vertical_edge").numpy().T)
    assert set(expected) | {"sobel_horizontal", "scharr_horizontal", "prewitt_horizontal"} == set(filters.names())
    assert filters.kernel("sobel_vertical", dtype=cnnlab.float64).dtype == cnnlab.float64


def test_kernel_returns_a_copy():
    k = filters.kernel("identity")
    k[1, 1] = 7.0
    assert filters.kernel("identity")[1, 1].item() == 1.0


def test_sums_detectors_zero_smoothers_one():
    for name in filters.names():
        total = float(filters.kernel(name, dtype=cnnlab.float64).sum())
        assert total == pytest.approx(0.0 if "edge" in name or name.split("_")[0] in ("sobel", "scharr", "prewitt")
                                      else 1.0, abs=1e-12), name


@pytest.mark.parametrize("padding_mode", list(SCIPY_MODE))
@pytest.mark.parametrize("name", ["sobel_vertical", "scharr_horizontal", "edge_8", "emboss", "gaussian_blur_5",
                                  "unsharp_mask_5"])
def test_apply_matches_scipy_correlate_on_a_real_photo(camera, name, padding_mode):
    ours = filters.apply(camera, name, padding_mode=padding_mode)
    k = filters.kernel(name, dtype=cnnlab.float64).numpy()
    ref = ndimage.correlate(camera, k, mode=SCIPY_MODE[padding_mode], cval=0.0)
    assert ours.dtype == np.float64 and ours.shape == camera.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("padding_mode", list(SCIPY_MODE))
def test_apply_filters_each_colour_channel_and_batches(coffee, padding_mode):
    k = filters.kernel("sobel_horizontal", dtype=cnnlab.float64).numpy()
    ref = np.stack([ndimage.correlate(c, k, mode=SCIPY_MODE[padding_mode]) for c in coffee])
    np.testing.assert_allclose(filters.apply(coffee, "sobel_horizontal", padding_mode=padding_mode), ref,
                               rtol=1e-10, atol=1e-10)
    batch = np.stack([coffee, coffee[:, ::-1, ::-1]])  # (2, 3, H, W)
    out = filters.apply(cnnlab.tensor(batch), k, padding_mode=padding_mode)
    assert isinstance(out, cnnlab.Tensor) and out.shape == batch.shape
    np.testing.assert_allclose(out.numpy()[0], ref, rtol=1e-10, atol=1e-10)
    flipped = np.stack([ndimage.correlate(c, k, mode=SCIPY_MODE[padding_mode]) for c in batch[1]])
    np.testing.assert_allclose(out.numpy()[1], flipped, rtol=1e-10, atol=1e-10)


def test_apply_is_cross_correlation_not_convolution():
    image = np.zeros((5, 5))
    image[2, 2] = 1.0  # an impulse: correlation writes the kernel flipped, convolution the kernel itself
    k = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(filters.apply(image, k)[1:4, 1:4], k[::-1, ::-1])


def test_apply_on_8bit_photo_gives_float32():
    photo = skdata.camera()[:64, :64]
    out = filters.apply(photo, "box_blur", padding="valid")
    assert out.dtype == np.float32 and out.shape == (62, 62)
    np.testing.assert_allclose(out, ndimage.correlate(photo.astype(np.float64), np.ones((3, 3)) / 9)[1:-1, 1:-1],
                               rtol=1e-5)


@pytest.mark.parametrize("padding,shape", [("valid", (28, 26)), (0, (28, 26)), (3, (34, 32)), ((1, 0), (30, 26))])
def test_apply_padding_sizes(padding, shape):
    x = np.random.default_rng(0).random((30, 28))
    out = filters.apply(x, "sobel_vertical", padding=padding)
    assert out.shape == shape
    p = (padding, padding) if isinstance(padding, int) else (0, 0) if padding == "valid" else padding
    ref = ndimage.correlate(np.pad(x, ((p[0],) * 2, (p[1],) * 2)), filters.kernel("sobel_vertical").numpy()
                            .astype(np.float64))[1:-1, 1:-1]
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("padding_mode", list(SCIPY_MODE))
@pytest.mark.parametrize("kshape", [(3, 3), (2, 4), (5, 1)])
def test_apply_matches_torch_values_and_gradients(padding_mode, kshape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 9, 8))
    k = rng.standard_normal(kshape)
    xt = cnnlab.tensor(x, requires_grad=True)
    out = filters.apply(xt, k, padding_mode=padding_mode)
    g = rng.standard_normal(out.shape)
    (out * cnnlab.tensor(g)).sum().backward()

    KH, KW = kshape
    pads = ((KW - 1) // 2, KW // 2, (KH - 1) // 2, KH // 2)  # PyTorch's 'same': the odd one after
    tx = torch.tensor(x, requires_grad=True)
    planes = tx.reshape(6, 1, 9, 8)
    mode = "constant" if padding_mode == "zeros" else padding_mode
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(planes, pads, mode=mode),
                                     torch.tensor(k).reshape(1, 1, KH, KW)).reshape(2, 3, 9, 8)
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    if padding_mode == "zeros":  # and the same as conv2d's own padding='same'
        same = torch.nn.functional.conv2d(planes, torch.tensor(k).reshape(1, 1, KH, KW), padding="same")
        np.testing.assert_allclose(out.detach().numpy(), same.detach().reshape(2, 3, 9, 8).numpy(), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("operator", ["sobel", "scharr", "prewitt", "edge"])
def test_gradient_magnitude_matches_scipy(camera, operator):
    names = {"edge": ("vertical_edge", "horizontal_edge")}.get(operator, (f"{operator}_vertical",
                                                                          f"{operator}_horizontal"))
    gx, gy = (ndimage.correlate(camera, filters.kernel(n, dtype=cnnlab.float64).numpy(), mode="nearest")
              for n in names)
    ours = filters.gradient_magnitude(camera, operator, padding_mode="replicate")
    np.testing.assert_allclose(ours, np.hypot(gx, gy), rtol=1e-10, atol=1e-10)
    t = filters.gradient_magnitude(cnnlab.tensor(camera), operator, padding_mode="replicate")
    assert isinstance(t, cnnlab.Tensor)
    np.testing.assert_allclose(t.numpy(), ours, rtol=1e-12)


def test_sobel_finds_the_edge_where_it_is_and_with_its_sign():
    step = np.zeros((6, 6))
    step[:, :3] = 10.0  # the notes' example: bright left half, dark right half
    out = filters.apply(step, "vertical_edge", padding="valid")
    np.testing.assert_array_equal(out, [[0, 30, 30, 0]] * 4)
    assert (filters.apply(step[:, ::-1].copy(), "vertical_edge", padding="valid") <= 0).all()
    assert np.abs(filters.apply(step, "horizontal_edge", padding="valid")).max() == 0


@pytest.mark.parametrize("call,message,kind", [
    (lambda: filters.kernel("sobel"), "kernel: the kernel name must be one of identity, ", ValueError),
    (lambda: filters.apply(np.zeros((5, 5)), "blurr"), "Got name='blurr'", ValueError),
    (lambda: filters.apply(np.zeros((5, 5)), "sharpen", padding_mode="mirror"),
     "apply: padding_mode must be one of zeros, reflect, replicate, circular. Got padding_mode='mirror'.", ValueError),
    (lambda: filters.apply(np.zeros((1, 5)), "sharpen", padding_mode="reflect"),
     "apply: reflect padding must be smaller than the image. Got image H=1, W=5 with padding (top, bottom, left, "
     "right)=(1, 1, 1, 1), kernel 3x3.", ValueError),
    (lambda: filters.apply(np.zeros((5, 5)), "sharpen", padding=6, padding_mode="circular"),
     "apply: circular padding must not be larger than the image. Got image H=5, W=5", ValueError),
    (lambda: filters.apply(np.zeros((1, 1, 1, 5, 5)), "sharpen"), "Got image.shape=(1, 1, 1, 5, 5).", ValueError),
    (lambda: filters.apply(np.zeros(5), "sharpen"), "must be (H, W), (C, H, W) or (N, C, H, W)", ValueError),
    (lambda: filters.apply([[1, 2], [3, 4]], "sharpen"), "must be a Tensor or a NumPy array. Got image of type list",
     TypeError),
    (lambda: filters.apply(np.zeros((5, 5)), np.ones((1, 3, 3))), "kernel must be 2-d (KH, KW) and not empty. "
     "Got kernel.shape=(1, 3, 3).", ValueError),
    (lambda: filters.apply(np.zeros((5, 5)), object()), "kernel must be a name, a Tensor", TypeError),
    (lambda: filters.apply(np.zeros((2, 2)), "gaussian_blur_5", padding="valid"),
     "apply: output size would be 0 or less. Got image H=2, W=2, kernel 5x5", ValueError),
    (lambda: filters.apply(np.zeros((5, 5)), "sharpen", padding="full"), "Got padding='full'.", ValueError),
    (lambda: filters.apply(np.zeros((5, 5)), "sharpen", padding=-1), "Got padding=-1.", ValueError),
    (lambda: filters.gradient_magnitude(np.zeros((5, 5)), "canny"), "Got operator='canny'.", ValueError),
])
def test_errors_say_the_rule_and_the_values(call, message, kind):
    with pytest.raises(kind) as e:
        call()
    assert message in str(e.value)
    assert isinstance(e.value, (kind,))


def test_errors_are_runtime_errors_too():
    with pytest.raises(RuntimeError):
        filters.apply(np.zeros((1, 5)), "sharpen", padding_mode="reflect")


# ---- cnnlab filter ----------------------------------------------------------------------------------------
def test_cli_filter_writes_the_edges_of_a_photo(tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    from cnnlab.cli import main
    photo = skdata.camera()[::2, ::2]
    Image.fromarray(photo).save(tmp_path / "photo.jpg", quality=95)
    out = tmp_path / "sub" / "edges.png"
    assert main(["filter", str(tmp_path / "photo.jpg"), "--kernel", "sobel_vertical", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (256, 256) and img.mode == "L"
        pixels = np.asarray(img, dtype=np.float64)
    # signed: flat regions mid gray, vertical edges far from it, and the picture is the Sobel response
    gray = np.asarray(Image.open(tmp_path / "photo.jpg").convert("L"), dtype=np.float64) / 255
    response = ndimage.correlate(gray, filters.kernel("sobel_vertical", dtype=cnnlab.float64).numpy(), mode="nearest")
    assert abs(np.median(pixels) - 128) <= 3 and pixels.std() > 10
    assert np.corrcoef(pixels.ravel(), response.ravel())[0, 1] > 0.95

    assert main(["filter", str(tmp_path / "photo.jpg"), "--kernel", "sobel_vertical", "--abs", "--out",
                 str(tmp_path / "abs.png")]) == 0
    absolute = np.asarray(Image.open(tmp_path / "abs.png"), dtype=np.float64)
    assert np.median(absolute) < 60 and absolute.max() == 255
    assert np.corrcoef(absolute.ravel(), np.abs(response).ravel())[0, 1] > 0.95


def test_cli_filter_all_makes_a_contact_sheet(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    from cnnlab.cli import main
    Image.fromarray(skdata.chelsea()).save(tmp_path / "cat.png")
    out = tmp_path / "sheet.png"
    assert main(["filter", str(tmp_path / "cat.png"), "--all", "--size", "64", "--color", "--out", str(out)]) == 0
    with Image.open(out) as img:
        assert img.format == "PNG" and img.mode == "RGB"
        w, h = img.size
        pixels = np.asarray(img, dtype=np.float64)
    n = len(filters.names()) + 1  # every kernel and the original
    assert w == 4 * (64 + 6) + 6 and h == -(-n // 4) * (43 + 22 + 6) + 6  # chelsea is 451x300: 64x43 tiles
    assert pixels.std() > 20 and np.abs(pixels[..., 0] - pixels[..., 2]).mean() > 2  # not blank, in colour


def test_cli_filter_writes_the_format_the_name_says(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    from cnnlab.cli import main
    Image.fromarray(skdata.camera()[:64, :64]).save(tmp_path / "photo.png")
    assert main(["filter", str(tmp_path / "photo.png"), "--kernel", "emboss", "--out", str(tmp_path / "e.jpg")]) == 0
    with Image.open(tmp_path / "e.jpg") as img:
        assert img.format == "JPEG" and img.size == (64, 64)


@pytest.mark.parametrize("argv,message", [
    (["filter", "x.jpg", "--kernel", "sharpen", "--out", "edges.xyz"], "--out: the file name must end in an image "
     "format's extension such as .png or .jpg. Got --out=edges.xyz."),
    (["filter", "gone.jpg", "--kernel", "sharpen"], "no such image file: gone.jpg"),
    (["filter", "x.jpg"], "give --kernel NAME or --all"),
    (["filter"], "give the photo to filter"),
])
def test_cli_filter_errors_are_one_line(argv, message, capsys, tmp_path, monkeypatch):
    from cnnlab.cli import main
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jpg").write_bytes(b"")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_cli_filter_without_pillow_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    from cnnlab.cli import main
    (tmp_path / "x.jpg").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "PIL", None)
    assert main(["filter", str(tmp_path / "x.jpg"), "--kernel", "sharpen", "--out", str(tmp_path / "y.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install" in err


def test_cli_filter_list(capsys):
    from cnnlab.cli import main
    assert main(["filter", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == filters.names()
