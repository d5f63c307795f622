"""Rebuild cnnlab/models/weights_meta.json and imagenet_classes.txt from an installed torchvision.

The weights' metadata (file URLs, parameter counts, GFLOPs, file sizes, minimum input sizes, accuracies and
the preprocessing each set of weights expects) are facts about torchvision's published files; this copies them
into a data file so that cnnlab needs no torchvision at run time. Run with the test environment:

    .venv/bin/python tools/make_weights_meta.py
"""
import json
import pathlib
import sys
import types

OUT = pathlib.Path(__file__).resolve().parents[1] / "cnnlab" / "models"

# the ImageNet classifiers of the zoo (issue #14)
ENUMS = ["AlexNet", "VGG11", "VGG11_BN", "VGG13", "VGG13_BN", "VGG16", "VGG16_BN", "VGG19", "VGG19_BN",
         "ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet152", "ResNeXt50_32X4D", "ResNeXt101_32X8D",
         "ResNeXt101_64X4D", "Wide_ResNet50_2", "Wide_ResNet101_2", "SqueezeNet1_0", "SqueezeNet1_1",
         "DenseNet121", "DenseNet161", "DenseNet169", "DenseNet201", "MobileNet_V2", "MobileNet_V3_Small",
         "MobileNet_V3_Large", "GoogLeNet", "Inception_V3", "EfficientNet_B0", "EfficientNet_B1",
         "EfficientNet_B2", "EfficientNet_B3", "ConvNeXt_Tiny", "ConvNeXt_Small", "ConvNeXt_Base",
         "ConvNeXt_Large"]


def main():
    for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules.setdefault(name, types.ModuleType(name))  # see tests/tv.py
    import torchvision.models as tvm
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    (OUT / "imagenet_classes.txt").write_text("\n".join(_IMAGENET_CATEGORIES) + "\n", encoding="utf-8")
    table = {}
    for stem in ENUMS:
        enum = getattr(tvm, stem + "_Weights")
        entries = {}
        for member_name, member in enum.__members__.items():
            if member.name != member_name:  # an alias such as DEFAULT
                entries[member_name] = member.name
                continue
            t = member.value.transforms
            meta = dict(member.meta)
            if meta.get("categories") == _IMAGENET_CATEGORIES:
                meta["categories"] = "imagenet1k"
            transforms = {k: (v.value if hasattr(v, "value") else v) for k, v in t.keywords.items()}
            entries[member_name] = {"url": member.url, "transforms": {"name": t.func.__name__, **transforms},
                                    "meta": meta}
        table[stem + "_Weights"] = entries
    (OUT / "weights_meta.json").write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(table)} weight enums to {OUT / 'weights_meta.json'}")


if __name__ == "__main__":
    main()
