"""CIFAR-10 (Krizhevsky 2009): 60,000 32×32 colour images of 10 classes, the official
split of 10,000 test images."""

from __future__ import annotations

from pathlib import Path

from spikecut.data.download import Archive
from spikecut.data.spec import downloaded_images


def load(folder: Path):
    from spikecut.data.frames import load_cifar

    return load_cifar(folder, 10)


DATASET = downloaded_images(
    "cifar10",
    10,
    load,
    32,
    ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    Archive(
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "c58f30108f718f92721af3b95e74349a",
        "cifar-10-python.tar.gz",
    ),
)
