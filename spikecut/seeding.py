"""Explicit seeding, and the random state a checkpoint carries."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU generator for data order and
    augmentation.

    cuDNN autotuning picks kernels by timing them, which undoes seeding, so it is on
    only where ``deterministic`` is false.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = not deterministic
    torch.backends.cudnn.deterministic = deterministic
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
