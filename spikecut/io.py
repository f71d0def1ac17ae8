"""Atomic file output and provenance.

Every writer goes through :func:`atomic_path`: data goes to a hidden temporary name in
the same folder and is renamed over the target only once complete, so a killed job
never leaves a file that Snakemake (or a person) would take as finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spikecut.recovery import remake


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def config_id(params: Any) -> str:
    """A short, stable hash of the parameters that produced a result."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_csv(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


class BrokenFileError(ValueError):
    """A file of the workflow that cannot be read; the message says how to remake it."""


def write_npz(path: str | os.PathLike, meta: dict, **arrays: np.ndarray) -> None:
    """Compressed arrays plus a JSON ``meta`` entry saying what made them."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)


def read_npz(path: str | os.PathLike, required: tuple[str, ...]) -> tuple[dict, dict]:
    """Arrays and meta from :func:`write_npz`, with a clear error for a bad file."""
    path = Path(path)
    # our own handle: np.load leaks its file when the archive is not a zip
    with open(path, "rb") as fh:
        try:
            with np.load(fh, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except Exception as err:  # zipfile, zlib and numpy each raise their own kinds
            raise BrokenFileError(
                f"{path} is corrupt or truncated ({type(err).__name__}: {err}); {remake(path)}"
            ) from err
    missing = [k for k in required + ("meta",) if k not in arrays]
    if missing:
        raise BrokenFileError(
            f"{path} lacks the arrays {missing}; it was written by another version; {remake(path)}"
        )
    return arrays, json.loads(str(arrays.pop("meta")))


# torch is imported by the two functions that need it: the jobs that only analyse
# recorded outputs use this module and would otherwise pay seconds to import it


def save_torch(path: str | os.PathLike, obj: Any) -> None:
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_torch(path: str | os.PathLike, advice: str | None = None) -> Any:
    """A torch file; for a bad one, an error with ``advice`` (default: how to make it
    again)."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise
    except Exception as err:
        raise BrokenFileError(
            f"checkpoint {path} is corrupt or truncated ({type(err).__name__}); "
            f"{advice or remake(path)}"
        ) from err
