"""N-Caltech101 (Orchard et al. 2015): Caltech101's images seen by an ATIS camera under
saccades, without the background class; the first 90 % of each class's sorted
recordings train, the rest test."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikecut.data.download import Archive, extract, unpack_again
from spikecut.data.spec import downloaded_events, per_class_split

ARCHIVES = (
    Archive(
        "https://data.mendeley.com/public-files/datasets/cy6cvx3ryv/files/"
        "36b5c52a-b49d-4853-addb-a836a8883e49/file_downloaded",
        "66201824eabb0239c7ab992480b50ba3",
        "N-Caltech101-archive.zip",
    ),
)
NCALTECH_DTYPE = np.dtype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])


def class_folder(root: Path) -> Path:
    """The class folders of N-Caltech101; the outer archive holds a second zip."""
    outer = root / "N-Caltech101-archive.zip.d"
    inner = sorted(outer.rglob("Caltech101.zip"))
    if not inner:
        raise FileNotFoundError(f"no Caltech101.zip under {outer}: fetch the data set first")
    return (
        extract(inner[0], outer / "Caltech101.zip.d", unpack_again(ARCHIVES, root)) / "Caltech101"
    )


def list_files(root: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """N-Caltech101's recordings without its background class, split 9:1 per class."""
    return per_class_split(class_folder(root), "*.bin", exclude=("BACKGROUND_Google",))


def read_events(path: Path) -> np.ndarray:
    import tonic.io  # seconds to import: only when preparing

    size = path.stat().st_size
    if size % 5:  # ATIS files are whole 5-byte events; tonic would drop a torn tail
        raise ValueError(f"{size} bytes is not a whole number of 5-byte events")
    events = tonic.io.read_mnist_file(str(path), dtype=NCALTECH_DTYPE)
    # recordings are offset on the sensor; move each to the origin, as tonic does
    events["x"] -= events["x"].min()
    events["y"] -= events["y"].min()
    return events


DATASET = downloaded_events("n-caltech101", 101, (180, 240), ARCHIVES, list_files, read_events)
