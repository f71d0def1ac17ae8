"""Mixed precision for the training step: autocast over the forward pass and the loss,
and for float16 a gradient scaler.

bfloat16 keeps float32's exponent range, so its gradients need no scaling. float16's
scaler checks the gradients for overflow before every optimiser step, which costs one
host synchronisation per step. Under autocast the convolutions hand the spiking layers
half-precision inputs, so spikecut's CuPy kernels run their float16 or bfloat16 path.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    def __init__(self, name: str, device: torch.device):
        if name not in PRECISIONS:
            raise ValueError(f"unknown precision {name!r}; choose one of {tuple(PRECISIONS)}")
        self.name, self.device_type, self.dtype = name, device.type, PRECISIONS[name]
        self.scaler = torch.amp.GradScaler(device.type) if name == "fp16" else None

    def autocast(self) -> AbstractContextManager:
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward_and_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)  # skipped where a gradient overflowed
        self.scaler.update()

    def state_dict(self) -> dict:
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)
