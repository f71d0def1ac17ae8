"""Capture every spiking layer's spikes and membrane during a forward pass."""

from __future__ import annotations

from contextlib import ExitStack

import torch
from spikingjelly.activation_based import neuron
from torch import nn

from spikecut.inference.hooks import forward_hooks, modules_of


class SpikingLayerProbe:
    """Context manager that records (spikes, membrane after reset) of each SpikingJelly
    neuron in ``model`` per forward call, found by type.

    Each probe owns its records, so two models (or layers) never share state.
    """

    def __init__(self, model: nn.Module):
        self.neurons = modules_of(model, neuron.BaseNode)
        if not self.neurons:
            raise ValueError("the model has no SpikingJelly neuron to probe")
        self.records: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._hooks = ExitStack()
        self._stored: list[bool] = []

    def _hook(self, module: neuron.BaseNode, inputs, output: torch.Tensor) -> None:
        self.records.append((output, module.v_seq))

    def __enter__(self) -> SpikingLayerProbe:
        self._stored = [n.store_v_seq for n in self.neurons]
        for n in self.neurons:
            n.store_v_seq = True
        self._hooks.enter_context(forward_hooks((self.neurons, self._hook)))
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.close()
        for n, stored in zip(self.neurons, self._stored):
            n.store_v_seq = stored

    def pop(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The records of the last forward pass, emptying the probe."""
        records, self.records = self.records, []
        return records
