"""A compact convolutional network for the embedded data sets: Conv-BN-activation
blocks, then a linear read-out per step."""

from __future__ import annotations

from collections.abc import Sequence

from spikingjelly.activation_based import layer
from torch import nn

from spikecut.models.kit import LayerKit


def build_convsnn(
    input_shape: Sequence[int],
    num_classes: int,
    kit: LayerKit,
    channels: Sequence[int],
    input_pool: int,
    min_pool_size: int,
) -> nn.Sequential:
    """Multi-step model mapping ``[T, B, C, H, W]`` to per-step logits ``[T, B, classes]``.

    Each block halves the resolution with pooling while it stays at least
    ``min_pool_size``; ``input_pool`` first average-pools large event frames.
    """
    if not channels:
        raise ValueError("channels must list at least one block width")
    c, h, w = input_shape
    blocks: list[nn.Module] = []
    if input_pool > 1:
        blocks.append(layer.AvgPool2d(input_pool, step_mode="m"))
        h, w = h // input_pool, w // input_pool
    for width in channels:
        blocks += kit.conv_bn_act(c, width)
        if min(h, w) // 2 >= min_pool_size:
            blocks.append(kit.pool())
            h, w = h // 2, w // 2
        c = width
    blocks += [layer.Flatten(step_mode="m"), kit.linear(c * h * w, num_classes)]
    return nn.Sequential(*blocks)
