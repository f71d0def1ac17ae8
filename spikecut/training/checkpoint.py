"""Resumable training: the whole state of a run after each finished epoch.

The checkpoint holds the model, optimiser, scheduler, every random state, the epoch,
the metrics so far and the best state yet, so a run killed at any point and started
again continues from its last finished epoch and ends exactly as an uninterrupted run
would (on CPU). It is written atomically, and it carries the id of the configuration
it belongs to: a checkpoint of other settings is ignored, never resumed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from spikecut.io import load_torch, save_torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpointer:
    path: Path
    identity: str  # config id of the run

    def load(self) -> dict | None:
        """The saved state of this run, or None to start from epoch 1."""
        if not self.path.exists():
            return None
        state = load_torch(
            self.path, f"delete {self.path}: the run then starts again from its first epoch"
        )
        if state.get("identity") != self.identity:
            log.warning(
                "ignoring %s: it belongs to another configuration (%s, not %s)",
                self.path,
                state.get("identity"),
                self.identity,
            )
            return None
        return state

    def save(self, state: dict) -> None:
        save_torch(self.path, state | {"identity": self.identity})
