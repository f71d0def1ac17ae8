"""Loaders of the paper's frame data sets from their extracted archives.

Both return every sample as uint8 ``[N, 3, H, W]`` with int64 labels and a mask of the
official test split. CIFAR's batch files are read in the layout torchvision's data set
classes define (their names, folder and pickled rows); Tiny-ImageNet, which torchvision
lacks, is read from its published folder layout with PIL.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torchvision.datasets
from PIL import Image

from spikecut.data.download import marker_of
from spikecut.recovery import remake

CIFAR = {10: torchvision.datasets.CIFAR10, 100: torchvision.datasets.CIFAR100}


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, list[int]]:
    with open(path, "rb") as fh:
        entry = pickle.load(fh, encoding="latin1")
    labels = entry["labels"] if "labels" in entry else entry["fine_labels"]
    return np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32), labels


def load_cifar(root: str | Path, num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CIFAR-10 or CIFAR-100 from ``root`` (the folder holding ``cifar-10-batches-py``
    or ``cifar-100-python``). The archive's md5 is checked once, when it is fetched, so
    the batch files are not hashed again on every preparation (torchvision does)."""
    cls = CIFAR[num_classes]
    folder = Path(root) / cls.base_folder
    images, labels, is_test = [], [], []
    for names, test in ((cls.train_list, False), (cls.test_list, True)):
        for name, _ in names:
            try:
                x, y = _read_cifar_batch(folder / name)
            except (OSError, EOFError, KeyError, ValueError, pickle.UnpicklingError) as err:
                marker = marker_of(Path(root).parent)
                raise FileNotFoundError(
                    f"no valid {cls.base_folder} under {root}: {folder / name} is missing "
                    f"or corrupt ({type(err).__name__}: {err}); "
                    f"{remake(root, also=[marker], target=marker)} (the archive is unpacked "
                    "again)"
                ) from err
            images.append(x)
            labels += y
            is_test += [test] * len(y)
    return (
        np.ascontiguousarray(np.concatenate(images)),
        np.asarray(labels, dtype=np.int64),
        np.asarray(is_test),
    )


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
        raise FileNotFoundError(
            f"{wnids_file} is missing: {root} is not an extracted tiny-imagenet-200 folder"
        )
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
