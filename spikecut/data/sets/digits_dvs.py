"""Each 8×8 digit watched by the project's event-camera model under saccades, as
N-MNIST was recorded from MNIST (:mod:`spikecut.data.digits_dvs`); every recording of
an image stays in one split."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveInt

from spikecut.data.sets.digits import IMAGES, PER_CLASS
from spikecut.data.spec import DatasetSpec, Samples, fixed_shape
from spikecut.settings.base import Strict


class DigitsDVSOptions(Strict):
    recordings: PositiveInt = Field(4, description="per source image")


def build(n_steps: int, seed: int, options: DigitsDVSOptions, root: Path) -> Samples:
    from spikecut.data.digits import load_digit_images
    from spikecut.data.digits_dvs import DVSParams, events_to_frames, synthesize_events

    images, labels = load_digit_images()
    params = DVSParams()
    events, source = synthesize_events(images, seed, params, options.recordings)
    return Samples(
        events_to_frames(events, n_bins=n_steps, params=params), labels[source], groups=source
    )


DATASET = DatasetSpec(
    "digits-dvs",
    "events",
    10,
    build,
    DigitsDVSOptions,
    fixed_shape((2, 34, 34)),
    lambda o: (IMAGES * o.recordings, IMAGES, PER_CLASS),
)
