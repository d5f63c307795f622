"""Pretrained weights the torchvision way: the weights classes and their metadata (checked against torchvision's
for every model of the zoo), get_weight / get_model_weights / list_models, the ImageClassification preset, the
torch hub cache, downloads from a local server (SHA-256 prefix checked), the offline message, and the legacy
`pretrained=True` keyword with torchvision's warnings."""
import functools
import hashlib
import http.server
import io
import json
import os
import threading
import warnings

import numpy as np
import pytest

import cnnlab
from cnnlab import models
from cnnlab.data.datasets.download import ChecksumError, DownloadError
from cnnlab.models import _api
from tv import torch, tvm

ENUM_NAMES = sorted(json.load(open(os.path.join(os.path.dirname(models.__file__), "weights_meta.json"))))


@pytest.mark.parametrize("enum_name", ENUM_NAMES)
def test_every_weights_class_carries_torchvision_metadata(enum_name):
    ours, theirs = _api.weights_enum(enum_name), getattr(tvm, enum_name)
    assert list(ours.__members__) == list(theirs.__members__)  # DEFAULT included, as an alias
    for name, member in theirs.__members__.items():
        mine = ours[name]
        assert repr(mine) == repr(member) and mine.name == member.name
        assert mine.url == member.url and mine.file_name == os.path.basename(member.url)
        # num_params, _ops, _file_size, min_size, categories, _metrics, ... (by repr: VGG16's features-only
        # weights publish NaN accuracies, and NaN != NaN)
        assert repr(sorted(mine.meta.items())) == repr(sorted(member.meta.items()))
        preset, reference = mine.transforms(), member.transforms()
        assert repr(preset) == repr(reference)
        assert (preset.crop_size, preset.resize_size, preset.mean, preset.std) == \
            (reference.crop_size, reference.resize_size, reference.mean, reference.std)


def test_weights_values_and_lookups():
    W = models.ResNet50_Weights
    assert W.DEFAULT is W.IMAGENET1K_V2 and W["IMAGENET1K_V1"] is W.IMAGENET1K_V1
    assert W.verify("DEFAULT") is W.IMAGENET1K_V2 and W.verify("ResNet50_Weights.IMAGENET1K_V1") is W.IMAGENET1K_V1
    assert W.verify(None) is None and W.verify(W.IMAGENET1K_V1) is W.IMAGENET1K_V1
    assert W.IMAGENET1K_V2.transforms().resize_size == [232]
    assert len(W.DEFAULT.meta["categories"]) == 1000 and W.DEFAULT.meta["categories"][1] == "goldfish"
    with pytest.raises(ValueError, match=r"ResNet50_Weights: unknown weights. Got weights='IMAGENET1K_V3'; "
                                         r"available: IMAGENET1K_V1, IMAGENET1K_V2, DEFAULT"):
        models.resnet50(weights="IMAGENET1K_V3")
    with pytest.raises(TypeError, match="weights must be None, a ResNet50_Weights member or its name. "
                                        "Got weights of type ResNet18_Weights"):
        models.resnet50(weights=models.ResNet18_Weights.DEFAULT)
    assert models.get_weight("VGG16_Weights.IMAGENET1K_FEATURES").meta["categories"] is None
    assert models.get_weight("ResNet18_Weights.DEFAULT") is models.ResNet18_Weights.IMAGENET1K_V1
    with pytest.raises(ValueError, match="get_weight: expected '<Model>_Weights.<NAME>'"):
        models.get_weight("resnet18")
    assert models.get_model_weights("resnet18") is models.ResNet18_Weights
    assert models.get_model_weights(models.densenet121) is models.DenseNet121_Weights
    with pytest.raises(ValueError, match="this model has no pretrained weights. Got name='lenet5'"):
        models.get_model_weights("lenet5")
    with pytest.raises(ValueError, match="these weights need num_classes=1000. Got num_classes=10"):
        models.alexnet(weights="DEFAULT", num_classes=10)


