"""RCS, the regularising cosine similarity (docs/method.md §8, SNN form).

It pulls each spiking layer's early responses towards its late ones, so that a cutoff
can stop early without changing the answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from spikecut.regularisers import RCSSettings
from spikecut.regularisers.probe import SpikingLayerProbe


def tail_steps(n_steps: int, fraction: float) -> int:
    """How many final steps form the target: max(1, floor(fraction * T)).

    The authors write floor(0.3 T), which is 0 for T <= 3 and then silently covers all
    steps; we always take at least one.
    """
    return max(1, math.floor(fraction * n_steps + 1e-9))


def late_correct_mask(logits: torch.Tensor, labels: torch.Tensor, n_tail: int) -> torch.Tensor:
    """``[B]`` bool: per-step outputs o(t) ``[T, B, C]`` are right at each of the last
    ``n_tail`` steps."""
    return (logits[-n_tail:].argmax(dim=-1) == labels).all(dim=0)


def rcs_per_sample(
    spikes: torch.Tensor, membrane: torch.Tensor, v_threshold: float, n_tail: int
) -> torch.Tensor:
    """1 / (mean_t cos(r(t), r_d) + 1e-5) per sample, ``[B]``, for one layer.

    ``spikes`` and ``membrane`` (after reset) are ``[T, B, ...]``; r = s + ReLU(u / V_th)
    and r_d, the mean of r over the last ``n_tail`` steps, carries no gradient.
    """
    # in float32 even under mixed precision: cosines of bfloat16 vectors are coarse
    r = (spikes.float() + F.relu(membrane.float() / v_threshold)).flatten(2)
    target = r[-n_tail:].mean(dim=0).detach()
    cos = F.cosine_similarity(r, target.unsqueeze(0), dim=-1)  # [T, B]
    return 1.0 / (cos.mean(dim=0) + 1e-5)


def rcs_snn(
    layers: Sequence[tuple[torch.Tensor, torch.Tensor]],
    logits: torch.Tensor,
    labels: torch.Tensor,
    v_threshold: float,
    settings: RCSSettings,
) -> torch.Tensor:
    """The RCS value of a batch.

    ``layers`` holds (spikes, membrane after reset), each ``[T, B, ...]``, per spiking
    layer; ``logits`` are the per-step outputs ``[T, B, C]``. Only samples classified
    correctly at every one of the last n steps count; per layer their values are
    reduced by the settings' aggregation (the paper: max), then averaged over layers. A
    batch with no such sample gives 0.
    """
    if not layers:
        raise ValueError("RCS needs at least one spiking layer")
    n_tail = tail_steps(logits.shape[0], settings.tail_fraction)
    mask = late_correct_mask(logits, labels, n_tail)
    per_layer = [
        masked_reduce(rcs_per_sample(s, u, v_threshold, n_tail), mask, settings.aggregation)
        for s, u in layers
    ]
    return torch.where(mask.any(), torch.stack(per_layer).mean(), 0.0)


# Each reduces ``values`` ``[B]`` where ``mask`` holds, to -inf or NaN where it holds
# nowhere, for the caller to replace. Selecting by ``where`` instead of by indexing
# keeps the device from reporting to the host how many samples were kept; the max, and
# its gradient, are those of the kept values alone.
AGGREGATIONS = {
    "max": lambda values, mask: torch.where(mask, values, -torch.inf).amax(),
    "mean": lambda values, mask: torch.where(mask, values, 0.0).sum() / mask.sum(),
}


def masked_reduce(values: torch.Tensor, mask: torch.Tensor, aggregation: str) -> torch.Tensor:
    return AGGREGATIONS[aggregation](values, mask)


class SpikingRCS:
    """RCS of an SNN as a training-loop regulariser: capture during the forward pass
    (``with reg: logits = model(x)``), then ``reg.value(logits, labels)``."""

    def __init__(self, model, v_threshold: float, settings: RCSSettings):
        self.probe = SpikingLayerProbe(model)
        self.v_threshold, self.settings = v_threshold, settings

    def __enter__(self):
        self.probe.__enter__()
        return self

    def __exit__(self, *exc):
        self.probe.__exit__(*exc)

    def value(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return rcs_snn(self.probe.pop(), logits, labels, self.v_threshold, self.settings)
