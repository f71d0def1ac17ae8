"""``gestures-dvs``: an event data set of motions, modelled on DVS128 Gesture.

The camera of :mod:`spikecut.data.camera` watches a bright, soft-edged disc move in
front of a dim, static, textured background. The class is the motion, so it can only
be read from how the events change over time, and some classes share their beginning:

=====  ==================  ==========================================================
class  name                motion of the disc
=====  ==================  ==========================================================
0      swipe right         left to right, at constant speed
1      swipe left          right to left
2      swipe up            bottom to top
3      swipe down          top to bottom
4      circle clockwise    out from the centre to the right (the first quarter), then
                           once around the centre clockwise
5      circle anticlock.   the same start, then once around anticlockwise
6      approach            stays put and grows to 2.2 times its size
7      recede              starts 2.2 times larger and shrinks back
8      right and back      swipe right for the first half, then back to the start
9      left and back       swipe left for the first half, then back
=====  ==================  ==========================================================

Classes 0 and 8, 1 and 9, and 4 and 5 are the same motion for the first part of the
gesture and part only later (at its middle, or after the circle's lead-in).

Per sample, at random: where the motion is centred (up to 2 pixels from the middle),
how far it goes (5 to 9 pixels), the disc's radius (2.5 to 4 pixels) and brightness,
when the gesture starts and how long it takes (75 to 95 % of the recording, so its
speed), the background texture, the sensor mismatch and the background event rate
(1 to 5 Hz per pixel). Before and after the gesture the disc is still. Everything
follows from the seed; classes are balanced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from spikecut.data import camera

CLASSES = (
    "swipe right",
    "swipe left",
    "swipe up",
    "swipe down",
    "circle clockwise",
    "circle anticlockwise",
    "approach",
    "recede",
    "right and back",
    "left and back",
)
_LEAD_IN = 0.25  # share of a circle gesture spent moving out to the circle
_GROWTH = 2.2  # approach and recede: the ratio of the largest to the smallest radius


@dataclass(frozen=True)
class GestureParams:
    sensor: int = 32
    duration_us: int = 400_000
    substeps: int = 80
    batch: int = 512  # recordings simulated at once

    @property
    def camera(self) -> camera.CameraParams:
        return camera.CameraParams(self.sensor, self.sensor)


def trajectory(
    label: np.ndarray, progress: np.ndarray, reach: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Offset of the disc from the gesture's centre ``[n, 2]`` (x right, y down) and
    its radius scale ``[n]``, at ``progress`` in [0, 1] through each gesture of class
    ``label`` that reaches ``reach`` pixels."""
    u = np.clip(progress, 0.0, 1.0)
    offset = np.zeros((len(u), 2))
    scale = np.ones(len(u))
    there_and_back = 1.0 - np.abs(2.0 * u - 1.0)  # 0 -> 1 -> 0
    lead = np.minimum(u / _LEAD_IN, 1.0)
    turn = 2 * np.pi * np.clip((u - _LEAD_IN) / (1 - _LEAD_IN), 0.0, 1.0)
    radius = 0.8 * reach
    moves = {
        0: (np.stack([(2 * u - 1) * reach, 0 * u], 1), None),
        1: (np.stack([(1 - 2 * u) * reach, 0 * u], 1), None),
        2: (np.stack([0 * u, (1 - 2 * u) * reach], 1), None),
        3: (np.stack([0 * u, (2 * u - 1) * reach], 1), None),
        # image y points down, so increasing angle turns clockwise on screen
        4: (
            np.stack(
                [
                    radius * np.where(u < _LEAD_IN, lead, np.cos(turn)),
                    radius * np.where(u < _LEAD_IN, 0.0, np.sin(turn)),
                ],
                1,
            ),
            None,
        ),
        5: (
            np.stack(
                [
                    radius * np.where(u < _LEAD_IN, lead, np.cos(turn)),
                    -radius * np.where(u < _LEAD_IN, 0.0, np.sin(turn)),
                ],
                1,
            ),
            None,
        ),
        6: (None, 1 + (_GROWTH - 1) * u),
        7: (None, _GROWTH - (_GROWTH - 1) * u),
        8: (np.stack([(2 * there_and_back - 1) * reach, 0 * u], 1), None),
        9: (np.stack([(1 - 2 * there_and_back) * reach, 0 * u], 1), None),
    }
    for cls, (shift, grow) in moves.items():
        rows = label == cls
        if shift is not None:
            offset[rows] = shift[rows]
        if grow is not None:
            scale[rows] = grow[rows]
    return offset, scale


def _background(rng: np.random.Generator, n: int, sensor: int) -> np.ndarray:
    """Dim, smooth, static texture per sample, ``[n, H, W]`` in about [0.05, 0.35]."""
    noise = ndimage.gaussian_filter(rng.random((n, sensor, sensor)), sigma=(0, 2, 2))
    noise = (noise - noise.mean(axis=(1, 2), keepdims=True)) * 4.0
    level = rng.uniform(0.15, 0.25, (n, 1, 1))
    return np.clip(level + noise, 0.05, 0.35)


def synthesize_events(
    n: int, seed: int, params: GestureParams = GestureParams()
) -> tuple[list[np.ndarray], np.ndarray]:
    """Events of ``n`` gesture recordings (structured x, y, t [us], p in {0, 1}, time
    sorted) and their labels, balanced over the classes; the same seed gives the same
    events, bit for bit."""
    if n < 1:
        raise ValueError(f"need at least one sample, got {n}")
    p = params
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.resize(np.arange(len(CLASSES)), n))
    grid = np.arange(p.sensor) + 0.5

    def simulate(rows: slice) -> list[np.ndarray]:
        label = labels[rows]
        m = len(label)
        centre = p.sensor / 2 + rng.uniform(-2.0, 2.0, (m, 2))
        reach = rng.uniform(5.0, 9.0, m)
        radius = rng.uniform(2.5, 4.0, m)
        brightness = rng.uniform(0.5, 1.0, m)
        length = rng.uniform(0.75, 0.95, m)
        onset = rng.uniform(0.0, 1.0, m) * (1.0 - length)
        background = _background(rng, m, p.sensor)

        def scene(t: float) -> np.ndarray:
            offset, scale = trajectory(label, (t - onset) / length, reach)
            cx, cy = (centre + offset).T
            dist = np.sqrt(
                (grid[None, None, :] - cx[:, None, None]) ** 2
                + (grid[None, :, None] - cy[:, None, None]) ** 2
            )
            disc = 1.0 / (1.0 + np.exp((dist - (radius * scale)[:, None, None]) / 0.5))
            return background + (brightness[:, None, None] - background) * disc

        scenes = (scene(k / p.substeps) for k in range(p.substeps + 1))
        noise = rng.uniform(1.0, 5.0, m)
        return camera.record(
            scenes, p.duration_us / p.substeps, p.camera.thresholds(rng, m), noise, p.camera, rng
        )

    return camera.record_in_batches(n, p.batch, simulate), labels


def events_to_frames(
    events: list[np.ndarray], n_bins: int, params: GestureParams = GestureParams()
) -> np.ndarray:
    """Event counts in ``n_bins`` equal bins of the recording window, ``[N, T, 2, H, W]``
    uint8 (see :func:`spikecut.data.camera.events_to_frames`)."""
    return camera.events_to_frames(events, n_bins, params.duration_us, params.sensor, params.sensor)
