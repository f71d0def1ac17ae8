"""The data set registry: every data set the workflow can prepare, by name, one module
each under :mod:`spikecut.data.sets`.

A data set builds all of its samples as model-ready arrays: ``static`` data sets give
one frame per sample ``[N, C, H, W]`` (repeated over T by direct encoding), ``events``
data sets give T frames per sample ``[N, T, C, H, W]``. Data sets with an official test
split say which samples belong to it; the others are split by ``prepare``.
"""

from __future__ import annotations

import importlib
import pkgutil

from spikecut.data import sets
from spikecut.data.spec import DatasetSpec


def _declared(module) -> tuple[DatasetSpec, ...]:
    """A module's data set, or its family's (``DATASETS``, as CIFAR-10 and -100)."""
    return getattr(module, "DATASETS", None) or (module.DATASET,)


_FOUND = [
    spec
    for found in pkgutil.iter_modules(sets.__path__)
    for spec in _declared(importlib.import_module(f"{sets.__name__}.{found.name}"))
]
# the embedded data sets first, then the downloaded ones, each group by name
DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec for spec in sorted(_FOUND, key=lambda spec: (spec.remote, spec.name))
}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; registered: {sorted(DATASETS)}") from None
