"""``digits-dvs``: an event data set synthesised from the digits by the N-MNIST method.

N-MNIST (Orchard et al., 2015) was recorded by moving an event camera through three
saccades in front of a static image. We simulate that camera
(:mod:`spikecut.data.camera`): the digit, upsampled and placed on a 34x34 sensor, is
translated along a closed triangular path. Because the path is closed, each pixel ends
where it started, so ON and OFF events come out nearly balanced.

Each source image is recorded several times. Every recording has its own saccade path
(each vertex jittered), its own sensor mismatch and its own background rate, so that
recordings of one image are alike but not identical; splits keep all recordings of an
image together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from spikecut.data import camera


@dataclass(frozen=True)
class DVSParams:
    sensor: int = 34
    digit_size: int = 28
    # Offsets (x, y) of the digit's top-left corner at the three saccade vertices.
    vertices: tuple[tuple[float, float], ...] = ((1.0, 1.0), (5.0, 3.0), (2.0, 5.0))
    vertex_jitter: float = 1.0  # pixels, per vertex and recording, uniform
    saccade_us: int = 100_000
    substeps: int = 20
    noise_rate_hz: float = 1.0  # mean; each recording draws 0.5 to 1.5 times it
    batch: int = 512  # recordings simulated at once

    @property
    def duration_us(self) -> float:
        return len(self.vertices) * self.saccade_us

    @property
    def camera(self) -> camera.CameraParams:
        return camera.CameraParams(self.sensor, self.sensor)


def _shift_matrices(offsets: np.ndarray, size: int, sensor: int) -> np.ndarray:
    """``[n, sensor, size]`` bilinear matrices placing ``size`` source pixels at the
    sub-pixel ``offsets`` ``[n]`` along one axis of the sensor."""
    whole = np.floor(offsets)[:, None, None]
    frac = offsets[:, None, None] - whole
    pixel = np.arange(sensor)[None, :, None]
    source = np.arange(size)[None, None, :]
    return (1 - frac) * (source == pixel - whole) + frac * (source == pixel - whole - 1)


def _render(digits: np.ndarray, ox: np.ndarray, oy: np.ndarray, sensor: int) -> np.ndarray:
    """Each digit ``[n, s, s]`` on the sensor at its own offset, ``[n, sensor, sensor]``."""
    s = digits.shape[1]
    rows, cols = _shift_matrices(oy, s, sensor), _shift_matrices(ox, s, sensor)
    return rows @ digits @ cols.transpose(0, 2, 1)


def synthesize_events(
    images: np.ndarray, seed: int, params: DVSParams = DVSParams(), recordings: int = 1
) -> tuple[list[np.ndarray], np.ndarray]:
    """Time-sorted structured events (x, y, t [us], p in {0, 1}) of ``recordings``
    recordings of each image, image by image, and the source image of each.

    ``images`` is ``[N, h, w]`` with intensities in [0, 1]. The same seed gives the same
    events, bit for bit.
    """
    if images.ndim != 3:
        raise ValueError(f"images must be [N, h, w], got shape {images.shape}")
    if recordings < 1:
        raise ValueError(f"recordings must be at least 1, got {recordings}")
    p = params
    room = p.sensor - p.digit_size
    if max(max(v) for v in p.vertices) + p.vertex_jitter > room:
        raise ValueError("the saccade path moves the digit off the sensor")
    rng = np.random.default_rng(seed)
    zoom = p.digit_size / images.shape[1]
    digits = np.clip(ndimage.zoom(images, (1, zoom, zoom), order=1), 0.0, 1.0)
    source = np.repeat(np.arange(len(images)), recordings)
    vertices = np.asarray(p.vertices, dtype=float)

    def simulate(rows: slice) -> list[np.ndarray]:
        n = len(source[rows])
        jitter = rng.uniform(-p.vertex_jitter, p.vertex_jitter, (n, len(vertices), 2))
        path = np.clip(vertices[None] + jitter, 0.0, room)
        path = np.concatenate([path, path[:, :1]], axis=1)  # closed
        batch = digits[source[rows]]

        def scenes():
            yield _render(batch, path[:, 0, 0], path[:, 0, 1], p.sensor)
            for leg in range(len(vertices)):
                for k in range(1, p.substeps + 1):
                    at = path[:, leg] + (path[:, leg + 1] - path[:, leg]) * (k / p.substeps)
                    yield _render(batch, at[:, 0], at[:, 1], p.sensor)

        noise = p.noise_rate_hz * rng.uniform(0.5, 1.5, n)
        return camera.record(
            scenes(), p.saccade_us / p.substeps, p.camera.thresholds(rng, n), noise, p.camera, rng
        )

    return camera.record_in_batches(len(source), p.batch, simulate), source


def events_to_frames(
    events: list[np.ndarray], n_bins: int, params: DVSParams = DVSParams()
) -> np.ndarray:
    """Event counts in ``n_bins`` equal bins of the recording window, ``[N, T, 2, H, W]``
    uint8 (see :func:`spikecut.data.camera.events_to_frames`)."""
    return camera.events_to_frames(events, n_bins, params.duration_us, params.sensor, params.sensor)
