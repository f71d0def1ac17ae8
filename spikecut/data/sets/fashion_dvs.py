"""Each Fashion-MNIST image watched by the project's event-camera model under saccades,
as N-MNIST was recorded from MNIST: the camera, saccades and framing of ``digits-dvs``
(:mod:`spikecut.data.digits_dvs`), on the files of ``fashion-mnist``
(:mod:`spikecut.data.sets.fashion_mnist`, which finds and checks them: downloaded once
for both to ``<data.raw_root>/fashion-mnist``, or Debian's) with its official test
split; every recording of an image stays in one split.

Where ``digits-dvs`` enlarges its 8×8 digits to 28×28, these images are already that
size: each image pixel is one pixel of the 34×34 sensor, on which the image moves along
a closed triangle of three 100 ms saccades, as in N-MNIST's 34×34 crops. Unlike
N-MNIST's ATIS camera, which filmed the digits on a monitor, the model has no optics or
monitor (no blur, flicker or refresh), no refractory period or bandwidth limit: its
pixels see the image itself, with a contrast threshold that varies per pixel and
recording, and a random background rate.

Synthesis takes most of the preparation: about 3 s per 1,000 images on a 2-core Xeon,
so some 3.5 minutes for the 70,000: ``datasets.fashion-dvs.limit`` and ``train_limit``
subset only after it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import Field, PositiveInt

from spikecut.data.sets import fashion_mnist
from spikecut.data.spec import DatasetSpec, Samples, fixed_shape
from spikecut.settings.base import Strict

# images synthesised at once: only their events, not the whole set's (gigabytes), are
# held in memory before they are framed
CHUNK = 1024


class FashionDVSOptions(Strict):
    recordings: PositiveInt = Field(1, description="per source image")


def build(n_steps: int, seed: int, options: FashionDVSOptions, root: Path) -> Samples:
    from spikecut.data.digits_dvs import DVSParams, events_to_frames, synthesize_events

    images, labels, is_test = fashion_mnist.load(root)
    params = DVSParams()
    source = np.repeat(np.arange(len(images)), options.recordings)
    frames = np.empty((len(source), n_steps, 2, params.sensor, params.sensor), np.uint8)
    for k, start in enumerate(range(0, len(images), CHUNK)):
        chunk = images[start : start + CHUNK, 0] / np.float32(255)
        # one stream of the seed per chunk: the seed itself in every chunk would repeat
        # its saccade jitter, mismatch and noise there
        chunk_seed = int(np.random.SeedSequence((seed, k)).generate_state(1)[0])
        events, _ = synthesize_events(chunk, chunk_seed, params, options.recordings)
        rows = slice(start * options.recordings, (start + len(chunk)) * options.recordings)
        frames[rows] = events_to_frames(events, n_bins=n_steps, params=params)
    return Samples(frames, labels[source], is_test[source], source)


DATASET = DatasetSpec(
    "fashion-dvs",
    "events",
    10,
    build,
    FashionDVSOptions,
    fixed_shape((2, 34, 34)),
    archives=fashion_mnist.ARCHIVES,
    fixed_test=True,
    offline=fashion_mnist.offline,
    raw_of=fashion_mnist.DATASET.name,
)
