"""The training methods a run can use, and how each turns into an SNN for inference.

``bptt`` trains the multi-step SNN directly over T steps with the SNN form of RCS.
``qcfs`` trains a one-step QCFS ANN with the ANN form of RCS; recording converts it to
an SNN of IF neurons and runs that for ``qcfs.T`` steps (the frame count for events).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from torch import nn

from spikecut.conversion import convert_qcfs_to_snn
from spikecut.data import PreparedData, to_ann_input, to_time_major
from spikecut.data.augment import Augment, make_augment
from spikecut.models import build_model
from spikecut.regularisers import QCFSRCS, Regulariser, SpikingRCS
from spikecut.training.loop import Encoder

log = logging.getLogger(__name__)
METHODS = ("bptt", "qcfs")


@dataclass
class TrainingSetup:
    model: nn.Module
    spec: dict  # everything needed to rebuild the model from a checkpoint
    encode: Encoder
    regulariser: Regulariser
    augment: Augment | None = None


def _spec(method: str, data: PreparedData, params: dict) -> dict:
    options = dict(params["model"])
    name = options.pop("name")
    if method == "bptt":
        role = {"kind": "snn", "neuron": params["neuron"]}
        options["n_steps"] = data.n_steps  # TEBN learns one scale per step
    elif method == "qcfs":
        role = {"kind": "qcfs", "levels": params["qcfs"]["levels"],
                "theta": params["qcfs"]["theta_init"]}
    else:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    return {"name": name, "input_shape": list(data.input_shape),
            "num_classes": data.num_classes, "role": role, "options": options}


def rebuild(spec: dict) -> nn.Module:
    return build_model(spec["name"], spec["input_shape"], spec["num_classes"], spec["role"],
                       **spec["options"])


def training_setup(method: str, data: PreparedData, params: dict) -> TrainingSetup:
    """The model, its input encoding and its RCS form for training by ``method``."""
    spec = _spec(method, data, params)
    model = rebuild(spec)
    rcs = params["rcs"]
    if method == "bptt":
        encode = partial(to_time_major, kind=data.kind, n_steps=data.n_steps, norm=data.norm)
        reg = SpikingRCS(model, params["neuron"]["v_threshold"], rcs["tail_fraction"],
                         rcs["aggregation"])
    else:
        encode = partial(to_ann_input, kind=data.kind, norm=data.norm)
        reg = QCFSRCS(model, rcs["aggregation"], rcs.get("ann_peak", "batch"))
    augment = make_augment(params.get("augment"), data.input_shape[1:])
    if augment is not None and data.kind != "static":
        raise ValueError("augmentation is for frame data; remove 'augment' from the "
                         "event data set's config")
    return TrainingSetup(model, spec, encode, reg, augment)


def inference_snn(method: str, trained: nn.Module, data: PreparedData, params: dict
                  ) -> tuple[nn.Module, Encoder, dict]:
    """The SNN to record, its T-step input encoding, and facts about it for the record."""
    if method == "bptt":
        n_steps, info = data.n_steps, {}
        snn = trained
    else:
        snn, converted = convert_qcfs_to_snn(trained)
        # event frames fix T; static inputs are repeated for as long as configured
        n_steps = data.n_steps if data.kind == "events" else params["qcfs"]["T"]
        info = {"converted_layers": converted}
        log.info("converted %d QCFS layers to IF neurons; simulating %d steps",
                 converted, n_steps)
    encode = partial(to_time_major, kind=data.kind, n_steps=n_steps, norm=data.norm)
    return snn, encode, info | {"n_steps": n_steps}
