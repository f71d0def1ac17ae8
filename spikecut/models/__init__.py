"""The model registry: every architecture by name, built from plain config values."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from spikecut.models.convsnn import build_convsnn
from spikecut.neurons import NeuronConfig

MODELS: dict[str, Callable[..., nn.Module]] = {"convsnn": build_convsnn}


def build_model(
    name: str,
    input_shape: Sequence[int],
    num_classes: int,
    neuron: NeuronConfig,
    **options,
) -> nn.Module:
    try:
        builder = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; registered: {sorted(MODELS)}") from None
    return builder(input_shape, num_classes, neuron=neuron, **options)


__all__ = ["MODELS", "build_model"]
