"""RCS in its ANN form, for QCFS networks before conversion (docs/method.md §8).

Per QCFS layer and sample: peak / RMS(ReLU(a)) of the pre-activation a, with
RMS = sqrt(mean ReLU(a)^2 + 1e-5) as the authors write it. A small ratio means the
activations are spread evenly below their peak, which a converted IF neuron reproduces
in few steps.

The peak is, by default (``batch``), the largest ReLU(a) of the whole batch tensor of
the layer, one per layer and batch, as in the authors' code, from which the paper's
numbers come; ``sample`` takes each sample's own peak.

A sample with (almost) no positive activation in a layer has no spread to measure. The
authors' formula gives it about peak / sqrt(1e-5), some 316 times the batch peak, which
then dominates the maximum over samples, and whose only gradient shrinks another
sample's peak. spikecut leaves out of a layer's maximum every sample whose mean squared
activation is no larger than that 1e-5, so that its RMS is not set by the epsilon; a
layer in which every kept sample is that quiet contributes 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack

import torch
import torch.nn.functional as F
from torch import nn

from spikecut.conversion.qcfs import QCFS
from spikecut.inference.hooks import forward_hooks, modules_of
from spikecut.regularisers import RCSSettings
from spikecut.regularisers.rcs import masked_reduce

_EPS = 1e-5  # under the square root, as the authors put it


def peak_to_rms(preact: torch.Tensor, peak: str) -> tuple[torch.Tensor, torch.Tensor]:
    """peak / RMS of ReLU(a) per sample, ``[B]``, and whether the sample is active
    enough to count (mean squared activation above the epsilon), ``[B]`` bool;
    ``preact`` is ``[B, ...]``, ``peak`` the settings' ``ann_peak``."""
    r = F.relu(preact.flatten(1).float())  # float32 even under mixed precision
    mean_square = r.pow(2).mean(dim=1)
    top = r.amax() if peak == "batch" else r.amax(dim=1)
    return top / (mean_square + _EPS).sqrt(), mean_square > _EPS


def rcs_ann(
    preacts: Sequence[torch.Tensor],
    logits: torch.Tensor,
    labels: torch.Tensor,
    settings: RCSSettings,
) -> torch.Tensor:
    """RCS of a batch: only correctly classified samples count, and per layer only
    those active enough (see the module's note); per layer their values are reduced by
    ``aggregation`` (max in the paper), 0 where none is left, then averaged over layers.
    No correct sample gives 0. ``logits`` are ``[B, C]``."""
    if not preacts:
        raise ValueError("RCS needs at least one QCFS layer")
    kept = logits.argmax(dim=-1) == labels
    per_layer = []
    for a in preacts:
        ratio, active = peak_to_rms(a, settings.ann_peak)
        counted = kept & active
        value = masked_reduce(ratio, counted, settings.aggregation)
        per_layer.append(torch.where(counted.any(), value, 0.0))
    return torch.where(kept.any(), torch.stack(per_layer).mean(), 0.0)


class QCFSRCS:
    """The ANN form as a training-loop regulariser: records the input of every QCFS
    layer (found by type) during the forward pass."""

    def __init__(self, model: nn.Module, settings: RCSSettings):
        self.layers = modules_of(model, QCFS)
        if not self.layers:
            raise ValueError("the model has no QCFS layer to regularise")
        self.settings = settings
        self.preacts: list[torch.Tensor] = []
        self._hooks = ExitStack()

    def _hook(self, module, inputs, output) -> None:
        self.preacts.append(inputs[0].flatten(0, 1))  # [T=1, B, ...] -> [B, ...]

    def __enter__(self) -> QCFSRCS:
        self.preacts = []
        self._hooks.enter_context(forward_hooks((self.layers, self._hook)))
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.close()

    def value(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        preacts, self.preacts = self.preacts, []
        return rcs_ann(preacts, logits[-1], labels, self.settings)
