"""Data sets: a registry of builders, and cached, split, model-ready arrays.

Importing this package does not import torch; :mod:`spikecut.data.encoding` turns the
arrays into tensors.
"""

from spikecut.data.prepared import PreparedData, load_prepared, prepare, save_prepared
from spikecut.data.registry import DATASETS, DatasetSpec, get_dataset

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "PreparedData",
    "get_dataset",
    "load_prepared",
    "prepare",
    "save_prepared",
]
