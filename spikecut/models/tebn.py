"""Temporal effective batch norm that can also run one timestep at a time.

TEBN (Duan et al., 2022) is a batch norm whose statistics are shared by all T steps,
followed by a learned scale k[t] per step. Training needs the whole sequence, since the
batch statistics span it. In eval mode the statistics are the running ones, so step t
is an affine map of its own input times k[t]: the layer only needs to know t. This
subclass of SpikingJelly's layer keeps t as a memory, so it runs in single-step mode
(for inference that really stops) and ``functional.reset_net`` rewinds it.
"""

from __future__ import annotations

import torch
from spikingjelly.activation_based import base, layer


class SteppedTEBN2d(layer.TemporalEffectiveBatchNorm2d, base.MemoryModule):
    """SpikingJelly's ``TemporalEffectiveBatchNorm2d`` (same parameters and state dict)
    with an eval-mode single-step path."""

    def __init__(self, n_steps: int, channels: int, **kwargs):
        super().__init__(n_steps, channels, **kwargs)
        self.register_memory("step", 0)

    def supported_step_mode(self) -> tuple[str, ...]:
        return ("s", "m")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "m":
            return super().forward(x)
        if self.training:
            raise RuntimeError(
                "TEBN shares its batch statistics over all T steps, so in training mode it "
                "runs multi-step only; call model.eval() before running it step by step"
            )
        if self.step >= len(self.scale):
            raise RuntimeError(
                f"TEBN has scales for {len(self.scale)} steps and was asked for step "
                f"{self.step + 1}; call functional.reset_net(model) before each new input"
            )
        y = self.super_forward(x) * self.scale[self.step]
        self.step += 1
        return y
