"""Loaders of the paper's event data sets from their extracted archives, read with
tonic's readers and framed with tonic's transforms.

File lists are sorted, so splits never depend on file-system order. DVS128 Gesture keeps
its official user split; N-Caltech101 and CIFAR10-DVS take the first 90 % of each
class's sorted files for training and the rest for testing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tonic.io
import tonic.transforms

from spikecut.data.download import extract, unpack_again

GESTURE_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("p", "?"), ("t", "<i8")])
NCALTECH_DTYPE = np.dtype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])


def list_gesture(root: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
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


def read_gesture(path: Path) -> np.ndarray:
    """One recording as structured (x, y, p, t[us]) events; the files store ms."""
    raw = np.load(path)
    events = np.empty(len(raw), dtype=GESTURE_DTYPE)
    events["x"], events["y"], events["p"] = raw[:, 0], raw[:, 1], raw[:, 2]
    events["t"] = np.round(raw[:, 3] * 1000).astype(np.int64)
    return events


def per_class_split(
    folder: Path, pattern: str, exclude: tuple[str, ...] = (), train_share: float = 0.9
) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """Files of each class folder (classes in sorted order), with the last
    ``1 - train_share`` of each class's sorted files marked as test."""
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and d.name not in exclude)
    files, labels, is_test = [], [], []
    for label, name in enumerate(classes):
        members = sorted((folder / name).glob(pattern))
        n_train = math.ceil(train_share * len(members))
        files += members
        labels += [label] * len(members)
        is_test += [i >= n_train for i in range(len(members))]
    return files, np.asarray(labels, dtype=np.int64), np.asarray(is_test)


def ncaltech_folder(root: Path) -> Path:
    """The class folders of N-Caltech101; the outer archive holds a second zip."""
    outer = root / "N-Caltech101-archive.zip.d"
    inner = sorted(outer.rglob("Caltech101.zip"))
    if not inner:
        raise FileNotFoundError(f"no Caltech101.zip under {outer}: fetch the data set first")
    return (
        extract(inner[0], outer / "Caltech101.zip.d", unpack_again("n-caltech101", root))
        / "Caltech101"
    )


def ncaltech_files(root: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """N-Caltech101's recordings without its background class, split 9:1 per class."""
    return per_class_split(ncaltech_folder(root), "*.bin", exclude=("BACKGROUND_Google",))


def read_ncaltech(path: Path) -> np.ndarray:
    size = path.stat().st_size
    if size % 5:  # ATIS files are whole 5-byte events; tonic would drop a torn tail
        raise ValueError(f"{size} bytes is not a whole number of 5-byte events")
    events = tonic.io.read_mnist_file(str(path), dtype=NCALTECH_DTYPE)
    # recordings are offset on the sensor; move each to the origin, as tonic does
    events["x"] -= events["x"].min()
    events["y"] -= events["y"].min()
    return events


def cifar10dvs_files(root: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """CIFAR10-DVS: the outer archive holds one zip per class, each unpacked once; the
    first 90 % of each class's sorted recordings train, the rest test."""
    outer = root / "CIFAR10DVS.zip.d"
    class_zips = sorted(outer.rglob("*.zip"))
    if not class_zips:
        raise FileNotFoundError(f"no class archives under {outer}: fetch the data set first")
    unpacked = outer / "classes"
    unpacked.mkdir(exist_ok=True)
    for archive in class_zips:
        extract(archive, unpacked / archive.stem, unpack_again("cifar10-dvs", root))
    return per_class_split(unpacked, "**/*.aedat4")


def read_cifar10dvs(path: Path) -> np.ndarray:
    """One AEDAT4 recording as structured (t, x, y, p) events, through tonic."""
    events = tonic.io.read_aedat4(str(path))
    events.dtype.names = ("t", "x", "y", "p")
    return events


def frame_events(
    events: list[np.ndarray],
    sensor: tuple[int, int, int],
    n_bins: int,
    size: tuple[int, int] | None = None,
    window_ms: float | None = None,
) -> np.ndarray:
    """Each recording's events in ``n_bins`` equal slices, as uint8 counts
    ``[N, T, 2, H, W]``. The slices cover the recording from its first to its last
    event, or only its first ``window_ms`` milliseconds when given. ``size`` (H, W)
    first rescales the event coordinates. ``sensor`` is (W, H, polarities), tonic's
    order.

    The slices span first to last event inclusive: tonic's ``n_time_bins`` leaves the
    last event out, so we give ``ToFrame`` the window explicitly.
    """
    width, height = sensor[:2]
    resize = None
    if size is not None:
        resize = tonic.transforms.Downsample(sensor_size=sensor, target_size=size[::-1])
        sensor = (size[1], size[0], 2)
    frames = np.zeros((len(events), n_bins, 2, sensor[1], sensor[0]), dtype=np.uint8)
    for i, ev in enumerate(events):
        # a few recordings stray past the nominal sensor; their stray events are dropped
        ev = ev[(ev["x"] < width) & (ev["y"] < height)]
        if len(ev) == 0:
            continue
        if resize is not None:
            ev = resize(ev)
        start = int(ev["t"].min())
        end = int(ev["t"].max()) + 1 if window_ms is None else start + int(window_ms * 1000)
        # include_incomplete rounds the slice count up, so float error can only add an
        # empty trailing slice, which [:n_bins] drops
        to_frame = tonic.transforms.ToFrame(
            sensor_size=sensor,
            time_window=(end - start) / n_bins,
            start_time=start,
            end_time=end,
            include_incomplete=True,
        )
        frames[i] = np.minimum(to_frame(ev)[:n_bins], 255)
    return frames


@dataclass(frozen=True)
class EventSource:
    list_files: Callable[[Path], tuple[list[Path], np.ndarray, np.ndarray]]
    read: Callable[[Path], np.ndarray]


SOURCES = {
    "dvs128-gesture": EventSource(list_gesture, read_gesture),
    "n-caltech101": EventSource(ncaltech_files, read_ncaltech),
    "cifar10-dvs": EventSource(cifar10dvs_files, read_cifar10dvs),
}


def load_event_dataset(
    name: str,
    root: Path,
    sensor: tuple[int, int],
    n_bins: int,
    size: tuple[int, int] | None = None,
    window_ms: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames, labels and test mask of event data set ``name`` from its raw folder;
    ``sensor`` is the camera's (H, W)."""
    source = SOURCES[name]
    files, labels, is_test = source.list_files(root)
    frames = frame_events(
        [read_event_file(name, source, f, root) for f in files],
        (sensor[1], sensor[0], 2),  # tonic's order: (W, H, polarities)
        n_bins,
        size,
        window_ms,
    )
    return frames, labels, is_test


def read_event_file(name: str, source: EventSource, path: Path, root: Path) -> np.ndarray:
    """One recording, or a clear error naming the file when it cannot be read."""
    try:
        return source.read(path)
    except Exception as err:  # numpy, tonic and aedat each raise their own kinds
        raise ValueError(
            f"event file {path} is corrupt or truncated ({type(err).__name__}: "
            f"{err}); {unpack_again(name, root)}"
        ) from err
