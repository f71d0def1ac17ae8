"""The QCFS activation (quantisation-clip-floor-shift) for ANN-to-SNN conversion
(docs/method.md §7).

h(a) = theta * clip(floor(a * L / theta + 1/2) / L, 0, 1), with a trainable threshold
theta per layer, L quantisation levels and a straight-through floor. An IF neuron with
threshold theta, soft reset and initial membrane theta / 2 matches it in expectation.
"""

from __future__ import annotations

import torch
from torch import nn


class _FloorSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return torch.floor(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output


class QCFS(nn.Module):
    """QCFS with ``levels`` steps and a trainable threshold initialised to ``theta``."""

    def __init__(self, levels: int = 4, theta: float = 8.0):
        super().__init__()
        if levels < 1:
            raise ValueError(f"QCFS needs at least one level, got {levels}")
        if theta <= 0:
            raise ValueError(f"QCFS threshold must be > 0, got {theta}")
        self.levels = levels
        self.theta = nn.Parameter(torch.tensor(float(theta)))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        q = _FloorSTE.apply(a * self.levels / self.theta + 0.5) / self.levels
        return torch.clamp(q, 0.0, 1.0) * self.theta

    def extra_repr(self) -> str:
        return f"levels={self.levels}, theta={self.theta.item():.4g}"