def test_list_models_filters_as_torchvision():
    ours = set(models.list_models())
    classic = {"alexnet", "densenet121", "densenet161", "densenet169", "densenet201", "resnet18", "resnet34",
               "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
               "wide_resnet50_2", "wide_resnet101_2", "squeezenet1_0", "squeezenet1_1", "vgg11", "vgg11_bn",
               "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"}
    assert classic | {"lenet5", "lecture_cnn", "unet"} <= ours
    assert classic <= set(tvm.list_models())
    assert models.list_models(include="vgg1?") == tvm.list_models(include="vgg1?")
    assert models.list_models(include=["resnet*", "wide*"], exclude="*101*") == \
        ["resnet152", "resnet18", "resnet34", "resnet50", "wide_resnet50_2"]
    assert models.list_models(module=models.densenet) == ["densenet121", "densenet161", "densenet169", "densenet201"]
    assert models.describe("resnet50") == "ResNet-50 for 3x224x224 ImageNet images (25,557,032 parameters)"


def test_image_classification_preset_matches_torchvision():
    Image = pytest.importorskip("PIL.Image")
    from torchvision.transforms._presets import ImageClassification as Reference
    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 256, (30, 40, 3)), np.ones((10, 10, 1))).astype(np.uint8)  # 300x400
    for kwargs in ({"crop_size": 224}, {"crop_size": 299, "resize_size": 342},
                   {"crop_size": 224, "resize_size": 232, "interpolation": "bicubic"}):
        ref_kwargs = dict(kwargs)
        if "interpolation" in kwargs:
            from torchvision.transforms import InterpolationMode
            ref_kwargs["interpolation"] = InterpolationMode(kwargs["interpolation"])
        ours = models.ImageClassification(**kwargs)(Image.fromarray(smooth)).numpy()
        theirs = Reference(**ref_kwargs)(Image.fromarray(smooth)).numpy()
        assert ours.shape == theirs.shape == (3, kwargs["crop_size"], kwargs["crop_size"])
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)
        # an (H, W, C) uint8 array takes the per-channel float path: within one level of Pillow's 8-bit bilinear
        if "interpolation" not in kwargs:
            from_array = models.ImageClassification(**kwargs)(smooth).numpy()
            assert np.abs(from_array - theirs).max() <= 1.01 / 255 / 0.224
    batch = cnnlab.rand(2, 3, 64, 80)
    out = models.ImageClassification(crop_size=32, resize_size=40)(batch)
    assert out.shape == (2, 3, 32, 32)
    np.testing.assert_allclose(out.numpy()[1], models.ImageClassification(crop_size=32, resize_size=40)(batch[1])
                               .numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="interpolation must be 'bilinear', 'bicubic' or 'nearest'"):
        models.ImageClassification(crop_size=3, interpolation="lanczos")


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache for both libraries."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    assert models.hub_dir() == str(tmp_path / "torch" / "hub") == torch.hub.get_dir()
    return folder


def _cache_squeezenet(folder, legacy):
    torch.manual_seed(0)
    ref = tvm.squeezenet1_1().eval()
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(ref.state_dict(), folder / models.SqueezeNet1_1_Weights.DEFAULT.file_name,
               _use_new_zipfile_serialization=not legacy)
    return ref


