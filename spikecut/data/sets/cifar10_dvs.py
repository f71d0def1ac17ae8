"""CIFAR10-DVS (Li et al. 2017): CIFAR-10 images moved on a monitor before a DVS128
camera; the first 90 % of each class's sorted recordings train, the rest test."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikecut.data.download import Archive, extract, unpack_again
from spikecut.data.spec import downloaded_events, per_class_split

ARCHIVES = (
    Archive(
        "https://figshare.com/ndownloader/files/38023437",
        "ce3a4a0682dc0943703bd8f749a7701c",
        "CIFAR10DVS.zip",
    ),
)


def list_files(root: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """CIFAR10-DVS: the outer archive holds one zip per class, each unpacked once; the
    first 90 % of each class's sorted recordings train, the rest test."""
    outer = root / "CIFAR10DVS.zip.d"
    class_zips = sorted(outer.rglob("*.zip"))
    if not class_zips:
        raise FileNotFoundError(f"no class archives under {outer}: fetch the data set first")
    unpacked = outer / "classes"
    unpacked.mkdir(exist_ok=True)
    for archive in class_zips:
        extract(archive, unpacked / archive.stem, unpack_again(ARCHIVES, root))
    return per_class_split(unpacked, "**/*.aedat4")


def read_events(path: Path) -> np.ndarray:
    """One AEDAT4 recording as structured (t, x, y, p) events, through tonic."""
    import tonic.io  # seconds to import: only when preparing

    events = tonic.io.read_aedat4(str(path))
    events.dtype.names = ("t", "x", "y", "p")
    return events


DATASET = downloaded_events("cifar10-dvs", 10, (128, 128), ARCHIVES, list_files, read_events)
