"""The data set registry: every data set the workflow can prepare, by name.

A data set builds all of its samples as model-ready arrays: ``static`` data sets give
one frame per sample ``[N, C, H, W]`` (repeated over T by direct encoding), ``events``
data sets give T frames per sample ``[N, T, C, H, W]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Builders import their data source lazily: scikit-learn and tonic take seconds to
# import, and only the data-preparation job needs them.


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "static" or "events"
    num_classes: int
    # (T, seed, options) -> (frames, labels) for every sample of the data set
    build: Callable[[int, int, dict], tuple[np.ndarray, np.ndarray]]


def _build_digits(n_steps: int, seed: int, options: dict) -> tuple[np.ndarray, np.ndarray]:
    from spikecut.data.digits import digits_frames, load_digit_images

    images, labels = load_digit_images()
    return digits_frames(images, upsample=options.get("upsample", 1)), labels


def _build_digits_dvs(n_steps: int, seed: int, options: dict) -> tuple[np.ndarray, np.ndarray]:
    from spikecut.data.digits import load_digit_images
    from spikecut.data.digits_dvs import DVSParams, events_to_frames, synthesize_events

    images, labels = load_digit_images()
    params = DVSParams()
    events = synthesize_events(images, seed=seed, params=params)
    return events_to_frames(events, n_bins=n_steps, params=params), labels


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec("digits", "static", 10, _build_digits),
        DatasetSpec("digits-dvs", "events", 10, _build_digits_dvs),
    )
}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; registered: {sorted(DATASETS)}") from None
