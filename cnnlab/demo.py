"""`make demo` / `cnnlab demo`: follow one batch through LeNet-5 layer by layer, then train it on the bundled
5,000 real MNIST digits and report validation accuracy per class."""
import cnnlab


def walkthrough(write=print):
    """Push a batch of 8 digits through an untrained LeNet-5 and print every layer's output shape."""
    from . import models
    from .data import MNISTSample
    cnnlab.manual_seed(0)
    model = models.lenet5()
    x = MNISTSample(train=False).data[:8].float().unsqueeze(1) / 255.0
    write(f"LeNet-5, {sum(p.numel() for p in model.parameters()):,} parameters. One batch, layer by layer:")
    write(f"  {str(tuple(x.shape)):<17} input")
    with cnnlab.no_grad():
        for layer in list(model.features) + list(model.classifier):
            x = layer(x)
            write(f"  {str(tuple(x.shape)):<17} {layer!r}")
    write("")


def main(epochs=None, out="runs/demo", invoked_as="cnnlab"):
    """The walkthrough, then `cnnlab train` with its defaults (the demo's settings are the command's defaults,
    so what a user types first gives the demo's result)."""
    from .cli import main as cli_main
    walkthrough()
    return cli_main(["train", "--out", out, "--overwrite"] + (["--epochs", str(epochs)] if epochs else []),
                    invoked_as=invoked_as)
