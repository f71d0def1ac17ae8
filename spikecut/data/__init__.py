"""Data sets: a registry of builders, and cached, split, model-ready arrays."""

from spikecut.data.prepared import (
    PreparedData,
    load_prepared,
    prepare,
    save_prepared,
    to_ann_input,
    to_time_major,
)
from spikecut.data.registry import DATASETS, DatasetSpec, get_dataset

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "PreparedData",
    "get_dataset",
    "load_prepared",
    "prepare",
    "save_prepared",
    "to_ann_input",
    "to_time_major",
]
