"""Event data sets from their extracted archives: recordings read by each data set's
reader (:mod:`spikecut.data.sets`), framed with tonic's transforms.

File lists are sorted, so splits never depend on file-system order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tonic.transforms

from spikecut.data.download import Archive, unpack_again
from spikecut.data.spec import ListFiles, ReadEvents


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


def load_event_dataset(
    list_files: ListFiles,
    read: ReadEvents,
    archives: tuple[Archive, ...],
    root: Path,
    sensor: tuple[int, int],
    n_bins: int,
    size: tuple[int, int] | None = None,
    window_ms: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames, labels and test mask of the event data set unpacked from ``archives``
    under ``root``, its recordings listed by ``list_files`` and read by ``read``;
    ``sensor`` is the camera's (H, W)."""
    files, labels, is_test = list_files(root)
    frames = frame_events(
        [read_event_file(read, f, archives, root) for f in files],
        (sensor[1], sensor[0], 2),  # tonic's order: (W, H, polarities)
        n_bins,
        size,
        window_ms,
    )
    return frames, labels, is_test


def read_event_file(
    read: ReadEvents, path: Path, archives: tuple[Archive, ...], root: Path
) -> np.ndarray:
    """One recording, or a clear error naming the file when it cannot be read."""
    try:
        return read(path)
    except Exception as err:  # numpy, tonic and aedat each raise their own kinds
        raise ValueError(
            f"event file {path} is corrupt or truncated ({type(err).__name__}: "
            f"{err}); {unpack_again(archives, root)}"
        ) from err
