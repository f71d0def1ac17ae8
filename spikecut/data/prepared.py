"""Prepared data sets: fixed stratified train/validation/test splits, cached on disk."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikecut.data.registry import get_dataset
from spikecut.data.spec import kept_groups
from spikecut.io import read_npz, write_json, write_npz
from spikecut.settings.base import Strict, validate

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class PreparedData:
    kind: str
    num_classes: int
    n_steps: int | None  # None: static data that no run takes T steps of
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    # positions of each split's samples in the full data set: what ties a result back to
    # the source samples, and what lets the tests prove the splits disjoint and complete
    index: dict[str, np.ndarray]
    norm: tuple[tuple[float, ...], tuple[float, ...]] | None = None  # (mean, std) of uint8

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one timestep of one sample, ``(C, H, W)``."""
        sample = self.x["train"][0]
        return tuple(sample.shape[1:] if self.kind == "events" else sample.shape)


def prepare(
    name: str,
    n_steps: int | None,
    seed: int,
    test_fraction: float | None,
    val_fraction: float,
    limit: int | None = None,
    options: Strict | dict | None = None,
    root: str | os.PathLike | None = None,
    train_limit: int | None = None,
) -> PreparedData:
    """Build a data set and split it, stratified by class and fixed by ``seed``.

    A data set with an official test split keeps it (``test_fraction`` is then unused);
    the others hold out ``test_fraction``. ``val_fraction`` of what remains becomes the
    validation split. ``limit`` keeps a stratified subset of that many samples first
    (for quick tests); ``train_limit`` keeps one of that many training samples last, so
    that a large data set trains on a part while it is judged on all of its test split.
    ``root`` is the folder of downloaded raw data (each data set in the subfolder its
    spec's ``raw_folder`` names), needed by the downloaded data sets only. Where several
    samples share a source (recordings of one image), every split and both subsets take
    whole sources, so no source is in two splits.
    """
    spec = get_dataset(name)
    if not isinstance(options, spec.options):
        options = validate(spec.options, options or {}, ("datasets", name, "options"))
    if spec.remote and root is None:
        raise ValueError(f"data set {name!r} is read from downloaded files: give their root")
    raw = None if root is None else Path(root) / spec.raw_folder
    samples = spec.build(n_steps, seed, options, raw)
    x, y = samples.x, samples.y
    groups = np.arange(len(y)) if samples.groups is None else samples.groups
    index = _subset(name, np.arange(len(y)), groups, y, limit, seed)
    if samples.is_test is None:
        if test_fraction is None:
            raise ValueError(f"data set {name!r} has no test split of its own: give test_fraction")
        rest, test = _split(name, index, groups, y, test_fraction, seed)
    else:
        rest, test = index[~samples.is_test[index]], index[samples.is_test[index]]
    train, val = _split(name, rest, groups, y, val_fraction, seed)
    train = _subset(name, train, groups, y, train_limit, seed)
    parts = {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}
    return PreparedData(
        kind=spec.kind,
        num_classes=spec.num_classes,
        n_steps=n_steps,
        x={k: x[v] for k, v in parts.items()},
        y={k: y[v] for k, v in parts.items()},
        index=parts,
        norm=(spec.mean, spec.std) if spec.mean is not None else None,
    )


def _subset(
    name: str, index: np.ndarray, groups: np.ndarray, y: np.ndarray, size: int | None, seed: int
) -> np.ndarray:
    """A stratified subset of about ``size`` of the samples ``index``, by whole groups;
    all of them where ``size`` is None or not below their number."""
    if size is None or size >= len(index):
        return index
    n_groups = len(np.unique(groups[index]))
    kept = kept_groups(size, n_groups, len(index))
    subset, _ = _split(name, index, groups, y, n_groups - kept, seed)
    return subset


def _split(
    name: str, index: np.ndarray, groups: np.ndarray, y: np.ndarray, second: float | int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``index`` split into two parts by whole groups, stratified by class; the second
    part gets ``second`` of the groups (a fraction, or a count)."""
    from sklearn.model_selection import train_test_split  # slow to import; only needed here

    members, first_member = np.unique(groups[index], return_index=True)
    try:
        _, chosen = train_test_split(
            members, test_size=second, random_state=seed, stratify=y[index][first_member]
        )
    except ValueError as err:
        raise ValueError(
            f"cannot split the {len(members)} sources of data set {name!r} so that each of "
            f"its {len(np.unique(y[index]))} classes is on both sides ({err}); raise "
            f"datasets.{name}.limit or train_limit, data.test_fraction or data.val_fraction"
        ) from err
    in_second = np.isin(groups[index], chosen)
    return index[~in_second], index[in_second]


def save_prepared(
    data: PreparedData, frames_path: os.PathLike, params_path: os.PathLike, params: dict
) -> None:
    meta = {
        "kind": data.kind,
        "num_classes": data.num_classes,
        "n_steps": data.n_steps,
        "norm": data.norm,
        "params": params,
    }
    arrays = {f"{a}_{s}": getattr(data, a)[s] for a in ("x", "y", "index") for s in SPLITS}
    write_npz(frames_path, meta, **arrays)
    counts = {s: np.bincount(data.y[s], minlength=data.num_classes).tolist() for s in SPLITS}
    write_json(params_path, {**meta, "class_counts": counts})


def load_prepared(path: os.PathLike) -> PreparedData:
    required = tuple(f"{a}_{s}" for a in ("x", "y", "index") for s in SPLITS)
    arrays, meta = read_npz(path, required)
    return PreparedData(
        kind=meta["kind"],
        num_classes=meta["num_classes"],
        n_steps=meta["n_steps"],
        x={s: arrays[f"x_{s}"] for s in SPLITS},
        y={s: arrays[f"y_{s}"] for s in SPLITS},
        index={s: arrays[f"index_{s}"] for s in SPLITS},
        norm=tuple(map(tuple, meta["norm"])) if meta.get("norm") else None,
    )
