"""What the workflow knows of a data set without reading it: the kind of its samples,
its classes, its options and frame shape, where its files come from; and the shapes of
the downloaded ones, which several data sets share. Light: the settings read it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field, PositiveFloat, PositiveInt

from spikecut.data.download import Archive, extracted_dir
from spikecut.settings.base import Strict


@dataclass(frozen=True)
class Samples:
    x: np.ndarray
    y: np.ndarray
    is_test: np.ndarray | None = None  # the official test split, where there is one
    # the source each sample was recorded from, where several share one: splits keep
    # each source's samples together
    groups: np.ndarray | None = None


class NoOptions(Strict):
    pass


# (T, seed, options, raw data folder) -> every sample of the data set; T is None for
# static data that no run takes T steps of
Build = Callable[[int | None, int, Strict, Path], Samples]
# raw data folder -> what this machine holds of the data set without a download, as
# the fetched marker records it (each file's name -> {"path": where it is read from});
# raises DatasetUnavailable, saying how to get the data, where it holds none
Offline = Callable[[Path], dict[str, dict]]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "static" or "events"
    num_classes: int
    build: Build
    options: type[Strict]
    # (C, H, W) of one frame, given the options
    frame_shape: Callable[[Strict], tuple[int, int, int]]
    # (samples, sources, sources of the rarest class) where known without the data, a
    # source being what samples share (an image recorded several times): the split
    # checks use it
    sources: Callable[[Strict], tuple[int, int, int]] | None = None
    # uint8 frames are scaled to [0, 1], then normalised per channel with these
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    # what spikecut.data.download fetches, md5-checked, before the data set is prepared
    archives: tuple[Archive, ...] = ()
    # splits off its own test set (an official one, or a fixed split of its file list),
    # so data.test_fraction does not apply
    fixed_test: bool = False
    # where its files are found when they cannot be downloaded (a distribution's
    # package): the fetch stage falls back on it
    offline: Offline | None = None
    # the data set whose raw folder it reads, where it is made from another's files:
    # they are fetched once, for both; None reads its own
    raw_of: str | None = None

    @property
    def remote(self) -> bool:
        """Whether it is read from downloaded files."""
        return bool(self.archives)

    @property
    def raw_folder(self) -> str:
        """The folder under ``data.raw_root`` its files are fetched to and read from."""
        return self.raw_of or self.name


def kept_groups(size: int, n_groups: int, n: int) -> int:
    """How many of ``n_groups`` sources (``n`` samples) a stratified subset of about
    ``size`` samples takes: at least one."""
    return max(1, round(size * n_groups / n))


def fixed_shape(shape: tuple[int, int, int]) -> Callable[[Strict], tuple[int, int, int]]:
    return lambda options: shape


def downloaded_images(
    name: str,
    num_classes: int,
    load: Callable[[Path], tuple[np.ndarray, np.ndarray, np.ndarray]],
    side: int,
    norm: tuple[tuple[float, ...], tuple[float, ...]],
    archive: Archive,
) -> DatasetSpec:
    """A downloaded set of ``side`` x ``side`` colour images with its official test
    split, read by ``load`` from the folder ``archive`` unpacks to and normalised by
    its training images' channel statistics ``norm``."""

    def build(n_steps: int | None, seed: int, options: Strict, root: Path) -> Samples:
        return Samples(*load(extracted_dir(root, archive)))

    return DatasetSpec(
        name,
        "static",
        num_classes,
        build,
        NoOptions,
        fixed_shape((3, side, side)),
        None,
        *norm,
        archives=(archive,),
        fixed_test=True,
    )


class EventOptions(Strict):
    """The downloaded event data sets."""

    size: tuple[PositiveInt, PositiveInt] | None = Field(
        None, description="(H, W) to resize frames to"
    )
    window_ms: PositiveFloat | None = Field(
        None, description="frame only each recording's first ms"
    )


# root -> its recordings' files, their labels and the test mask
ListFiles = Callable[[Path], tuple[list[Path], np.ndarray, np.ndarray]]
# a file -> its structured events (x, y, p, t in microseconds)
ReadEvents = Callable[[Path], np.ndarray]


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


def downloaded_events(
    name: str,
    num_classes: int,
    sensor: tuple[int, int],
    archives: tuple[Archive, ...],
    list_files: ListFiles,
    read: ReadEvents,
) -> DatasetSpec:
    """A downloaded event data set, recorded by a camera of ``sensor`` (H, W) pixels,
    its recordings listed by ``list_files`` and read by ``read``."""

    def build(n_steps: int, seed: int, options: EventOptions, root: Path) -> Samples:
        from spikecut.data.events import load_event_dataset

        frames = load_event_dataset(
            list_files, read, archives, root, sensor, n_steps, options.size, options.window_ms
        )
        return Samples(*frames)

    return DatasetSpec(
        name,
        "events",
        num_classes,
        build,
        EventOptions,
        lambda options: (2, *(options.size or sensor)),
        archives=archives,
        fixed_test=True,
    )
