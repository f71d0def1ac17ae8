"""Capture every spiking layer's spikes and membrane during a forward pass."""

from __future__ import annotations

import torch
from spikingjelly.activation_based import neuron
from torch import nn


class SpikingLayerProbe:
    """Context manager that records (spikes, membrane after reset) of each SpikingJelly
    neuron in ``model`` per forward call, found by type.

    Each probe owns its records, so two models (or layers) never share state.
    """

    def __init__(self, model: nn.Module):
        self.neurons = [m for m in model.modules() if isinstance(m, neuron.BaseNode)]
        if not self.neurons:
            raise ValueError("the model has no SpikingJelly neuron to probe")
        self.records: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._handles: list = []
        self._stored: list[bool] = []

    def _hook(self, module: neuron.BaseNode, inputs, output: torch.Tensor) -> None:
        self.records.append((output, module.v_seq))

    def __enter__(self) -> SpikingLayerProbe:
        self._stored = [n.store_v_seq for n in self.neurons]
        for n in self.neurons:
            n.store_v_seq = True
            self._handles.append(n.register_forward_hook(self._hook))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        for n, stored in zip(self.neurons, self._stored):
            n.store_v_seq = stored
        self._handles.clear()

    def pop(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The records of the last forward pass, emptying the probe."""
        records, self.records = self.records, []
        return records
