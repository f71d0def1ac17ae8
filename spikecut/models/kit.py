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
from spikecut.neurons import make_neuron
from spikecut.settings import NeuronConfig

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
        return layer.Conv2d(
            c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False, step_mode="m"
        )

    def conv_bn_act(self, c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
        return [self.conv(c_in, c_out, stride=stride), self.bn(c_out), self.act()]

    def pool(self, size: int = 2) -> nn.Module:
        return POOLS[self.pool_kind](size, step_mode="m")

    def linear(self, c_in: int, c_out: int) -> nn.Module:
        return layer.Linear(c_in, c_out, step_mode="m")


def _snn(role: dict, norm: str, n_steps: int, pool: str | None) -> LayerKit:
    cfg = NeuronConfig.model_validate(role["neuron"])
    return LayerKit(lambda: make_neuron(cfg), norm, n_steps, pool or "max")


def _qcfs(role: dict, norm: str, n_steps: int, pool: str | None) -> LayerKit:
    return LayerKit(
        lambda: QCFS(levels=role["levels"], theta=role["theta"]), pool_kind=pool or "avg"
    )


def _ann(role: dict, norm: str, n_steps: int, pool: str | None) -> LayerKit:
    return LayerKit(MultiStepReLU, pool_kind=pool or "max")


# kind -> (kit builder, whether it runs over T steps, so TEBN can apply)
ROLES: dict[str, tuple[Callable[..., LayerKit], bool]] = {
    "snn": (_snn, True),
    "qcfs": (_qcfs, False),
    "ann": (_ann, False),
}


def make_kit(role: dict, norm: str = "bn", n_steps: int = 1, pool: str | None = None) -> LayerKit:
    """The kit for ``role`` (``{"kind": ..., ...}``). Converted networks pool by
    averaging: the max of spike trains is not the max of their rates. TEBN exists only
    for SNNs trained over T."""
    kind = role.get("kind")
    if kind not in ROLES:
        raise ValueError(f"unknown model role {kind!r}; choose one of {sorted(ROLES)}")
    if norm not in NORMS:
        raise ValueError(f"unknown normalisation {norm!r}; choose one of {NORMS}")
    if pool is not None and pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}; choose one of {sorted(POOLS)}")
    build, over_time = ROLES[kind]
    if norm == "tebn" and not over_time:
        raise ValueError(f"TEBN normalises over T steps; the {kind!r} role runs one step")
    return build(role, norm, n_steps, pool)
