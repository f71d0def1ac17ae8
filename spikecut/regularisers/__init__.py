"""Regularisers that make early timesteps agree with late ones (RCS, SNN and ANN forms).

A regulariser is used as ``with reg: logits = model(x)`` followed by
``reg.value(logits, labels)``; it captures what it needs during the forward pass.
"""

from typing import Protocol

import torch

from spikecut.regularisers.probe import SpikingLayerProbe
from spikecut.regularisers.rcs import AGGREGATIONS, SpikingRCS, rcs_snn, tail_steps
from spikecut.regularisers.rcs_ann import QCFSRCS, peak_to_rms, rcs_ann


class Regulariser(Protocol):
    def __enter__(self) -> "Regulariser": ...

    def __exit__(self, *exc) -> None: ...

    def value(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor: ...


__all__ = [
    "AGGREGATIONS",
    "QCFSRCS",
    "Regulariser",
    "SpikingLayerProbe",
    "SpikingRCS",
    "peak_to_rms",
    "rcs_ann",
    "rcs_snn",
    "tail_steps",
]
