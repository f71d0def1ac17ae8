"""Per-step outputs of any SNN, in and out of files, and from time-major frameworks.

The file format (what ``spikecut analyse`` reads, and :func:`save_outputs` writes) is an
``.npz``, or a ``.pt``/``.pth`` written by ``torch.save``, holding a mapping with

- ``logits``: ``[N, T, C]`` floats, the network's output o(t) at each step t (output
  spikes, or the output layer's per-step current), not yet summed over steps;
- ``labels``: ``[N]`` integers in [0, C).

Other keys are ignored. snnTorch and Norse emit time-major ``[T, N, C]`` records;
:func:`from_time_major` and :func:`collect` turn them into this layout.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from spikecut.cutoff.steps import StepOutputs, as_array
from spikecut.io import atomic_path

REQUIRED = ("logits", "labels")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TORCH_SUFFIXES = (".pt", ".pth")


class OutputsFileError(ValueError):
    """A per-step outputs file that cannot be read as the format above."""


def _read_npz(path: Path) -> tuple[dict, list[str]]:
    """The required arrays and every key the archive holds."""
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            single = fh.read(6) == b"\x93NUMPY"
        raise OutputsFileError(
            f"{path} is "
            + ("a single .npy array" if single else "not an .npz (zip) archive, or is truncated")
            + ": save logits and labels together with numpy.savez(path, logits=..., "
            "labels=...) or spikecut.outputs.save_outputs"
        )
    # our own handle: np.load leaks its file when the archive is unreadable
    with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
        arrays = {}
        for key in REQUIRED:
            if key not in data.files:
                continue
            try:
                arrays[key] = data[key]
            except ValueError:  # numpy's advice (allow_pickle) is not ours to give
                raise OutputsFileError(
                    f"{path}: {key!r} holds Python objects, not a numeric array; "
                    "save plain arrays, e.g. with spikecut.outputs.save_outputs"
                ) from None
        return arrays, list(data.files)


def _read_torch(path: Path) -> tuple[dict, list[str]]:
    import pickle

    import torch  # only for .pt files: the command stays torch-free otherwise

    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if not found:
            raise
        raise OutputsFileError(
            f"{path} holds objects other than torch tensors ({found[1]}), which spikecut "
            "does not unpickle; torch.save tensors, or write an .npz with "
            "spikecut.outputs.save_outputs"
        ) from None
    if not isinstance(saved, dict):
        raise OutputsFileError(
            f"{path} holds a {type(saved).__name__}, not a dict with {list(REQUIRED)}"
        )
    return {k: saved[k] for k in REQUIRED if k in saved}, [str(k) for k in saved]


def load_outputs(path: str | os.PathLike) -> StepOutputs:
    """The per-step outputs in ``path`` (``.npz``, ``.pt`` or ``.pth``), checked:
    every problem is an :class:`OutputsFileError` whose message names the file."""
    path = Path(path)
    if not path.is_file():
        raise OutputsFileError(
            f"{path}: no such file" if not path.exists() else f"{path} is not a file"
        )
    reader = _read_torch if path.suffix in TORCH_SUFFIXES else _read_npz
    try:
        arrays, keys = reader(path)
    except OutputsFileError:
        raise
    except Exception as err:  # zipfile, zlib, numpy and pickle each raise their own kinds
        kind = "torch.save file" if reader is _read_torch else ".npz archive"
        # torch's messages run to pages, with terminal colours
        detail = ANSI.sub("", (str(err).strip().splitlines() or [""])[0])
        raise OutputsFileError(
            f"{path} is not a readable {kind} ({type(err).__name__}: {detail}); "
            "write it again with spikecut.outputs.save_outputs or numpy.savez"
        ) from err
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise OutputsFileError(
            f"{path} lacks {missing} (it holds {sorted(keys)}): it must hold "
            "logits [N, T, C] and labels [N]"
        )
    try:
        return StepOutputs(arrays["logits"], arrays["labels"])
    except ValueError as err:
        raise OutputsFileError(f"{path}: {err}") from err


def save_outputs(path: str | os.PathLike, logits, labels, time_major: bool = False) -> StepOutputs:
    """Check and write per-step outputs as an ``.npz`` that ``spikecut analyse`` reads;
    ``time_major`` logits are ``[T, N, C]``. Returns what was written."""
    outputs = StepOutputs(from_time_major(logits) if time_major else logits, labels)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, logits=outputs.logits, labels=outputs.labels)
    return outputs


def from_time_major(outputs) -> np.ndarray:
    """``[T, N, C]`` (snnTorch's and Norse's layout; a tensor or an array) as the
    ``[N, T, C]`` array spikecut works on."""
    outputs = as_array(outputs)
    if outputs.ndim != 3:
        raise ValueError(f"time-major outputs must be [T, N, C], got shape {outputs.shape}")
    return np.ascontiguousarray(outputs.transpose(1, 0, 2))


def collect(forward: Callable, batches: Iterable, time_major: bool = True) -> StepOutputs:
    """Per-step outputs of a whole data set: ``forward(inputs)`` gives a batch's outputs
    (``[T, B, C]`` when ``time_major``, else ``[B, T, C]``) for each ``(inputs, labels)``
    of ``batches``. Run it under ``torch.no_grad()``, with the model reset per batch as
    its framework requires."""
    logits, labels = [], []
    for inputs, targets in batches:
        out = forward(inputs)
        logits.append(from_time_major(out) if time_major else as_array(out))
        labels.append(as_array(targets))
    if not logits:
        raise ValueError("no batches to collect outputs from")
    return StepOutputs(np.concatenate(logits), np.concatenate(labels))
