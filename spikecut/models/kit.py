"""The layers a model builder composes, fixed by the model's role.

Every architecture is written once against a :class:`LayerKit`; the kit decides what
follows each convolution (spiking neuron, QCFS, ReLU) and which normalisation is used,
so one definition serves the SNN, the QCFS ANN for conversion and the plain ANN.
All layers are SpikingJelly multi-step layers; ANN roles run with T = 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spikingjelly.activation_based import layer
from torch import nn

from spikecut.conversion import QCFS
from spikecut.models.tebn import SteppedTEBN2d
from spikecut.neurons import NeuronConfig, make_neuron

ROLES = ("snn", "qcfs", "ann")
NORMS = ("bn", "tebn")
POOLS = {"max": layer.MaxPool2d, "avg": layer.AvgPool2d}


class MultiStepReLU(nn.ReLU):
    """ReLU for the ANN role; elementwise, so it is the same in any step mode."""


@dataclass(frozen=True)
class LayerKit:
    activation: Callable[[], nn.Module]
    norm: str = "bn"
    n_steps: int = 1
    pool_kind: str = "max"

    def act(self) -> nn.Module:
        return self.activation()

    def bn(self, channels: int) -> nn.Module:
        if self.norm == "tebn":
            return SteppedTEBN2d(self.n_steps, channels)
        return layer.BatchNorm2d(channels, step_mode="m")

    def conv(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> nn.Module:
        return layer.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2,
                            bias=False, step_mode="m")

    def conv_bn_act(self, c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
        return [self.conv(c_in, c_out, stride=stride), self.bn(c_out), self.act()]

    def pool(self, size: int = 2) -> nn.Module:
        return POOLS[self.pool_kind](size, step_mode="m")

    def linear(self, c_in: int, c_out: int) -> nn.Module:
        return layer.Linear(c_in, c_out, step_mode="m")


def make_kit(role: dict, norm: str = "bn", n_steps: int = 1, pool: str | None = None
             ) -> LayerKit:
    """The kit for ``role``. Converted networks pool by averaging: the max of spike
    trains is not the max of their rates. TEBN exists only for SNNs trained over T."""
    kind = role.get("kind")
    if norm not in NORMS:
        raise ValueError(f"unknown normalisation {norm!r}; choose one of {NORMS}")
    if pool is not None and pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}; choose one of {sorted(POOLS)}")
    if kind == "snn":
        cfg = NeuronConfig.from_dict(role["neuron"])
        return LayerKit(lambda: make_neuron(cfg), norm, n_steps, pool or "max")
    if norm == "tebn":
        raise ValueError(f"TEBN normalises over T steps; the {kind!r} role runs one step")
    if kind == "qcfs":
        return LayerKit(lambda: QCFS(levels=role["levels"], theta=role["theta"]),
                        pool_kind=pool or "avg")
    if kind == "ann":
        return LayerKit(MultiStepReLU, pool_kind=pool or "max")
    raise ValueError(f"unknown model role {kind!r}; choose one of {ROLES}")
