"""Typed settings: every config block, its defaults and its checks, in one place.

The workflow validates the whole config once (:class:`Settings`), and each stage and
library function takes the typed block it needs. Importing this package is light (no
torch), so the Snakefile can use it.
"""

from spikecut.settings.base import ConfigError, Strict
from spikecut.settings.models import ARCHITECTURES, ModelConfig
from spikecut.settings.parts import (
    AugmentConfig,
    BootstrapConfig,
    CutoffConfig,
    EarlyExitConfig,
    EnergyConfig,
    NeuronConfig,
    QCFSConfig,
    RCSConfig,
    RecordConfig,
    SummaryConfig,
    SummaryPlan,
    TrainConfig,
)
from spikecut.settings.workflow import (
    DataPlan,
    EarlyExitPlan,
    QCFSNet,
    RecordPlan,
    Settings,
    Speed,
    TrainPlan,
)

__all__ = [
    "ARCHITECTURES",
    "AugmentConfig",
    "BootstrapConfig",
    "ConfigError",
    "CutoffConfig",
    "DataPlan",
    "EarlyExitConfig",
    "EarlyExitPlan",
    "EnergyConfig",
    "ModelConfig",
    "NeuronConfig",
    "QCFSConfig",
    "QCFSNet",
    "RCSConfig",
    "RecordConfig",
    "RecordPlan",
    "Settings",
    "Speed",
    "Strict",
    "SummaryConfig",
    "SummaryPlan",
    "TrainConfig",
    "TrainPlan",
]
