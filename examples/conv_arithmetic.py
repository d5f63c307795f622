"""Padding, stride and dilation: the output-size arithmetic of a convolution in numbers, in words and as
animations (the sliding-window figures of Dumoulin & Visin, for any configuration).

    python examples/conv_arithmetic.py --out pictures     # needs Pillow

Prints the output size of the classic layers, explains a few configurations line by line, and writes one GIF
per configuration (padding, stride, 'same' with stride, dilation, transposed, pooling with ceil_mode).
"""
import argparse
import os

import cnnlab
import cnnlab.nn.functional as F
from cnnlab import animate, inspect

ANIMATIONS = {  # file name: (what it shows, animate.conv or animate.pool, its arguments)
    "padding.gif": ("padding 1 keeps 5x5 at 5x5", animate.conv, dict(input=5, kernel_size=3, padding=1)),
    "stride.gif": ("stride 2 with padding 1: 5x5 -> 3x3", animate.conv,
                   dict(input=5, kernel_size=3, stride=2, padding=1)),
    "same_strided.gif": ("'same' with stride 2 pads the odd pixel after", animate.conv,
                         dict(input=6, kernel_size=3, stride=2, padding="same")),
    "dilation.gif": ("dilation 2: a 3x3 kernel that spans 5x5", animate.conv, dict(input=7, kernel_size=3,
                                                                                   dilation=2)),
    "transposed.gif": ("a transposed conv doubles 3x3 to 6x6", animate.conv,
                       dict(input=3, kernel_size=3, stride=2, padding=1, transposed=True, output_padding=1)),
    "pool_ceil.gif": ("2x2 max pooling with ceil_mode keeps the last partial window", animate.pool,
                      dict(input=5, kernel_size=2, ceil_mode=True)),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="pictures", help="folder for the animations")
    parser.add_argument("--quick", action="store_true", help="two animations only, small cells (the tests use it)")
    args = parser.parse_args(argv)

    print("output size = floor((input + 2*padding - dilation*(kernel-1) - 1) / stride) + 1")
    for name, (size, k, s, p) in {"LeNet conv1": (32, 5, 1, 0), "AlexNet conv1": (227, 11, 4, 0),
                                  "VGG conv": (224, 3, 1, 1), "ResNet stem": (224, 7, 2, 3)}.items():
        print(f"  {name:<14} input {size}, kernel {k}, stride {s}, padding {p} -> {inspect.output_size(size, k, s, p)}")
    print("\nthe padding that keeps the size ('same'):", inspect.padding_for(32, 5), "for a 5x5 kernel on 32x32")
    print()
    print(inspect.explain_conv(7, 3, stride=2, padding="same"))

    # the arithmetic is the layer's own: a real conv gives the shape the formula said
    y = F.conv2d(cnnlab.randn(1, 1, 7, 7), cnnlab.randn(1, 1, 3, 3), stride=2, padding="same")
    print(f"F.conv2d(7x7, 3x3, stride=2, padding='same') -> {tuple(y.shape[2:])}\n")

    os.makedirs(args.out, exist_ok=True)
    chosen = list(ANIMATIONS.items())[:2] if args.quick else ANIMATIONS.items()
    for file, (what, make, kwargs) in chosen:
        anim = make(**kwargs, cell=20 if args.quick else 32, path=os.path.join(args.out, file))
        print(f"{file:<17} {len(anim):>3} frames  {what}")
    print(f"animations in {args.out}/")


if __name__ == "__main__":
    main()
