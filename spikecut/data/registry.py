"""The data set registry: every data set the workflow can prepare, by name.

A data set builds all of its samples as model-ready arrays: ``static`` data sets give
one frame per sample ``[N, C, H, W]`` (repeated over T by direct encoding), ``events``
data sets give T frames per sample ``[N, T, C, H, W]``. Data sets with an official test
split say which samples belong to it; the others are split by ``prepare``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field, PositiveFloat, PositiveInt

from spikecut.settings.base import Strict

# Builders import their data source lazily: scikit-learn, torchvision's data sets and
# tonic take seconds to import, and only the data-preparation job needs them. This
# module itself is light: the workflow reads the options and input shapes from it
# before any job runs.

DIGIT_IMAGES = 1797  # scikit-learn's digits
DIGITS_PER_CLASS = 174  # the rarest digit's count, for split checks


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


class DigitsOptions(Strict):
    upsample: PositiveInt = Field(1, description="enlarge each 8x8 image by this factor")


class DigitsDVSOptions(Strict):
    recordings: PositiveInt = Field(4, description="per source image")


class GesturesDVSOptions(Strict):
    samples: int = Field(7000, ge=20, description="recordings, balanced over the 10 classes")


class EventOptions(Strict):
    """The downloaded event data sets."""

    size: tuple[PositiveInt, PositiveInt] | None = Field(
        None, description="(H, W) to resize frames to"
    )
    window_ms: PositiveFloat | None = Field(
        None, description="frame only each recording's first ms"
    )


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "static" or "events"
    num_classes: int
    # (T, seed, options, raw data folder) -> every sample of the data set
    build: Callable[[int, int, Strict, Path], Samples]
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
    # needs raw files fetched by spikecut.data.download (key of ARCHIVES)
    remote: bool = False
    # splits off its own test set (an official one, or a fixed split of its file list),
    # so data.test_fraction does not apply
    fixed_test: bool = False


def _build_digits(n_steps: int | None, seed: int, options: DigitsOptions, root: Path) -> Samples:
    from spikecut.data.digits import digits_frames, load_digit_images

    images, labels = load_digit_images()
    return Samples(digits_frames(images, upsample=options.upsample), labels)


def _build_digits_dvs(n_steps: int, seed: int, options: DigitsDVSOptions, root: Path) -> Samples:
    from spikecut.data.digits import load_digit_images
    from spikecut.data.digits_dvs import DVSParams, events_to_frames, synthesize_events

    images, labels = load_digit_images()
    params = DVSParams()
    events, source = synthesize_events(images, seed, params, options.recordings)
    return Samples(
        events_to_frames(events, n_bins=n_steps, params=params), labels[source], groups=source
    )


def _build_gestures_dvs(
    n_steps: int, seed: int, options: GesturesDVSOptions, root: Path
) -> Samples:
    from spikecut.data.gestures_dvs import GestureParams, events_to_frames, synthesize_events

    params = GestureParams()
    events, labels = synthesize_events(options.samples, seed, params)
    return Samples(events_to_frames(events, n_bins=n_steps, params=params), labels)


def _build_cifar(num_classes: int) -> Callable[[int, int, Strict, Path], Samples]:
    def build(n_steps: int | None, seed: int, options: Strict, root: Path) -> Samples:
        from spikecut.data.download import ARCHIVES, extracted_dir
        from spikecut.data.frames import load_cifar

        archive = ARCHIVES[f"cifar{num_classes}"][0]
        return Samples(*load_cifar(extracted_dir(root, archive), num_classes))

    return build


def _build_tiny_imagenet(n_steps: int | None, seed: int, options: Strict, root: Path) -> Samples:
    from spikecut.data.download import ARCHIVES, extracted_dir
    from spikecut.data.frames import load_tiny_imagenet

    folder = extracted_dir(root, ARCHIVES["tiny-imagenet"][0]) / "tiny-imagenet-200"
    return Samples(*load_tiny_imagenet(folder))


def _fixed(shape: tuple[int, int, int]) -> Callable[[Strict], tuple[int, int, int]]:
    return lambda options: shape


def _downloaded_images(
    name: str,
    num_classes: int,
    build: Callable[[int | None, int, Strict, Path], Samples],
    side: int,
    norm: tuple[tuple[float, ...], tuple[float, ...]],
) -> DatasetSpec:
    """A downloaded set of ``side`` x ``side`` colour images with its official test
    split, normalised by its training images' channel statistics ``norm``."""
    return DatasetSpec(
        name,
        "static",
        num_classes,
        build,
        NoOptions,
        _fixed((3, side, side)),
        None,
        *norm,
        remote=True,
        fixed_test=True,
    )


def _downloaded_events(name: str, num_classes: int, sensor: tuple[int, int]) -> DatasetSpec:
    """A downloaded event data set, recorded by a camera of ``sensor`` (H, W) pixels."""

    def build(n_steps: int, seed: int, options: EventOptions, root: Path) -> Samples:
        from spikecut.data.events import load_event_dataset

        return Samples(
            *load_event_dataset(name, root, sensor, n_steps, options.size, options.window_ms)
        )

    return DatasetSpec(
        name,
        "events",
        num_classes,
        build,
        EventOptions,
        lambda options: (2, *(options.size or sensor)),
        remote=True,
        fixed_test=True,
    )


# Per-channel statistics of the training images, as commonly used for each set.
_CIFAR10_NORM = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
_CIFAR100_NORM = ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))
_IMAGENET_NORM = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "digits",
            "static",
            10,
            _build_digits,
            DigitsOptions,
            lambda o: (1, 8 * o.upsample, 8 * o.upsample),
            lambda o: (DIGIT_IMAGES, DIGIT_IMAGES, DIGITS_PER_CLASS),
        ),
        DatasetSpec(
            "digits-dvs",
            "events",
            10,
            _build_digits_dvs,
            DigitsDVSOptions,
            _fixed((2, 34, 34)),
            lambda o: (DIGIT_IMAGES * o.recordings, DIGIT_IMAGES, DIGITS_PER_CLASS),
        ),
        DatasetSpec(
            "gestures-dvs",
            "events",
            10,
            _build_gestures_dvs,
            GesturesDVSOptions,
            _fixed((2, 32, 32)),
            lambda o: (o.samples, o.samples, o.samples // 10),
        ),
        _downloaded_images("cifar10", 10, _build_cifar(10), 32, _CIFAR10_NORM),
        _downloaded_images("cifar100", 100, _build_cifar(100), 32, _CIFAR100_NORM),
        _downloaded_images("tiny-imagenet", 200, _build_tiny_imagenet, 64, _IMAGENET_NORM),
        _downloaded_events("dvs128-gesture", 11, (128, 128)),
        _downloaded_events("n-caltech101", 101, (180, 240)),
        _downloaded_events("cifar10-dvs", 10, (128, 128)),
    )
}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; registered: {sorted(DATASETS)}") from None
