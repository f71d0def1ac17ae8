"""The whole workflow config as one typed model, validated in full before any job runs
(its checks across blocks: :mod:`spikecut.settings.checks`), and the exact settings each
stage reads (:mod:`spikecut.settings.plans`).

``Settings.load(config)`` checks every key, type and range, then the rules that span
blocks. An error names the key path.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, NonNegativeInt

from spikecut.regularisers import REGULARISERS
from spikecut.settings.base import ConfigError, NumberString, Strict, validate
from spikecut.settings.blocks import DataConfig, DatasetEntry, ResourcesConfig, Variant
from spikecut.settings.checks import Checks
from spikecut.settings.parts import (
    CutoffConfig,
    EarlyExitConfig,
    NeuronConfig,
    QCFSConfig,
    RecordConfig,
    RegulariserSettingsByName,
    SummaryConfig,
    TrainConfig,
    schema_by_name,
)
from spikecut.settings.plans import Plans


class Settings(Checks, Plans, Strict):
    results: str = Field(
        "results", min_length=1, description="the root of every output: two configs, two roots"
    )
    datasets: dict[str, DatasetEntry] = Field(
        min_length=1, description="the data sets to run, by registry name"
    )
    data: DataConfig = DataConfig()
    methods: tuple[str, ...] = Field(("bptt",), description="bptt, qcfs or variant names")
    variants: dict[str, Variant] = Field({}, description="named variants of a method")
    alphas: tuple[NumberString, ...] = Field(
        min_length=1, description="weights of training.regulariser; '0': the baseline"
    )
    seeds: tuple[NonNegativeInt, ...] = Field(min_length=1, description="one run per seed")
    model: dict[str, Any] = Field(
        {},
        description="shared by every data set and method; without a name, the convsnn architecture",
    )
    neuron: NeuronConfig = NeuronConfig()
    qcfs: QCFSConfig = QCFSConfig()
    training: TrainConfig = TrainConfig()
    regularisers: RegulariserSettingsByName = Field(
        {},
        description="each regulariser's settings by name (see the list below)",
        json_schema_extra=schema_by_name(REGULARISERS, lambda record: record.settings),
    )
    record: RecordConfig = RecordConfig()
    cutoff: CutoffConfig = CutoffConfig()
    summary: SummaryConfig = SummaryConfig()
    early_exit: EarlyExitConfig = EarlyExitConfig()
    resources: ResourcesConfig = ResourcesConfig()

    @classmethod
    def load(cls, config: dict) -> Settings:
        """The settings of ``config``, or a :class:`ConfigError` naming every bad key."""
        settings = validate(cls, config)
        problems = settings._problems()
        if problems:
            raise ConfigError(problems)
        return settings
