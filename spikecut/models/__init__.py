"""The model registry: every architecture by name, built in one of its roles.

A role says what follows each linear block: ``{"kind": "snn", "neuron": {...}}`` for a
multi-step SNN trained by BPTT, ``{"kind": "qcfs", "levels": L, "theta": t}`` for the
QCFS ANN that is later converted to an SNN, ``{"kind": "ann"}`` for a ReLU ANN.
Builders take ``(input_shape, num_classes, kit, **options)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from spikecut.models.convsnn import build_convsnn
from spikecut.models.kit import NORMS, ROLES, LayerKit, make_kit
from spikecut.models.resnet import build_resnet18, build_resnet19, build_resnet20
from spikecut.models.tebn import SteppedTEBN2d
from spikecut.models.vgg import build_dvs_vgg, build_vgg16, build_vggsnn

MODELS: dict[str, Callable[..., nn.Module]] = {
    "convsnn": build_convsnn,
    "vgg16": build_vgg16,
    "vggsnn": build_vggsnn,
    "dvs_vgg": build_dvs_vgg,
    "resnet18": build_resnet18,
    "resnet19": build_resnet19,
    "resnet20": build_resnet20,
}


def build_model(
    name: str,
    input_shape: Sequence[int],
    num_classes: int,
    role: dict,
    norm: str = "bn",
    n_steps: int = 1,
    pool: str | None = None,
    **options,
) -> nn.Module:
    """``name`` in ``role``; ``norm`` ("bn" or "tebn", which needs ``n_steps``) and
    ``pool`` ("max" or "avg"; default by role) apply to every architecture."""
    try:
        builder = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; registered: {sorted(MODELS)}") from None
    kit = make_kit(role, norm=norm, n_steps=n_steps, pool=pool)
    return builder(input_shape, num_classes, kit, **options)


__all__ = ["MODELS", "NORMS", "ROLES", "LayerKit", "SteppedTEBN2d", "build_model", "make_kit"]
