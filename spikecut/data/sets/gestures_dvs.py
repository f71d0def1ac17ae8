"""Synthetic recordings of ten hand motions (:mod:`spikecut.data.gestures_dvs`): events
whose class shows only over time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from spikecut.data.spec import DatasetSpec, Samples, fixed_shape
from spikecut.settings.base import Strict


class GesturesDVSOptions(Strict):
    samples: int = Field(7000, ge=20, description="recordings, balanced over the 10 classes")


def build(n_steps: int, seed: int, options: GesturesDVSOptions, root: Path) -> Samples:
    from spikecut.data.gestures_dvs import GestureParams, events_to_frames, synthesize_events

    params = GestureParams()
    events, labels = synthesize_events(options.samples, seed, params)
    return Samples(events_to_frames(events, n_bins=n_steps, params=params), labels)


DATASET = DatasetSpec(
    "gestures-dvs",
    "events",
    10,
    build,
    GesturesDVSOptions,
    fixed_shape((2, 32, 32)),
    lambda o: (o.samples, o.samples, o.samples // 10),
)
