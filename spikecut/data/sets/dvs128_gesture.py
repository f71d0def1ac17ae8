"""DVS128 Gesture (Amir et al. 2017): 11 hand gestures of 29 people under three lights,
recorded by a DVS128 camera; the official split by person."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikecut.data.download import Archive
from spikecut.data.spec import downloaded_events

ARCHIVES = (
    Archive(
        "https://figshare.com/ndownloader/files/38022171",
        "3a8f0d4120a166bac7591f77409cb105",
        "ibmGestureTrain.tar.gz",
    ),
    Archive(
        "https://figshare.com/ndownloader/files/38020584",
        "56070e45dadaa85fff82e0fbfbc06de5",
        "ibmGestureTest.tar.gz",
    ),
)
GESTURE_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("p", "?"), ("t", "<i8")])


def list_files(root: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """Files, labels and the official test mask of DVS128 Gesture under ``root``, the
    folder holding ``ibmGestureTrain.tar.gz.d`` and ``ibmGestureTest.tar.gz.d``."""
    files, labels, is_test = [], [], []
    for part, test in (("ibmGestureTrain", False), ("ibmGestureTest", True)):
        folder = root / f"{part}.tar.gz.d" / part
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is missing: fetch the data set first")
        for path in sorted(folder.glob("*/*.npy")):
            files.append(path)
            labels.append(int(path.stem))
            is_test.append(test)
    return files, np.asarray(labels, dtype=np.int64), np.asarray(is_test)


def read_events(path: Path) -> np.ndarray:
    """One recording as structured (x, y, p, t[us]) events; the files store ms."""
    raw = np.load(path)
    events = np.empty(len(raw), dtype=GESTURE_DTYPE)
    events["x"], events["y"], events["p"] = raw[:, 0], raw[:, 1], raw[:, 2]
    events["t"] = np.round(raw[:, 3] * 1000).astype(np.int64)
    return events


DATASET = downloaded_events("dvs128-gesture", 11, (128, 128), ARCHIVES, list_files, read_events)
