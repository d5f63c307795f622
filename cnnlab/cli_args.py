"""The `cnnlab` command's arguments: the parser, its help texts and examples, and the checked number types.

Every option says what it does and shows its default; a bad value ends with one line and exit code 2:

>>> from cnnlab.cli_args import POSITIVE_INT
>>> POSITIVE_INT("3")
3
>>> POSITIVE_INT("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be more than 0, got 0
"""
import argparse
import math

from . import __version__


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: 'cnnlab train: argument --epochs: ... (see cnnlab train --help)'."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples printed as written; each option's default shown after its help (unless the
    help already speaks of it, or there is none to show)."""

    def _get_help_string(self, action):
        text = action.help or ""
        shown = action.default is not None and action.default is not False and action.default is not argparse.SUPPRESS
        if action.option_strings and "default" not in text and shown:
            text += " (default: %(default)s)"
        return text


def _number(kind, low, inclusive):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got "
                                             f"{text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if value < low if inclusive else value <= low:
            raise argparse.ArgumentTypeError(f"must be {'at least' if inclusive else 'more than'} {low}, got {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


POSITIVE_INT, POSITIVE, NON_NEGATIVE = _number(int, 0, False), _number(float, 0, False), _number(float, 0, True)
NON_NEGATIVE_INT = _number(int, 0, True)


def int_list(text):
    """argparse type for sizes: integers separated by commas or 'x' ('7', '224,224', '3x5') -> a tuple.

    >>> int_list("224x224")
    (224, 224)
    """
    try:
        values = tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}")
    return values

def window_padding(text):
    """argparse type for a conv or pooling window's padding: 'same', 'same_lower' or 'valid'; one int; one int per
    spatial dim; or a (before, after) pair per dim (4 values: top, bottom, left, right).

    >>> window_padding("2"), window_padding("1,0"), window_padding("1,0,2,1")
    (2, (1, 0), ((1, 0), (2, 1)))
    """
    if text in ("same", "valid", "same_lower"):
        return text
    values = int_list(text)
    if len(values) == 1:
        return values[0]
    if len(values) in (4, 6):
        return tuple(values[i:i + 2] for i in range(0, len(values), 2))
    if len(values) > 3:
        raise argparse.ArgumentTypeError(f"give one value, one per spatial dim, or a before,after pair per dim "
                                         f"(4: top,bottom,left,right). Got {text!r}")
    return values


def add_window_arguments(parser, input_example, kernel_example):
    """--input, --kernel, --stride, --padding and --dilation of a sliding window (`cnnlab animate`, `cnnlab
    explain`); the examples show the sizes in each command's help."""
    parser.add_argument("--input", type=int_list, required=True, metavar="SIZE",
                        help=f"spatial input size: {input_example}")
    parser.add_argument("--kernel", type=int_list, required=True, metavar="K", help=f"kernel size: {kernel_example}")
    parser.add_argument("--stride", type=int_list, default=None, metavar="S",
                        help="stride (default 1 for conv, the kernel for pool)")
    parser.add_argument("--padding", type=window_padding, default=0, metavar="P",
                        help="an int, one per dim, top,bottom,left,right, same, same_lower or valid (same: "
                             "TensorFlow's ceil(input / stride), any stride)")
    parser.add_argument("--dilation", type=int_list, default=(1,), metavar="D", help="dilation (1: none)")


# `cnnlab train`'s defaults are the demo's settings (make demo runs them): 98-99% on the bundled digits
EPOCHS, BATCH_SIZE, WEIGHT_DECAY, SCHEDULER = 20, 64, 5e-4, "cosine"
LR_DEFAULTS = {"sgd": 0.05, "adam": 0.001, "adamw": 0.001, "rmsprop": 0.001}  # --lr when not given

MAIN_EPILOG = """examples:
  cnnlab demo                                   train LeNet-5 on the bundled digits (minutes)
  cnnlab models                                 the models cnnlab can build
  cnnlab train --model lenet5 --data mnist-sample --out runs/lenet5
  cnnlab evaluate --checkpoint runs/lenet5
  cnnlab predict --checkpoint runs/lenet5 digit.png

'cnnlab COMMAND --help' explains each command. Exit codes: 0 done, 1 failed while running, 2 bad arguments
or missing files, 130 interrupted."""

