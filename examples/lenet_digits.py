"""LeNet-5 on the 5,000 real MNIST digits bundled with cnnlab: train it with the PyTorch-style loop, then look
inside: the filters its first layer learned, the feature maps of both convolution layers for one digit, the
training curves and the prediction.

    python examples/lenet_digits.py --out pictures        # about a minute on a laptop; needs matplotlib

Writes curves.png, filters.png and feature_maps.png.
"""
import argparse
import os

import cnnlab as torch
import cnnlab.nn as nn
from cnnlab import models, viz
from cnnlab.data import DataLoader, MNISTSample, TensorDataset


def digits(train, limit=None):
    """The bundled digits as a dataset of (1, 28, 28) float tensors normalised as MNIST usually is."""
    ds = MNISTSample(train=train)
    images, labels = ds.data[:limit], ds.targets[:limit]
    x = (images.float().unsqueeze(1) / 255.0 - 0.1307) / 0.3081  # (N, 1, 28, 28)
    return TensorDataset(x, labels)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="pictures", help="folder for the pictures")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 epoch on 512 digits (the tests use it)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    epochs, limit = (1, 512) if args.quick else (args.epochs, None)
    train = DataLoader(digits(True, limit), batch_size=64, shuffle=True)
    val = DataLoader(digits(False, limit), batch_size=256)

    model = models.lenet5()  # conv 5x5 (padding 2) -> pool -> conv 5x5 -> pool -> 3 linear layers
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    history = {"epoch": [], "train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        seen = correct = total_loss = 0
        for x, y in train:
            optimizer.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            seen += len(y)
            total_loss += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
        val_loss, val_acc = evaluate(model, val, loss_fn)
        for key, value in zip(history, (epoch, total_loss / seen, correct / seen, val_loss, val_acc)):
            history[key].append(value)
        print(f"epoch {epoch}: loss {total_loss / seen:.3f}, accuracy {correct / seen:.1%}, validation {val_acc:.1%}")

    os.makedirs(args.out, exist_ok=True)
    viz.history(history, path=os.path.join(args.out, "curves.png"))
    viz.filters(model.features[0], path=os.path.join(args.out, "filters.png"))  # the 6 learned 5x5 kernels
    x, label = val.dataset[0]
    viz.feature_maps(model, x.unsqueeze(0), path=os.path.join(args.out, "feature_maps.png"))
    model.eval()
    with torch.no_grad():
        probs = nn.functional.softmax(model(x.unsqueeze(0)), dim=1)[0]
    print(f"the first validation digit is a {label.item()}; the model says {probs.argmax().item()} "
          f"({probs.max().item():.1%}). Pictures in {args.out}/")


def evaluate(model, loader, loss_fn):
    model.eval()
    seen = correct = total_loss = 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
    return total_loss / seen, correct / seen


if __name__ == "__main__":
    main()
