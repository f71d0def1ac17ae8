"""Explicit seeding for reproducible runs on CPU."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU generator for data order.

    cuDNN autotuning picks kernels by timing, which undoes seeding, so it stays off.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def pick_device(device: str) -> torch.device:
    """``auto`` is CUDA when present, else CPU; an explicit ``cuda`` without one fails."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {device!r} was requested but CUDA is not available; "
            "set device: auto or cpu in the config"
        )
    return torch.device(device)
