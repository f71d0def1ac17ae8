"""The embedded ``digits`` data set: scikit-learn's 8x8 handwritten digits, offline."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits


def load_digit_images() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as intensities in [0, 1], ``[N, 8, 8]`` float32, with labels."""
    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    return images, bunch.target.astype(np.int64)


def digits_frames(images: np.ndarray, upsample: int = 1) -> np.ndarray:
    """Static frames ``[N, 1, 8u, 8u]`` for direct encoding (the same frame every step)."""
    if upsample < 1:
        raise ValueError(f"upsample must be >= 1, got {upsample}")
    frames = np.kron(images, np.ones((1, upsample, upsample), dtype=images.dtype))
    return frames[:, None]
