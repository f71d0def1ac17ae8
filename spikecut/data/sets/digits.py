"""sklearn's 8×8 digits (1,797 images of 10 classes), embedded: the conversion track's
static data set."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveInt

from spikecut.data.spec import DatasetSpec, Samples
from spikecut.settings.base import Strict

IMAGES = 1797
PER_CLASS = 174  # the rarest digit's count, for the split checks


class DigitsOptions(Strict):
    upsample: PositiveInt = Field(1, description="enlarge each 8x8 image by this factor")


def build(n_steps: int | None, seed: int, options: DigitsOptions, root: Path) -> Samples:
    from spikecut.data.digits import digits_frames, load_digit_images

    images, labels = load_digit_images()
    return Samples(digits_frames(images, upsample=options.upsample), labels)


DATASET = DatasetSpec(
    "digits",
    "static",
    10,
    build,
    DigitsOptions,
    lambda o: (1, 8 * o.upsample, 8 * o.upsample),
    lambda o: (IMAGES, IMAGES, PER_CLASS),
)