DATA_HELP = """data (--data):
  mnist-sample        5,000 real MNIST digits bundled with cnnlab (4,000 train / 1,000 validation), offline
  mnist:DIR           MNIST's four IDX files (raw or .gz) in DIR or DIR/MNIST/raw (--download fetches them)
  fashion-mnist:DIR   Fashion-MNIST's four IDX files in DIR or DIR/FashionMNIST/raw (--download fetches them)
  cifar10:DIR         DIR/cifar-10-batches-py, the python version of CIFAR-10 (--download fetches it)
  folder:DIR          your images, one sub-folder per class (DIR/cat/*.jpg, DIR/dog/*.jpg); DIR/train and
                      DIR/val (or test) if present, else a seeded 80/20 split; needs Pillow"""

TRAIN_EPILOG = DATA_HELP + """

--out receives config.json, checkpoint.pth (after every epoch), history.csv and metrics.json.

--resume continues the run in --out with the settings in its config.json. Given again with another value,
--epochs, --lr, --momentum, --weight-decay and --batch-size apply from the next epoch on (a cosine or step
schedule is rebuilt for the new length, as a run started with those settings would have it), and config.json
records the change; the other settings cannot change in a resumed run.

examples:
  cnnlab train --out runs/lenet5                          LeNet-5 on the bundled digits, as make demo
  cnnlab train --epochs 2 --subset 500 --out /tmp/quick   a quick try
  cnnlab train --optimizer adam --scheduler none --no-augment --out runs/adam
  cnnlab train --epochs 30 --out runs/lenet5 --resume     continue runs/lenet5 up to epoch 30
  cnnlab train --data mnist:~/data --download --out runs/mnist   all 60,000 MNIST digits (downloaded once)
  cnnlab train --model lenet5 --data folder:~/shapes --image-size 32 --out runs/shapes
  cnnlab train --model resnet18 --weights IMAGENET1K_V1 --freeze features --data folder:~/pets --out runs/pets"""

PREDICT_EPILOG = """Each image is prepared the way the training data was: for digits, a dark drawing on light paper is
inverted to MNIST's light-on-dark, the strokes are cropped, scaled into a 20x20 box and centred in 28x28;
transparent backgrounds, palette and 16-bit images and large photos are handled. Needs Pillow
(pip install 'cnnlab[images]').

examples:
  cnnlab predict --checkpoint runs/lenet5 digit.png
  cnnlab predict --checkpoint runs/lenet5 --top-k 1 photos/*.jpg
  cnnlab predict --model resnet50 --weights IMAGENET1K_V1 photo.jpg   top-5 ImageNet classes"""


