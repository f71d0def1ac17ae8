"""RCS in its ANN form, for QCFS networks before conversion (SPEC §3).

Per QCFS layer and sample: max(ReLU(a)) / RMS(ReLU(a)) of the pre-activation a. A
small ratio means the activations are spread evenly below their peak, which a
converted IF neuron reproduces in few steps.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from spikecut.conversion.qcfs import QCFS
from spikecut.regularisers.rcs import AGGREGATIONS

_EPS = 1e-8


def peak_to_rms(preact: torch.Tensor) -> torch.Tensor:
    """max / RMS of ReLU(a) per sample; ``preact`` is ``[B, ...]``. A silent sample
    gives 0."""
    r = F.relu(preact.flatten(1))
    rms = r.pow(2).mean(dim=1).sqrt()
    return r.amax(dim=1) / (rms + _EPS)


def rcs_ann(preacts: Sequence[torch.Tensor], logits: torch.Tensor, labels: torch.Tensor,
            aggregation: str = "max") -> torch.Tensor:
    """RCS of a batch: only correctly classified samples count; per layer their values
    are reduced by ``aggregation`` (max in the paper), then averaged over layers. No
    correct sample gives 0. ``logits`` are ``[B, C]``."""
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown RCS aggregation {aggregation!r}; choose {AGGREGATIONS}")
    if not preacts:
        raise ValueError("RCS needs at least one QCFS layer")
    mask = logits.argmax(dim=-1) == labels
    if not mask.any():
        return logits.new_zeros(())
    reduce = torch.amax if aggregation == "max" else torch.mean
    return torch.stack([reduce(peak_to_rms(a)[mask], dim=0) for a in preacts]).mean()


class QCFSRCS:
    """The ANN form as a training-loop regulariser: records the input of every QCFS
    layer (found by type) during the forward pass."""

    def __init__(self, model: nn.Module, aggregation: str = "max"):
        self.layers = [m for m in model.modules() if isinstance(m, QCFS)]
        if not self.layers:
            raise ValueError("the model has no QCFS layer to regularise")
        self.aggregation = aggregation
        self.preacts: list[torch.Tensor] = []
        self._handles: list = []

    def _hook(self, module, inputs, output) -> None:
        self.preacts.append(inputs[0].flatten(0, 1))  # [T=1, B, ...] -> [B, ...]

    def __enter__(self) -> QCFSRCS:
        self.preacts = []
        self._handles = [m.register_forward_hook(self._hook) for m in self.layers]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def value(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        preacts, self.preacts = self.preacts, []
        return rcs_ann(preacts, logits[-1], labels, self.aggregation)
