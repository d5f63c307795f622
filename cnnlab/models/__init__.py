"""Classic CNN architectures, one per file, and a registry as torchvision.models': list_models(),
get_model(name, **kwargs), get_model_weights(name), get_weight(name)."""
from ._api import Weights, WeightsEnum, get_weight, hub_dir, load_state_dict_from_url
from ._presets import ImageClassification, imagenet_categories
from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .densenet import (DenseNet, DenseNet121_Weights, DenseNet161_Weights, DenseNet169_Weights, DenseNet201_Weights,
                       densenet121, densenet161, densenet169, densenet201)
from .feature_extraction import FeatureExtractor, create_feature_extractor, feature_extractor
from .lenet import LectureCNN, LeNet5, lecture_cnn, lenet5
from .resnet import (BasicBlock, Bottleneck, ResNet, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights,
                     ResNet101_Weights, ResNet152_Weights, ResNeXt50_32X4D_Weights, ResNeXt101_32X8D_Weights,
                     ResNeXt101_64X4D_Weights, Wide_ResNet50_2_Weights, Wide_ResNet101_2_Weights, resnet18, resnet34,
                     resnet50, resnet101, resnet152, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d,
                     wide_resnet50_2, wide_resnet101_2)
from .squeezenet import SqueezeNet, SqueezeNet1_0_Weights, SqueezeNet1_1_Weights, squeezenet1_0, squeezenet1_1
from .unet import UNet, unet
from .vgg import (VGG, VGG11_BN_Weights, VGG11_Weights, VGG13_BN_Weights, VGG13_Weights, VGG16_BN_Weights, VGG16_Weights,
                  VGG19_BN_Weights, VGG19_Weights, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn)
from .mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from .mobilenetv3 import (MobileNet_V3_Large_Weights, MobileNet_V3_Small_Weights, MobileNetV3, mobilenet_v3_large,
                          mobilenet_v3_small)
from .efficientnet import (EfficientNet, EfficientNet_B0_Weights, EfficientNet_B1_Weights, EfficientNet_B2_Weights,
                           EfficientNet_B3_Weights, efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3)
from .convnext import (ConvNeXt, ConvNeXt_Base_Weights, ConvNeXt_Large_Weights, ConvNeXt_Small_Weights,
                       ConvNeXt_Tiny_Weights, convnext_base, convnext_large, convnext_small, convnext_tiny)
from .googlenet import GoogLeNet, GoogLeNet_Weights, GoogLeNetOutputs, googlenet
from .inception import Inception3, Inception_V3_Weights, InceptionOutputs, inception_v3
from .registry import (builder_parameters, canonical_name, describe, get_model, get_model_builder, get_model_weights,
                       input_shape, list_models, register_model)

__all__ = ["LeNet5", "LectureCNN", "lenet5", "lecture_cnn", "get_model", "list_models", "describe", "input_shape",
           "canonical_name", "builder_parameters", "register_model", "get_model_builder", "get_model_weights",
           "get_weight", "Weights", "WeightsEnum", "hub_dir", "load_state_dict_from_url", "ImageClassification",
           "imagenet_categories", "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101",
           "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
           "wide_resnet101_2", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights",
           "ResNet152_Weights", "ResNeXt50_32X4D_Weights", "ResNeXt101_32X8D_Weights", "ResNeXt101_64X4D_Weights",
           "Wide_ResNet50_2_Weights", "Wide_ResNet101_2_Weights", "AlexNet", "AlexNet_Weights", "alexnet", "DenseNet",
           "densenet121", "densenet161", "densenet169", "densenet201", "DenseNet121_Weights", "DenseNet161_Weights",
           "DenseNet169_Weights", "DenseNet201_Weights", "SqueezeNet", "squeezenet1_0", "squeezenet1_1",
           "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights", "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
           "vgg16_bn", "vgg19", "vgg19_bn", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights",
           "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights", "UNet", "unet", "feature_extractor",
           "create_feature_extractor", "FeatureExtractor"]
__all__ += ["MobileNetV2", "MobileNet_V2_Weights", "mobilenet_v2", "MobileNetV3", "MobileNet_V3_Large_Weights",
            "MobileNet_V3_Small_Weights", "mobilenet_v3_large", "mobilenet_v3_small", "EfficientNet",
            "EfficientNet_B0_Weights", "EfficientNet_B1_Weights", "EfficientNet_B2_Weights", "EfficientNet_B3_Weights",
            "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "ConvNeXt",
            "ConvNeXt_Tiny_Weights", "ConvNeXt_Small_Weights", "ConvNeXt_Base_Weights", "ConvNeXt_Large_Weights",
            "convnext_tiny", "convnext_small", "convnext_base", "convnext_large", "GoogLeNet", "GoogLeNet_Weights",
            "GoogLeNetOutputs", "googlenet", "Inception3", "Inception_V3_Weights", "InceptionOutputs", "inception_v3"]
