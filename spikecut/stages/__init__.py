"""File-to-file entry points of the workflow's stages.

Each Snakemake script calls exactly one of these with plain values; each composes the
library and does its own I/O, atomically. All are usable without Snakemake.

- :mod:`~spikecut.stages.data`: fetch and prepare a data set;
- :mod:`~spikecut.stages.network`: train a run, record its per-step outputs and run its
  cutoffs for real (torch);
- :mod:`~spikecut.stages.analysis`: sweep the cutoffs and summarise (no torch);
- :mod:`~spikecut.stages.standalone`: all of that for outputs recorded anywhere, as
  ``spikecut analyse`` does (no torch).

The stages are importable from here by name, and each is imported on first use, so
that a job which only analyses recorded outputs never pays for importing torch.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "fetch_dataset": "data",
    "prepare_dataset": "data",
    "train": "network",
    "record": "network",
    "early_exit": "network",
    "load_step_outputs": "analysis",
    "sweep_cutoff": "analysis",
    "load_run_sweep": "analysis",
    "concat_csv": "analysis",
    "summarise_runs": "analysis",
    "analyse_outputs": "standalone",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
