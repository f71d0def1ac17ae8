"""The workflow config's own blocks, beyond each library part's settings
(:mod:`spikecut.settings.parts`): the data sets, the variants of a method, the data
splits and the scheduler's resources; and what each method reads from the config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, TypeAdapter

from spikecut.regularisers import FormName
from spikecut.settings.base import Strict
from spikecut.settings.models import ModelConfig
from spikecut.settings.parts import AugmentConfig, NeuronConfig, QCFSConfig


class QCFSNet(Strict):
    """What the QCFS ANN is built and trained with (its T is the recording's)."""

    levels: PositiveInt
    theta_init: float


@dataclass(frozen=True)
class MethodSettings:
    """What a method of :mod:`spikecut.methods` reads from the config, beyond the blocks
    every method reads: the block of its neurons (validated as ``full``, kept in the
    training plan as ``kept``), the form of the regulariser it trains with, the norms
    its models can have, and the key of its block that sets how many steps it runs on
    static data (None: the data set's T). A new method adds one entry here, so that the
    config is checked without importing torch."""

    block: str
    full: type[Strict]
    kept: type[Strict]
    form: FormName
    norms: tuple[str, ...]
    static_steps: str | None = None


METHOD_SETTINGS = {
    "bptt": MethodSettings("neuron", NeuronConfig, NeuronConfig, "snn", ("bn", "tebn")),
    "qcfs": MethodSettings("qcfs", QCFSConfig, QCFSNet, "ann", ("bn",), "T"),
}
BASE_METHODS = tuple(METHOD_SETTINGS)
# blocks of a method's neurons; a variant may set only its own method's
NEURON_BLOCKS = tuple(m.block for m in METHOD_SETTINGS.values())


MODEL_ADAPTER = TypeAdapter(ModelConfig)
DEFAULT_MODEL = {"name": "convsnn"}  # what a model block without a name builds


class DatasetEntry(Strict):
    T: int | None = Field(
        None,
        ge=1,
        le=64,
        description="timesteps: of the event frames and of the runs that train over T; "
        "required unless only qcfs runs a static data set (it runs qcfs.T)",
    )
    epochs: PositiveInt | None = Field(None, description="overrides training.epochs")
    limit: int | None = Field(None, ge=20, description="a stratified subset of this many samples")
    train_limit: int | None = Field(
        None,
        ge=10,
        description="a stratified subset of this many training samples, taken after the "
        "splits: the validation and test splits stay whole",
    )
    options: dict[str, Any] = Field(
        {}, description="the data set's own options (spikecut.data.registry)"
    )
    model: dict[str, Any] = Field({}, description="overrides keys of the shared model block")
    augment: AugmentConfig = Field(AugmentConfig(), description="frame data only")
    methods: tuple[str, ...] | None = Field(None, description="overrides the top-level methods")


class Variant(Strict):
    """A named variant of bptt or qcfs: its blocks override the shared ones."""

    method: Literal[BASE_METHODS] = Field(description="the method it varies")  # type: ignore[valid-type]
    neuron: dict[str, Any] = Field({}, description="keys of the top-level neuron block")
    qcfs: dict[str, Any] = Field({}, description="keys of the top-level qcfs block")
    training: dict[str, Any] = Field({}, description="keys of the top-level training block")
    model: dict[str, Any] = Field({}, description="keys of the model block")


class DataConfig(Strict):
    """Where data come from and how they are split."""

    seed: NonNegativeInt = Field(0, description="event synthesis and the splits")
    raw_root: str = Field("data/raw", description="downloaded archives and what they unpack to")
    test_fraction: float = Field(0.5, gt=0.0, lt=1.0, description="of the sources, where not fixed")
    val_fraction: float = Field(0.3, gt=0.0, lt=1.0, description="of what remains")


class JobResources(Strict):
    """What one job of a rule asks the scheduler for."""

    mem_mb: int = Field(4000, ge=100)
    runtime: int = Field(
        60, ge=1, description="minutes; a retry asks for the same (training resumes)"
    )
    gpu: NonNegativeInt = Field(0, description="GPUs per job")


class ResourcesConfig(Strict):
    """Scheduler requests of the heavy rules (see profiles/)."""

    prepare: JobResources = JobResources(runtime=30)
    train: JobResources = JobResources()
    record: JobResources = JobResources(runtime=30)
