"""A compact convolutional network: Conv-BN-activation blocks, then a linear read-out
per step. The activation is a spiking neuron (SNN) or QCFS (ANN for conversion)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from spikingjelly.activation_based import layer
from torch import nn

POOLS = {"max": layer.MaxPool2d, "avg": layer.AvgPool2d}


def build_convsnn(
    input_shape: Sequence[int],
    num_classes: int,
    activation: Callable[[], nn.Module],
    channels: Sequence[int] = (16, 32),
    input_pool: int = 1,
    min_pool_size: int = 4,
    pool: str = "max",
) -> nn.Sequential:
    """Multi-step model mapping ``[T, B, C, H, W]`` to per-step logits ``[T, B, classes]``.

    Each block halves the resolution with pooling while it stays at least
    ``min_pool_size``; ``input_pool`` first average-pools large event frames. Converted
    networks need ``pool="avg"``: the max of spike trains is not the max of rates.
    """
    if not channels:
        raise ValueError("channels must list at least one block width")
    if pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}; choose one of {sorted(POOLS)}")
    c, h, w = input_shape
    blocks: list[nn.Module] = []
    if input_pool > 1:
        blocks.append(layer.AvgPool2d(input_pool, step_mode="m"))
        h, w = h // input_pool, w // input_pool
    for width in channels:
        blocks += [
            layer.Conv2d(c, width, 3, padding=1, bias=False, step_mode="m"),
            layer.BatchNorm2d(width, step_mode="m"),
            activation(),
        ]
        if min(h, w) // 2 >= min_pool_size:
            blocks.append(POOLS[pool](2, step_mode="m"))
            h, w = h // 2, w // 2
        c = width
    blocks += [
        layer.Flatten(step_mode="m"),
        layer.Linear(c * h * w, num_classes, step_mode="m"),
    ]
    return nn.Sequential(*blocks)
