"""Loaders of the paper's frame data sets from their extracted archives.

Both return every sample as uint8 ``[N, 3, H, W]`` with int64 labels and a mask of the
official test split. CIFAR goes through torchvision's own parser (which also checks
each batch file's md5); Tiny-ImageNet, which torchvision lacks, is read from its
published folder layout with PIL.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torchvision.datasets
from PIL import Image

CIFAR = {10: torchvision.datasets.CIFAR10, 100: torchvision.datasets.CIFAR100}


def load_cifar(root: str | Path, num_classes: int, dataset_cls=None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CIFAR-10 or CIFAR-100 from ``root`` (the folder holding ``cifar-10-batches-py``
    or ``cifar-100-python``)."""
    cls = dataset_cls or CIFAR[num_classes]
    try:
        train, test = cls(root, train=True), cls(root, train=False)
    except RuntimeError as err:
        raise FileNotFoundError(f"no valid {cls.base_folder} under {root}: {err}") from err
    x = np.concatenate([train.data, test.data]).transpose(0, 3, 1, 2)
    y = np.asarray(train.targets + test.targets, dtype=np.int64)
    is_test = np.arange(len(y)) >= len(train.targets)
    return np.ascontiguousarray(x), y, is_test


def _read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1)


def load_tiny_imagenet(root: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tiny-ImageNet-200 from ``root`` (the ``tiny-imagenet-200`` folder). Its labelled
    validation set serves as the test split, as is usual; classes are numbered in the
    order of ``wnids.txt``."""
    root = Path(root)
    wnids_file = root / "wnids.txt"
    if not wnids_file.exists():
        raise FileNotFoundError(f"{wnids_file} is missing: {root} is not an extracted "
                                "tiny-imagenet-200 folder")
    wnids = wnids_file.read_text().split()
    index = {w: i for i, w in enumerate(wnids)}
    paths, labels = [], []
    for wnid in wnids:
        files = sorted((root / "train" / wnid / "images").glob("*.JPEG"))
        if not files:
            raise FileNotFoundError(f"no training images for class {wnid} under {root}")
        paths += files
        labels += [index[wnid]] * len(files)
    n_train = len(paths)
    for line in sorted((root / "val" / "val_annotations.txt").read_text().splitlines()):
        name, wnid = line.split("\t")[:2]
        paths.append(root / "val" / "images" / name)
        labels.append(index[wnid])
    x = np.stack([_read_rgb(p) for p in paths])
    y = np.asarray(labels, dtype=np.int64)
    return x, y, np.arange(len(y)) >= n_train
