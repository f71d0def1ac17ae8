"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009): 60,000 32×32 colour images of 10 or 100
classes each, with the official split of 10,000 test images; one loader reads both."""

from __future__ import annotations

from pathlib import Path

from spikecut.data.download import Archive
from spikecut.data.spec import DatasetSpec, downloaded_images

# per-channel (mean, std) of each training set, and its archive as published
_SOURCES = {
    10: (
        ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
        Archive(
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "c58f30108f718f92721af3b95e74349a",
            "cifar-10-python.tar.gz",
        ),
    ),
    100: (
        ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
        Archive(
            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
            "eb9058c3a382ffc7106e4002c42a8d85",
            "cifar-100-python.tar.gz",
        ),
    ),
}


def _cifar(num_classes: int) -> DatasetSpec:
    def load(folder: Path):
        from spikecut.data.frames import load_cifar

        return load_cifar(folder, num_classes)

    norm, archive = _SOURCES[num_classes]
    return downloaded_images(f"cifar{num_classes}", num_classes, load, 32, norm, archive)


DATASETS = (_cifar(10), _cifar(100))
