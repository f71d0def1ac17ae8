"""Stored frames as the network's input tensors: normalised, and laid out over time."""

from __future__ import annotations

import numpy as np
import torch


def normalise(x: np.ndarray | torch.Tensor, norm=None) -> torch.Tensor:
    """float32 frames; uint8 images of a data set with ``norm = (mean, std)`` are scaled
    to [0, 1] and standardised per channel (event counts are left as counts)."""
    x = torch.as_tensor(x)
    if norm is None:
        return x.float()
    # a training step must not wait for the device: no blocking copy to it
    mean, std = (
        torch.tensor(v, dtype=torch.float32).view(-1, 1, 1).to(x.device, non_blocking=True)
        for v in norm
    )
    return (x.float() / 255.0 - mean) / std


def to_time_major(x: np.ndarray | torch.Tensor, kind: str, n_steps: int, norm=None) -> torch.Tensor:
    """A batch as the SNN's multi-step input ``[T, B, C, H, W]`` float32.

    Static frames are repeated every step (direct encoding); event frames are already
    one per step.
    """
    x = normalise(x, norm)
    if kind == "static":
        return x.unsqueeze(0).expand(n_steps, *x.shape)
    return x.transpose(0, 1)


def to_ann_input(x: np.ndarray | torch.Tensor, kind: str, norm=None) -> torch.Tensor:
    """A batch as a one-step input ``[1, B, C, H, W]`` for the ANN before conversion.

    Event samples become their mean frame: the converted SNN, fed the frames one per
    step, sees that mean as its average input.
    """
    x = normalise(x, norm)
    return (x if kind == "static" else x.mean(dim=1)).unsqueeze(0)
