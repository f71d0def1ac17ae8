"""Record per-step outputs o(t) once, for the cutoff analytics (SPEC §2).

The calibration set is the training split without augmentation, run with dropout after
every spiking layer (train-mode dropout, fixed seed), which makes the training-set
confidence more pessimistic, as the authors do.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from spikingjelly.activation_based import neuron
from torch import nn

from spikecut.data import PreparedData
from spikecut.energy import ComputeCounter
from spikecut.training import per_step_logits
from spikecut.training.loop import Encoder


class CalibrationDropout:
    """Context manager: dropout with probability ``p`` on every spiking layer's output."""

    def __init__(self, model: nn.Module, p: float, seed: int):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"calibration dropout must be in [0, 1), got {p}")
        self.model, self.p, self.seed = model, p, seed
        self._handles: list = []
        self._rng = None

    def _hook(self, module, inputs, output):
        return F.dropout(output, self.p, training=True)

    def __enter__(self) -> CalibrationDropout:
        self._rng = torch.random.fork_rng(devices=[])
        self._rng.__enter__()
        torch.manual_seed(self.seed)
        if self.p > 0:
            self._handles = [
                m.register_forward_hook(self._hook)
                for m in self.model.modules()
                if isinstance(m, neuron.BaseNode)
            ]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._rng.__exit__(*exc)


def record_outputs(
    model: nn.Module,
    data: PreparedData,
    encode: Encoder,
    calibration_dropout: float,
    dropout_seed: int,
    batch_size: int,
    device: torch.device,
) -> tuple[dict[str, torch.Tensor], dict[str, np.ndarray]]:
    """Per-step logits ``[N, T, C]`` of the test, validation and calibration sets, and
    the test set's compute per sample and step (see :class:`ComputeCounter`)."""
    model.to(device).eval()

    def run(split: str, counter: ComputeCounter | None = None) -> torch.Tensor:
        return per_step_logits(model, data.x[split], encode, batch_size, device, counter)

    with ComputeCounter(model) as counter:
        out = {"test": run("test", counter)}
    out["val"] = run("val")
    with CalibrationDropout(model, calibration_dropout, dropout_seed):
        out["cal"] = run("train")
    return out, counter.result()
