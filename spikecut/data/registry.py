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

# Builders import their data source lazily: scikit-learn, torchvision's data sets and
# tonic take seconds to import, and only the data-preparation job needs them.


@dataclass(frozen=True)
class Samples:
    x: np.ndarray
    y: np.ndarray
    is_test: np.ndarray | None = None  # the official test split, where there is one
    # the source each sample was recorded from, where several share one: splits keep
    # each source's samples together
    groups: np.ndarray | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "static" or "events"
    num_classes: int
    # (T, seed, options, raw data folder) -> every sample of the data set
    build: Callable[[int, int, dict, Path], Samples]
    # uint8 frames are scaled to [0, 1], then normalised per channel with these
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    # needs raw files fetched by spikecut.data.download (key of ARCHIVES)
    remote: bool = False


def _options(name: str, options: dict, allowed: dict) -> dict:
    """``allowed`` (name: default) updated by ``options``; an unknown option fails."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"data set {name!r} has no options {unknown}; it takes "
                         f"{sorted(allowed)}")
    return allowed | options


def _build_digits(n_steps: int, seed: int, options: dict, root: Path) -> Samples:
    from spikecut.data.digits import digits_frames, load_digit_images

    opts = _options("digits", options, {"upsample": 1})
    images, labels = load_digit_images()
    return Samples(digits_frames(images, upsample=opts["upsample"]), labels)


def _build_digits_dvs(n_steps: int, seed: int, options: dict, root: Path) -> Samples:
    from spikecut.data.digits import load_digit_images
    from spikecut.data.digits_dvs import DVSParams, events_to_frames, synthesize_events

    opts = _options("digits-dvs", options, {"recordings": 1})
    images, labels = load_digit_images()
    params = DVSParams()
    events, source = synthesize_events(images, seed, params, opts["recordings"])
    return Samples(events_to_frames(events, n_bins=n_steps, params=params), labels[source],
                   groups=source)


def _build_gestures_dvs(n_steps: int, seed: int, options: dict, root: Path) -> Samples:
    from spikecut.data.gestures_dvs import GestureParams, events_to_frames, synthesize_events

    opts = _options("gestures-dvs", options, {"samples": 2000})
    params = GestureParams()
    events, labels = synthesize_events(opts["samples"], seed, params)
    return Samples(events_to_frames(events, n_bins=n_steps, params=params), labels)


def _build_cifar(num_classes: int) -> Callable[[int, int, dict, Path], Samples]:
    def build(n_steps: int, seed: int, options: dict, root: Path) -> Samples:
        from spikecut.data.download import ARCHIVES, extracted_dir
        from spikecut.data.frames import load_cifar

        archive = ARCHIVES[f"cifar{num_classes}"][0]
        return Samples(*load_cifar(extracted_dir(root, archive), num_classes))

    return build


def _build_tiny_imagenet(n_steps: int, seed: int, options: dict, root: Path) -> Samples:
    from spikecut.data.download import ARCHIVES, extracted_dir
    from spikecut.data.frames import load_tiny_imagenet

    folder = extracted_dir(root, ARCHIVES["tiny-imagenet"][0]) / "tiny-imagenet-200"
    return Samples(*load_tiny_imagenet(folder))


def _build_events(name: str) -> Callable[[int, int, dict, Path], Samples]:
    def build(n_steps: int, seed: int, options: dict, root: Path) -> Samples:
        from spikecut.data.events import load_event_dataset

        return Samples(*load_event_dataset(name, root, n_steps, options))

    return build


# Per-channel statistics of the training images, as commonly used for each set.
_CIFAR10_NORM = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
_CIFAR100_NORM = ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))
_IMAGENET_NORM = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec("digits", "static", 10, _build_digits),
        DatasetSpec("digits-dvs", "events", 10, _build_digits_dvs),
        DatasetSpec("gestures-dvs", "events", 10, _build_gestures_dvs),
        DatasetSpec("cifar10", "static", 10, _build_cifar(10), *_CIFAR10_NORM, remote=True),
        DatasetSpec("cifar100", "static", 100, _build_cifar(100), *_CIFAR100_NORM,
                    remote=True),
        DatasetSpec("tiny-imagenet", "static", 200, _build_tiny_imagenet, *_IMAGENET_NORM,
                    remote=True),
        DatasetSpec("dvs128-gesture", "events", 11, _build_events("dvs128-gesture"),
                    remote=True),
        DatasetSpec("n-caltech101", "events", 101, _build_events("n-caltech101"),
                    remote=True),
        DatasetSpec("cifar10-dvs", "events", 10, _build_events("cifar10-dvs"), remote=True),
    )
}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; registered: {sorted(DATASETS)}") from None
