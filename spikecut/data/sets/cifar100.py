"""CIFAR-100 (Krizhevsky 2009): 60,000 32×32 colour images of 100 classes, the official
split of 10,000 test images."""

from __future__ import annotations

from pathlib import Path

from spikecut.data.download import Archive
from spikecut.data.spec import downloaded_images


def load(folder: Path):
    from spikecut.data.frames import load_cifar

    return load_cifar(folder, 100)


DATASET = downloaded_images(
    "cifar100",
    100,
    load,
    32,
    ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    Archive(
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "eb9058c3a382ffc7106e4002c42a8d85",
        "cifar-100-python.tar.gz",
    ),
)
