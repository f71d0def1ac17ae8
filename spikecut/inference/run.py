"""One forward pass over T steps, recording the per-step outputs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from spikingjelly.activation_based import functional
from torch import nn

# A batch of samples as stored -> the model's input [T, B, ...]
Encoder = Callable[[np.ndarray | torch.Tensor], torch.Tensor]


@torch.no_grad()
def per_step_logits(
    model: nn.Module,
    x: np.ndarray,
    encode: Encoder,
    batch_size: int,
    device: torch.device,
    counter=None,
) -> torch.Tensor:
    """Per-step outputs ``[N, T, C]`` of ``model`` in its current mode, on CPU. A
    :class:`spikecut.inference.compute.ComputeCounter` given as ``counter`` closes each batch."""
    outs = []
    for start in range(0, len(x), batch_size):
        batch = encode(x[start : start + batch_size]).to(device)
        outs.append(model(batch).transpose(0, 1).float().cpu())
        functional.reset_net(model)
        if counter is not None:
            counter.end_batch()
    return torch.cat(outs)