def build_parser(commands):
    """The parser; commands maps each command name to the function that runs it (set as args.func)."""
    parser = _Parser(prog="cnnlab", description="Build, train and understand CNNs on NumPy.", epilog=MAIN_EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"cnnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def new(name, summary, **kw):
        return sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                              formatter_class=HelpFormatter, **kw)

    p = new("train", "train a model and write its checkpoint, history and metrics", epilog=TRAIN_EPILOG)
    from .models import list_models
    p.add_argument("--model", default="lenet5", help=f"one of {', '.join(list_models())} (see 'cnnlab models')")
    p.add_argument("--data", default="mnist-sample", help="what to train on (see 'data' below)")
    p.add_argument("--download", action="store_true", help="fetch missing mnist, fashion-mnist or cifar10 files "
                   "into the --data folder (checked by MD5)")
    p.add_argument("--epochs", type=POSITIVE_INT, default=EPOCHS, help="passes over the training images")
    p.add_argument("--batch-size", type=POSITIVE_INT, default=BATCH_SIZE, metavar="N",
                   help="images per optimizer step")
    p.add_argument("--lr", type=POSITIVE, default=None, help="learning rate (default: "
                   + ", ".join(f"{v} for {k}" for k, v in LR_DEFAULTS.items()) + ")")
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw", "rmsprop"), default="sgd", help="update rule")
    p.add_argument("--momentum", type=NON_NEGATIVE, default=0.9, help="momentum for sgd and rmsprop")
    p.add_argument("--weight-decay", type=NON_NEGATIVE, default=WEIGHT_DECAY, help="L2 penalty on the weights")
    p.add_argument("--scheduler", choices=("none", "cosine", "step"), default=SCHEDULER,
                   help="learning-rate schedule, stepped once per epoch (cosine: from --lr down to 0 over the "
                   "epochs; step: x0.1 every third of the epochs)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                   help="random shifts of up to 2 pixels in 28 (and flips for colour images) in training")
    p.add_argument("--image-size", type=POSITIVE_INT, default=None, metavar="PIXELS",
                   help="for folder: data, resize the images to PIXELS x PIXELS (default 64)")
    p.add_argument("--weights", default=None, metavar="NAME|PATH", help="start from pretrained weights: a name "
                   "such as IMAGENET1K_V1 or DEFAULT (read from torch hub's cache, $TORCH_HOME/hub/checkpoints) or a "
                   "weights file; the head is replaced to fit the data's classes and images are normalised as the "
                   "weights expect (--image-size defaults to their crop size)")
    p.add_argument("--freeze", default=None, metavar="PREFIXES", help="with --weights, keep these parameters fixed: "
                   "comma-separated module paths such as features (on ResNet: all but the head) or conv1,bn1,layer1")
    p.add_argument("--seed", type=NON_NEGATIVE_INT, default=0,
                   help="seed for initial weights, shuffling and augmentation")
    p.add_argument("--subset", type=POSITIVE_INT, default=None, metavar="N",
                   help="train on the first N training images only (quick runs; default all)")
    p.add_argument("--out", default="runs/run", metavar="DIR", help="folder for the run's files (must be new or "
                   "empty unless --resume or --overwrite)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines or progress bar")
    p.set_defaults(func=commands["train"])

    p = new("evaluate", "accuracy and per-class accuracy of a trained run on its validation images",
            epilog="examples:\n  cnnlab evaluate --checkpoint runs/lenet5\n"
                   "  cnnlab evaluate --checkpoint runs/lenet5 --data mnist:~/data   (the full MNIST test set)")
    p.add_argument("--checkpoint", required=True, metavar="RUN", help="a run folder written by 'cnnlab train --out' "
                   "(or the checkpoint.pth in it)")
    p.add_argument("--data", default=None, help="data to evaluate on, as for train --data (default: the run's)")
    p.add_argument("--download", action="store_true", help="fetch missing mnist, fashion-mnist or cifar10 files "
                   "into the --data folder")
    p.set_defaults(func=commands["evaluate"])

    p = new("predict", "classify image files with a trained run", epilog=PREDICT_EPILOG)
    p.add_argument("--checkpoint", default=None, metavar="RUN", help="a run folder written by 'cnnlab train --out' "
                   "(or the checkpoint.pth in it)")
    p.add_argument("--model", default=None, help="instead of --checkpoint: a zoo model with --weights")
    p.add_argument("--weights", default=None, metavar="NAME|PATH", help="with --model: IMAGENET1K_V1, DEFAULT (from "
                   "torch hub's cache) or a weights file; prints the weights' class names")
    p.add_argument("--top-k", type=POSITIVE_INT, default=None, metavar="K", help="how many classes to show per image "
                   "(default 3, 5 with --model)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, BMP, ...)")
    p.set_defaults(func=commands["predict"])

    p = new("models", "list the models cnnlab can build, with the input each expects",
            epilog="example:\n  cnnlab models")
    p.set_defaults(func=commands["models"])

    p = new("demo", "follow a batch through LeNet-5, then train it on the bundled MNIST sample (what 'make demo' "
            "runs)", epilog="Prints every layer's output shape, one line per epoch, the validation accuracy per "
            "class and where the\ncheckpoint is; then try 'cnnlab predict --checkpoint runs/demo digit.png'.\n\n"
            "examples:\n  cnnlab demo\n  cnnlab demo --epochs 3 --out /tmp/demo")
    p.add_argument("--epochs", type=POSITIVE_INT, default=None, help="passes over the 4,000 training digits "
                   f"(default {EPOCHS})")
    p.add_argument("--out", default="runs/demo", metavar="DIR", help="folder for the run (replaced if it holds one)")
    p.set_defaults(func=commands["demo"])
    return parser


def given_options(parser, argv):
    """The option names (dests) typed in argv, parsed again with every default suppressed: how `--resume`
    tells a setting the user gives from one the parser filled in.

    >>> from cnnlab.cli import build_parser
    >>> sorted(given_options(build_parser(), ["train", "--epochs", "3", "--no-augment"]))
    ['augment', 'epochs']
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                for a in sub._actions:
                    a.default = argparse.SUPPRESS
    namespace = parser.parse_args(argv)
    return set(vars(namespace)) - {"command", "func"}
