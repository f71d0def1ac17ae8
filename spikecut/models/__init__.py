"""The model registry: every architecture by name, built in one of its roles.

A role says what follows each linear block: ``{"kind": "snn", "neuron": {...}}`` for a
multi-step SNN trained by BPTT, ``{"kind": "qcfs", "levels": L, "theta": t}`` for the
QCFS ANN that is later converted to an SNN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from spikecut.conversion import QCFS
from spikecut.models.convsnn import build_convsnn
from spikecut.neurons import NeuronConfig, make_neuron

MODELS: dict[str, Callable[..., nn.Module]] = {"convsnn": build_convsnn}
ROLES = ("snn", "qcfs")


def activation_factory(role: dict) -> Callable[[], nn.Module]:
    """A zero-argument constructor for the activation layers of ``role``."""
    kind = role.get("kind")
    if kind == "snn":
        cfg = NeuronConfig.from_dict(role["neuron"])
        return lambda: make_neuron(cfg)
    if kind == "qcfs":
        return lambda: QCFS(levels=role["levels"], theta=role["theta"])
    raise ValueError(f"unknown model role {kind!r}; choose one of {ROLES}")


def build_model(
    name: str, input_shape: Sequence[int], num_classes: int, role: dict, **options
) -> nn.Module:
    try:
        builder = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; registered: {sorted(MODELS)}") from None
    return builder(input_shape, num_classes, activation=activation_factory(role), **options)


__all__ = ["MODELS", "ROLES", "activation_factory", "build_model"]
