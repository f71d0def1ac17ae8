"""The training methods a run can use: one object each, registered by name.

A method builds the model it trains, encodes the stored samples as its input, trains
with its form of the run's regulariser (``spikecut.regularisers``), and turns the
trained model into the SNN that is recorded and cut off. A new method is one more
:class:`Method` in :data:`METHODS` (and its settings block in :mod:`spikecut.settings`).

- ``bptt`` trains the multi-step SNN directly over T steps with the regulariser's SNN
  form.
- ``qcfs`` trains a one-step QCFS ANN with its ANN form; recording converts it to
  an SNN of IF neurons and runs that for ``qcfs.T`` steps (the frame count for events).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from functools import partial

from torch import nn

from spikecut.conversion import convert_qcfs_to_snn
from spikecut.data import PreparedData
from spikecut.data.augment import make_augment
from spikecut.data.encoding import to_ann_input, to_time_major
from spikecut.inference.run import Encoder
from spikecut.models import build_model
from spikecut.regularisers import REGULARISERS
from spikecut.settings import RecordPlan, TrainPlan
from spikecut.settings.blocks import METHOD_SETTINGS, MODEL_ADAPTER
from spikecut.training.loop import TrainingSetup

log = logging.getLogger(__name__)


def rebuild(spec: dict, backend: str | None = None) -> nn.Module:
    """The (untrained) model a checkpoint's ``model_spec`` describes; ``backend``
    replaces the neuron implementation it was trained with (speed, not results)."""
    role = spec["role"]
    if backend is not None and "neuron" in role:
        role = role | {"neuron": role["neuron"] | {"backend": backend}}
    return build_model(
        MODEL_ADAPTER.validate_python(spec["model"]),
        spec["input_shape"],
        spec["num_classes"],
        role,
        spec["n_steps"],
    )


class Method(ABC):
    name: str

    @abstractmethod
    def role(self, plan: TrainPlan) -> dict:
        """What follows each linear block of the model (see ``spikecut.models.kit``)."""

    @abstractmethod
    def model_steps(self, data: PreparedData) -> int:
        """The T the model is built for (TEBN learns one scale per step)."""

    @abstractmethod
    def encoder(self, data: PreparedData) -> Encoder:
        """Stored samples -> the model's training input."""

    @abstractmethod
    def to_snn(
        self, trained: nn.Module, data: PreparedData, plan: RecordPlan
    ) -> tuple[nn.Module, int, dict]:
        """The SNN to record, the T it runs, and facts about it for the record."""

    def setup(self, plan: TrainPlan, data: PreparedData) -> TrainingSetup:
        spec = {
            "model": plan.model.model_dump(mode="json"),
            "input_shape": list(data.input_shape),
            "num_classes": data.num_classes,
            "role": self.role(plan),
            "n_steps": self.model_steps(data),
        }
        augment = make_augment(plan.augment)
        if augment is not None and data.kind != "static":
            raise ValueError(
                "augmentation is for frame data; remove 'augment' from the event data set's config"
            )
        model = rebuild(spec)
        form = REGULARISERS[plan.training.regulariser].form(METHOD_SETTINGS[self.name].form)
        regulariser = form.build(model, plan.regulariser, plan)
        return TrainingSetup(model, spec, self.encoder(data), regulariser, augment)

    def inference(
        self, trained: nn.Module, data: PreparedData, plan: RecordPlan
    ) -> tuple[nn.Module, Encoder, dict]:
        """The SNN to record, its T-step input encoding, and facts about it."""
        snn, n_steps, info = self.to_snn(trained, data, plan)
        encode = partial(to_time_major, kind=data.kind, n_steps=n_steps, norm=data.norm)
        return snn, encode, info | {"n_steps": n_steps}


class BPTT(Method):
    name = "bptt"

    def role(self, plan):
        return {"kind": "snn", "neuron": plan.neuron.model_dump(mode="json")}

    def model_steps(self, data):
        return data.n_steps

    def encoder(self, data):
        return partial(to_time_major, kind=data.kind, n_steps=data.n_steps, norm=data.norm)

    def to_snn(self, trained, data, plan):
        return trained, data.n_steps, {}


class QCFSConversion(Method):
    name = "qcfs"

    def role(self, plan):
        return {"kind": "qcfs", "levels": plan.qcfs.levels, "theta": plan.qcfs.theta_init}

    def model_steps(self, data):
        return 1

    def encoder(self, data):
        return partial(to_ann_input, kind=data.kind, norm=data.norm)

    def to_snn(self, trained, data, plan):
        snn, converted = convert_qcfs_to_snn(trained)
        # event frames fix T; static inputs are repeated for as long as configured
        n_steps = data.n_steps if data.kind == "events" else plan.static_steps
        if n_steps is None:
            raise ValueError("recording a converted SNN on static data needs static_steps")
        log.info("converted %d QCFS layers to IF neurons; simulating %d steps", converted, n_steps)
        return snn, n_steps, {"converted_layers": converted}


METHODS: dict[str, Method] = {m.name: m for m in (BPTT(), QCFSConversion())}
