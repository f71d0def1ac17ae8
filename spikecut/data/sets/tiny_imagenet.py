"""Tiny-ImageNet (Stanford CS231n): 200 classes of 64×64 colour images, 500 per class to
train and 50 to validate, the validation set serving as the test split."""

from __future__ import annotations

from pathlib import Path

from spikecut.data.download import Archive
from spikecut.data.spec import downloaded_images


def load(folder: Path):
    from spikecut.data.frames import load_tiny_imagenet

    return load_tiny_imagenet(folder / "tiny-imagenet-200")


DATASET = downloaded_images(
    "tiny-imagenet",
    200,
    load,
    64,
    ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    Archive(
        "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
        "90528d7ca1a48142e341f4ef8d21d0de",
        "tiny-imagenet-200.zip",
    ),
)
