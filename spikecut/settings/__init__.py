"""Typed settings: every config block, its defaults and its checks, in one place.

The workflow validates the whole config once (:class:`Settings`), and each stage and
library function takes the typed block it needs. Importing this package is light (no
torch), so the Snakefile can use it.

The names below load on first use: the library's own options models (a policy's, the
energy model's) build on :mod:`spikecut.settings.base`, and the settings blocks build on
them, so importing the base must not import the blocks.
"""

from importlib import import_module

_HOMES = {
    "spikecut.settings.base": ("ConfigError", "Strict"),
    "spikecut.settings.models": ("ARCHITECTURES", "ModelConfig"),
    "spikecut.settings.parts": (
        "AugmentConfig",
        "BootstrapConfig",
        "CutoffConfig",
        "EarlyExitConfig",
        "NeuronConfig",
        "QCFSConfig",
        "RecordConfig",
        "SummaryConfig",
        "SummaryPlan",
        "TrainConfig",
    ),
    "spikecut.settings.blocks": ("QCFSNet",),
    "spikecut.settings.plans": ("DataPlan", "EarlyExitPlan", "RecordPlan", "Speed", "TrainPlan"),
    "spikecut.settings.workflow": ("Settings",),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
