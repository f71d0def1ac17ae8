"""Convert a QCFS ANN into an SNN of IF neurons, by module type."""

from __future__ import annotations

import copy

import torch
from spikingjelly.activation_based import neuron
from torch import nn

from spikecut.conversion.qcfs import QCFS
from spikecut.neurons.cupy_backend import CupyIFNode

# Every activation type torch ships; none of them has an IF counterpart here.
_TORCH_ACTIVATIONS = tuple(
    cls
    for cls in vars(nn.modules.activation).values()
    if isinstance(cls, type) and issubclass(cls, nn.Module) and cls is not nn.Module
)


class ConvertedIFNode(CupyIFNode):
    """The IF neuron that replaces a QCFS layer: threshold theta, soft reset (subtract
    theta), membrane starting at theta / 2, and theta emitted per spike, no leak. On CUDA
    with CuPy it runs the fused kernel, as every spiking layer of spikecut does."""

    def __init__(self, theta: float, step_mode: str = "m"):
        super().__init__(v_threshold=float(theta), v_reset=None, step_mode=step_mode)
        self.set_reset_value("v", 0.5 * float(theta))
        self.reset()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * self.v_threshold


def convert_qcfs_to_snn(model: nn.Module) -> tuple[nn.Module, int]:
    """A copy of ``model`` with every QCFS replaced by a :class:`ConvertedIFNode`, and
    how many were replaced.

    Fails on any other activation (it would run unchanged inside the SNN, silently
    wrong) and on a model without QCFS layers (nothing to convert).
    """
    snn = copy.deepcopy(model).eval()
    unsupported = [
        f"{name} ({type(m).__name__})"
        for name, m in snn.named_modules()
        if isinstance(m, _TORCH_ACTIVATIONS) or isinstance(m, neuron.BaseNode)
    ]
    if unsupported:
        raise TypeError(
            f"cannot convert activations {unsupported} to IF neurons; only QCFS layers "
            "convert: build the model with QCFS in place of these activations"
        )
    count = 0
    for parent in list(snn.modules()):
        for name, child in parent.named_children():
            if isinstance(child, QCFS):
                setattr(parent, name, ConvertedIFNode(child.theta.item()))
                count += 1
    if count == 0:
        raise ValueError("the model has no QCFS layer to convert")
    return snn, count
