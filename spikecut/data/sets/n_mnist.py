"""N-MNIST (Orchard et al. 2015): MNIST's 70,000 digits seen by an ATIS camera under
three saccades, cropped to 34×34 pixels; the official split of 10,000 test digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikecut.data.download import Archive
from spikecut.data.sets.n_caltech101 import NCALTECH_DTYPE
from spikecut.data.spec import downloaded_events

_URL = "https://data.mendeley.com/public-files/datasets/468j46mzdv/files/"
ARCHIVES = (
    Archive(
        _URL + "39c25547-014b-4137-a934-9d29fa53c7a0/file_downloaded",
        "20959b8e626244a1b502305a9e6e2031",
        "train.zip",
    ),
    Archive(
        _URL + "05a4d654-7e03-4c15-bdfa-9bb2bcbea494/file_downloaded",
        "69ca8762b2fe404d9b9bad1103e97832",
        "test.zip",
    ),
)


def list_files(root: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """Files, labels and the official test mask of N-MNIST under ``root``: each archive
    holds one folder per digit, named by it."""
    files, labels, is_test = [], [], []
    for archive, folder, test in zip(ARCHIVES, ("Train", "Test"), (False, True)):
        path = root / f"{archive.filename}.d" / folder
        if not path.is_dir():
            raise FileNotFoundError(f"{path} is missing: fetch the data set first")
        for recording in sorted(path.glob("*/*.bin")):
            files.append(recording)
            labels.append(int(recording.parent.name))
            is_test.append(test)
    return files, np.asarray(labels, dtype=np.int64), np.asarray(is_test)


def read_events(path: Path) -> np.ndarray:
    """One recording as structured (x, y, t [us], p) events; N-MNIST's files are
    N-Caltech101's format, on a sensor already cropped to the digit."""
    import tonic.io  # seconds to import: only when preparing

    size = path.stat().st_size
    if size % 5:  # ATIS files are whole 5-byte events; tonic would drop a torn tail
        raise ValueError(f"{size} bytes is not a whole number of 5-byte events")
    return tonic.io.read_mnist_file(str(path), dtype=NCALTECH_DTYPE)


DATASET = downloaded_events("n-mnist", 10, (34, 34), ARCHIVES, list_files, read_events)