@pytest.mark.parametrize("legacy", [True, False])
def test_weights_from_the_hub_cache_in_both_formats(hub, legacy):
    ref = _cache_squeezenet(hub, legacy)  # as if torchvision had downloaded it: no download here
    model = models.squeezenet1_1(weights="DEFAULT").eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    with cnnlab.no_grad():
        ours = model(cnnlab.tensor(x)).numpy()
    np.testing.assert_allclose(ours, ref(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    loaded = models.get_model("squeezenet1_1", weights=models.SqueezeNet1_1_Weights.IMAGENET1K_V1)
    np.testing.assert_array_equal(loaded.classifier[1].weight.detach().numpy(), ref.classifier[1].weight.detach().numpy())


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if "deprecated" in str(w.message)]


def test_pretrained_true_means_imagenet1k_v1_with_torchvision_warnings(hub):
    _cache_squeezenet(hub, legacy=True)
    ours = _warnings_of(lambda: models.squeezenet1_1(pretrained=True))
    theirs = _warnings_of(lambda: tvm.squeezenet1_1(pretrained=True))  # torchvision reads the same cache file
    assert ours == theirs and len(ours) == 2
    assert "equivalent to passing `weights=SqueezeNet1_1_Weights.IMAGENET1K_V1`" in ours[1]
    assert _warnings_of(lambda: models.squeezenet1_1(pretrained=False)) == \
        _warnings_of(lambda: tvm.squeezenet1_1(pretrained=False))
    assert _warnings_of(lambda: models.squeezenet1_1(True)) == _warnings_of(lambda: tvm.squeezenet1_1(True))
    model = models.squeezenet1_1(pretrained=True)
    assert model.classifier[1].out_channels == 1000


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A file server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _weights_file(state):
    buffer = io.BytesIO()
    torch.save(state, buffer, _use_new_zipfile_serialization=False)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def test_download_checks_the_sha256_prefix_in_the_name_and_is_cached(server, tmp_path):
    root, url = server
    data, digest = _weights_file({"fc.weight": torch.arange(6.0).reshape(2, 3)})
    name = f"tiny-{digest[:8]}.pth"
    (root / name).write_bytes(data)
    cache = tmp_path / "cache"
    state = models.load_state_dict_from_url(f"{url}/{name}", model_dir=str(cache), check_hash=True, progress=False)
    assert state["fc.weight"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert (cache / name).read_bytes() == data
    (root / name).unlink()  # the second call reads the cache: no request
    assert models.load_state_dict_from_url(f"{url}/{name}", model_dir=str(cache))["fc.weight"].shape == (2, 3)

    wrong = "tiny-0123abcd.pth"
    (root / wrong).write_bytes(data)
    with pytest.raises(ChecksumError, match="expected one starting with 0123abcd"):
        models.load_state_dict_from_url(f"{url}/{wrong}", model_dir=str(cache), check_hash=True, progress=False)
    assert not (cache / wrong).exists()
    # without check_hash (torch.hub's default) the name's prefix is not checked
    models.load_state_dict_from_url(f"{url}/{wrong}", model_dir=str(cache), check_hash=False, progress=False)
    assert (cache / wrong).exists()


def test_offline_message_names_the_file_and_the_folder(tmp_path):
    import socket
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as info:
        models.load_state_dict_from_url(f"http://127.0.0.1:{port}/resnet18-f37072fd.pth", model_dir=str(cache),
                                        check_hash=True, progress=False, what="ResNet18_Weights.IMAGENET1K_V1")
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, RuntimeError)
    assert message.startswith("ResNet18_Weights.IMAGENET1K_V1: could not download")
    assert message.endswith(f"put it here: resnet18-f37072fd.pth in the folder {cache}")
    assert not cache.exists() or not any(cache.iterdir())


def test_densenet_files_with_the_published_old_key_names_load(hub):
    # torchvision's DenseNet files name a layer's parts 'norm.1', 'conv.2' (dots are no longer allowed in module
    # names): the builder renames them as torchvision's does
    torch.manual_seed(0)
    state = tvm.densenet121().state_dict()
    # (the published files also predate batch norm's num_batches_tracked buffer)
    old = {k.replace(".norm1.", ".norm.1.").replace(".conv2.", ".conv.2."): v for k, v in state.items()
           if not k.endswith("num_batches_tracked")}
    assert sum(".norm.1." in k for k in old) == 58 * 4 and sum(".conv.2." in k for k in old) == 58
    hub.mkdir(parents=True)
    torch.save(old, hub / models.DenseNet121_Weights.DEFAULT.file_name, _use_new_zipfile_serialization=False)
    model = models.densenet121(weights="DEFAULT")
    for key, value in model.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            np.testing.assert_array_equal(value.numpy(), state[key].numpy(), err_msg=key)
