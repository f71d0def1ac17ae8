"""The model registry: every architecture by name, built in one of its roles.

A role says what follows each linear block: ``{"kind": "snn", "neuron": {...}}`` for a
multi-step SNN trained by BPTT, ``{"kind": "qcfs", "levels": L, "theta": t}`` for the
QCFS ANN that is later converted to an SNN, ``{"kind": "ann"}`` for a ReLU ANN.
Builders take ``(input_shape, num_classes, kit, **options)``, the options being those
of the architecture's settings (:mod:`spikecut.settings.models`), which hold their
defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from spikecut.models.convsnn import build_convsnn
from spikecut.models.kit import NORMS, ROLES, LayerKit, make_kit
from spikecut.models.resnet import build_resnet18, build_resnet19, build_resnet20
from spikecut.models.tebn import SteppedTEBN2d
from spikecut.models.vgg import build_dvs_vgg, build_vgg16, build_vggsnn
from spikecut.settings.base import validate
from spikecut.settings.blocks import MODEL_ADAPTER
from spikecut.settings.models import ModelConfig

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
    model: ModelConfig | str,
    input_shape: Sequence[int],
    num_classes: int,
    role: dict,
    n_steps: int = 1,
    **options,
) -> nn.Module:
    """The architecture ``model`` (settings, or a name and its options, with the
    defaults of :mod:`spikecut.settings.models`) in ``role``; its ``norm`` ("bn", or
    "tebn", which needs ``n_steps``) and ``pool`` apply to every architecture."""
    if isinstance(model, str):
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; registered: {sorted(MODELS)}")
        model = validate(MODEL_ADAPTER, {"name": model, **options}, ("model",))
    kit = make_kit(role, norm=model.norm, n_steps=n_steps, pool=model.pool)
    return MODELS[model.name](input_shape, num_classes, kit, **model.options())


__all__ = ["MODELS", "NORMS", "ROLES", "LayerKit", "SteppedTEBN2d", "build_model", "make_kit"]
