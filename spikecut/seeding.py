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


def rng_state(generator: torch.Generator) -> dict:
    """Every random state a training run draws from, for a checkpoint."""
    return {
        "generator": generator.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def restore_rng_state(state: dict, generator: torch.Generator) -> None:
    """Put back what :func:`rng_state` captured, so a resumed run draws the same numbers."""
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


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


def device_name(device: torch.device) -> str:
    """``cpu``, or the GPU's name: what a recorded result says it ran on."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
