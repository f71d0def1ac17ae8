"""A simulated event camera, shared by the embedded event data sets.

Each pixel keeps the log intensity it last reported. When the scene's log intensity
log(I + bias) has risen (fallen) by the pixel's own contrast threshold since then, it
emits an ON (OFF) event and moves its reference by that threshold; a large change gives
several events. Thresholds vary from pixel to pixel and from recording to recording
(sensor mismatch), and every pixel also fires at random at a background rate. Event
times are spread uniformly within the rendering substep in which they arise.

Scenes are rendered at a fixed substep ``dt``; recordings are simulated in batches, so
that memory stays bounded whatever their number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import tonic.transforms

EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "<i1")])


@dataclass(frozen=True)
class CameraParams:
    """The sensor, and the contrast model every synthetic event data set shares."""

    height: int
    width: int
    log_bias: float = 0.2
    threshold_mean: float = 0.3
    threshold_sd: float = 0.04  # per pixel and recording
    threshold_min: float = 0.05

    def thresholds(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Per-pixel contrast thresholds of ``n`` recordings, ``[n, H, W]``."""
        draw = rng.normal(self.threshold_mean, self.threshold_sd, size=(n, self.height, self.width))
        return np.clip(draw, self.threshold_min, None)


def record(
    scenes: Iterator[np.ndarray],
    dt_us: float,
    thresholds: np.ndarray,
    noise_rate_hz: np.ndarray,
    params: CameraParams,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Events of ``n`` recordings, one time-sorted structured array (x, y, t [us],
    p in {0, 1}) each.

    ``scenes`` yields the intensities ``[n, H, W]`` (in [0, 1]) at t = 0, dt, 2 dt, ...;
    the first is the reference every pixel starts from. ``thresholds`` is ``[n, H, W]``
    and ``noise_rate_hz`` the background rate of each recording ``[n]``.
    """
    reference = np.log(next(scenes) + params.log_bias)
    n = len(reference)
    chunks, step = [], 0
    for scene in scenes:
        diff = np.log(scene + params.log_bias) - reference
        counts = np.floor(np.abs(diff) / thresholds).astype(np.int64)
        reference += np.sign(diff) * counts * thresholds
        idx, ys, xs = np.nonzero(counts)
        reps = counts[idx, ys, xs]
        polarity = np.repeat((diff[idx, ys, xs] > 0).astype(np.int8), reps)
        idx, ys, xs = (np.repeat(v, reps) for v in (idx, ys, xs))
        chunks.append((idx, xs, ys, (step + rng.random(len(idx))) * dt_us, polarity))
        step += 1
    duration = step * dt_us
    per_pixel = np.asarray(noise_rate_hz, dtype=float) * duration * 1e-6
    n_noise = rng.poisson(np.broadcast_to(per_pixel, (n,)) * params.height * params.width)
    idx = np.repeat(np.arange(n), n_noise)
    chunks.append(
        (
            idx,
            rng.integers(0, params.width, len(idx)),
            rng.integers(0, params.height, len(idx)),
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


def record_in_batches(
    n: int, batch: int, simulate: Callable[[slice], list[np.ndarray]]
) -> list[np.ndarray]:
    """``simulate(rows)`` for consecutive slices of at most ``batch`` of ``n``
    recordings, concatenated."""
    events: list[np.ndarray] = []
    for start in range(0, n, batch):
        events += simulate(slice(start, min(n, start + batch)))
    return events


def events_to_frames(
    events: list[np.ndarray], n_bins: int, duration_us: float, height: int, width: int
) -> np.ndarray:
    """Event counts in ``n_bins`` equal bins of the fixed recording window
    ``[0, duration)``, ``[N, T, 2, H, W]`` uint8 (saturating), through tonic.

    Bins span the recording window rather than each sample's first-to-last event
    (tonic's ``n_time_bins``), so bin t means the same time in every sample. The window
    is widened by a hair so that float rounding cannot add or drop a bin.
    """
    to_frame = tonic.transforms.ToFrame(
        sensor_size=(width, height, 2),
        time_window=duration_us / n_bins * (1 + 1e-9),
        start_time=0,
        end_time=duration_us,
        include_incomplete=True,
    )
    frames = np.stack([to_frame(ev) for ev in events])
    assert frames.shape[1] == n_bins, frames.shape
    return np.minimum(frames, 255).astype(np.uint8)
