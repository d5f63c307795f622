"""A U-Net that trains: segment the circles, not the squares, in noisy synthetic images.

Each 32x32 image holds one to three shapes, circles and squares of random size, brightness and place, with
Gaussian noise; the mask marks the circles' pixels. Circles and squares have the same brightness, so a
pixel's value alone cannot tell them apart: the network has to use the shape around it, which is what the
U-Net's contracting path and skip connections give it. cnnlab.models.unet with padding=1 (the output has the
input's size), a small base_channels, trained with Adam on per-pixel cross-entropy; the intersection over
union (IoU) of the circle class is measured on held-out images, and a PNG shows input / true mask /
prediction for a few of them.

    python examples/unet_segmentation.py                  # the README's numbers
    python examples/unet_segmentation.py --quick          # a reduced run (seconds), what the tests run
"""
import argparse
import time

import numpy as np

import cnnlab as torch
import cnnlab.nn.functional as F
from cnnlab.models import unet
from cnnlab.utils.image import make_grid, save_image

SIZE = 32


def shapes(n, seed, size=SIZE, noise=0.25):
    """(images (n, 1, size, size) float32, masks (n, size, size) int64: 1 on circles, 0 elsewhere)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images = np.zeros((n, size, size), np.float32)
    masks = np.zeros((n, size, size), np.int64)
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            r = rng.uniform(3.5, 7.5)
            cy, cx = rng.uniform(r, size - r, 2)
            circle = rng.random() < 0.5
            inside = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r) if circle else \
                (np.abs(yy - cy) <= r * 0.85) & (np.abs(xx - cx) <= r * 0.85)  # about the circle's area
            images[i][inside] = rng.uniform(0.5, 1.0)
            masks[i][inside] = int(circle)  # a later shape covers an earlier one
    images += rng.normal(0, noise, images.shape).astype(np.float32)
    return images[:, None], masks


def iou(pred, masks):
    """Intersection over union of the circle class over all pixels of all images."""
    inter, union = np.logical_and(pred == 1, masks == 1).sum(), np.logical_or(pred == 1, masks == 1).sum()
    return float(inter / union) if union else 1.0


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[i:i + 64])).argmax(1).numpy() for i in range(0, len(x), 64)])


def run(quick=False, train_images=800, test_images=300, epochs=10, base_channels=16, seed=0, png=None,
        log=print):
    """Train and measure; returns {'iou': held-out IoU of the circles, 'chance': IoU of marking every pixel,
    'seconds': wall time}. png: where to write input / true mask / prediction rows (None: nowhere)."""
    if quick:
        train_images, test_images, epochs, base_channels = 200, 100, 5, 8
    t0 = time.perf_counter()
    x, y = shapes(train_images, seed)
    x_test, y_test = shapes(test_images, seed + 1)
    torch.manual_seed(seed)
    model = unet(in_channels=1, num_classes=2, base_channels=base_channels, depth=2, padding=1, batch_norm=True)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    # circles cover about a tenth of the pixels: weigh them up, or "all background" is a cheap local minimum
    weight = torch.tensor([1.0, 4.0])
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        model.train()
        order, total = rng.permutation(len(x)), 0.0
        for i in range(0, len(x), 16):
            idx = order[i:i + 16]
            loss = F.cross_entropy(model(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]), weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1}/{epochs}: training loss {total / len(x):.4f}")
    pred = predict(model, x_test)
    result = {"iou": iou(pred, y_test), "chance": iou(np.ones_like(y_test), y_test),
              "pixel_accuracy": float((pred == y_test).mean()), "seconds": time.perf_counter() - t0}
    log(f"held-out circles IoU {result['iou']:.3f} on {test_images} images (marking every pixel: "
        f"{result['chance']:.3f}), pixel accuracy {100 * result['pixel_accuracy']:.1f}%, "
        f"{result['seconds']:.0f} s")
    if png:
        k = 8  # rows: inputs, true masks, predictions
        rows = np.concatenate([np.clip(x_test[:k], 0, 1), y_test[:k, None], pred[:k, None]]).astype(np.float32)
        save_image(make_grid(torch.from_numpy(rows), nrow=k, padding=2, pad_value=0.5), png)
        log(f"wrote {png} (rows: input, true circle mask, predicted mask)")
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a reduced run (fewer images and epochs): seconds")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--png", default="unet_segmentation.png", help="where to write the picture")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    run(quick=args.quick, epochs=args.epochs, png=args.png, seed=args.seed)


if __name__ == "__main__":
    main()
