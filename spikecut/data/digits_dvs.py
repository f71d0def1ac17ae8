"""``digits-dvs``: an event data set synthesised from the digits by the N-MNIST method.

N-MNIST (Orchard et al., 2015) was recorded by moving an event camera through three
saccades in front of a static image. We simulate that camera: the digit, upsampled and
placed on a 34x34 sensor, is translated along a closed triangular path; each pixel
emits an ON (OFF) event whenever its log intensity has risen (fallen) by its own
contrast threshold since its last event. Thresholds vary from pixel to pixel (sensor
mismatch) and a little background activity is added. Because the path is closed, each
pixel ends where it started, so ON and OFF events come out nearly balanced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import tonic.transforms
from scipy import ndimage

EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "<i1")])


@dataclass(frozen=True)
class DVSParams:
    sensor: int = 34
    digit_size: int = 28
    # Offsets (x, y) of the digit's top-left corner at the three saccade vertices.
    vertices: tuple[tuple[float, float], ...] = ((1.0, 1.0), (5.0, 3.0), (2.0, 5.0))
    saccade_us: int = 100_000
    substeps: int = 20
    log_bias: float = 0.2
    threshold_mean: float = 0.3
    threshold_sd: float = 0.04
    noise_rate_hz: float = 1.0

    def as_dict(self) -> dict:
        return asdict(self)


def _place(digits: np.ndarray, ox: float, oy: float, sensor: int) -> np.ndarray:
    """Render ``[N, s, s]`` digits on ``[N, sensor, sensor]`` at a sub-pixel offset.

    Bilinear: the four integer placements around (ox, oy), weighted.
    """
    n, s, _ = digits.shape
    ix, iy = int(np.floor(ox)), int(np.floor(oy))
    fx, fy = ox - ix, oy - iy
    out = np.zeros((n, sensor + 1, sensor + 1), dtype=np.float64)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            if wx * wy:
                out[:, iy + dy : iy + dy + s, ix + dx : ix + dx + s] += wx * wy * digits
    return out[:, :sensor, :sensor]


def synthesize_events(
    images: np.ndarray, seed: int, params: DVSParams = DVSParams()
) -> list[np.ndarray]:
    """One time-sorted structured event array (x, y, t [us], p in {0, 1}) per image.

    ``images`` is ``[N, h, w]`` with intensities in [0, 1]. The same seed gives the same
    events, bit for bit.
    """
    if images.ndim != 3:
        raise ValueError(f"images must be [N, h, w], got shape {images.shape}")
    p = params
    max_offset = max(max(v) for v in p.vertices)
    if p.digit_size + max_offset + 1 > p.sensor + 1:
        raise ValueError("the saccade path moves the digit off the sensor")
    rng = np.random.default_rng(seed)
    n = len(images)
    zoom = p.digit_size / images.shape[1]
    digits = np.clip(ndimage.zoom(images, (1, zoom, zoom), order=1), 0.0, 1.0)
    thresholds = np.clip(
        rng.normal(p.threshold_mean, p.threshold_sd, size=(p.sensor, p.sensor)), 0.05, None
    )

    path = list(p.vertices) + [p.vertices[0]]
    dt = p.saccade_us / p.substeps
    reference = np.log(_place(digits, *path[0], p.sensor) + p.log_bias)
    chunks = []
    step = 0
    for start, end in zip(path[:-1], path[1:]):
        for k in range(1, p.substeps + 1):
            a = k / p.substeps
            ox = start[0] + a * (end[0] - start[0])
            oy = start[1] + a * (end[1] - start[1])
            level = np.log(_place(digits, ox, oy, p.sensor) + p.log_bias)
            diff = level - reference
            counts = np.floor(np.abs(diff) / thresholds).astype(np.int64)
            reference += np.sign(diff) * counts * thresholds
            idx, ys, xs = np.nonzero(counts)
            reps = counts[idx, ys, xs]
            idx, ys, xs = (np.repeat(v, reps) for v in (idx, ys, xs))
            pol = np.repeat((diff[counts > 0] > 0).astype(np.int8), reps)
            t = (step + rng.random(len(idx))) * dt
            chunks.append((idx, xs, ys, t, pol))
            step += 1

    duration = step * dt
    n_noise = rng.poisson(p.noise_rate_hz * duration * 1e-6 * p.sensor**2, size=n)
    idx = np.repeat(np.arange(n), n_noise)
    chunks.append(
        (
            idx,
            rng.integers(0, p.sensor, len(idx)),
            rng.integers(0, p.sensor, len(idx)),
            rng.random(len(idx)) * duration,
            rng.integers(0, 2, len(idx)).astype(np.int8),
        )
    )

    idx, xs, ys, t, pol = (np.concatenate(c) for c in zip(*chunks))
    t = np.floor(t).astype(np.int64)
    order = np.lexsort((t, idx))
    events = np.empty(len(order), dtype=EVENT_DTYPE)
    events["x"], events["y"], events["t"], events["p"] = xs[order], ys[order], t[order], pol[order]
    bounds = np.searchsorted(idx[order], np.arange(n + 1))
    return [events[bounds[i] : bounds[i + 1]] for i in range(n)]


def events_to_frames(events: list[np.ndarray], n_bins: int, params: DVSParams = DVSParams()
                     ) -> np.ndarray:
    """Event counts in ``n_bins`` equal bins of the whole recording, ``[N, T, 2, H, W]``
    uint8 (saturating).

    Bins span the fixed recording window rather than each sample's first-to-last event
    (tonic's ``n_time_bins``), so bin t means the same time in every sample. The window
    is widened by a hair so that float rounding cannot add or drop a bin.
    """
    duration = len(params.vertices) * params.saccade_us
    to_frame = tonic.transforms.ToFrame(
        sensor_size=(params.sensor, params.sensor, 2),
        time_window=duration / n_bins * (1 + 1e-9),
        start_time=0,
        end_time=duration,
        include_incomplete=True,
    )
    frames = np.stack([to_frame(ev) for ev in events])
    assert frames.shape[1] == n_bins, frames.shape
    return np.minimum(frames, 255).astype(np.uint8)
