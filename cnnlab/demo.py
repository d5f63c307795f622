"""`make demo` / `cnnlab demo`: follow one batch through LeNet-5 layer by layer (this module), then train it on the
bundled 5,000 real MNIST digits and report validation accuracy per class (cli.cmd_demo runs `cnnlab train`)."""
import cnnlab
from .data import MNISTSample


def walkthrough(write=print):
    """Push a batch of 8 digits through an untrained LeNet-5 and print every layer's output shape."""
    from . import models
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
