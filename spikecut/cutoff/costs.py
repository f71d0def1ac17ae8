"""The energy per operation that turns counted MACs and SOPs into joules.

The defaults are the settings' (``cutoff.energy``): the 45 nm 32-bit floating-point
figures (Horowitz, ISSCC 2014) that most SNN papers quote. This module stays free of
torch so that the cutoff analytics import quickly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikecut.settings.parts import EnergyConfig

_DEFAULT = EnergyConfig()


@dataclass(frozen=True)
class EnergyModel:
    mac_pj: float = _DEFAULT.mac_pj
    ac_pj: float = _DEFAULT.ac_pj

    def __post_init__(self):
        if self.mac_pj < 0 or self.ac_pj < 0:
            raise ValueError(f"energy per operation must be >= 0, got {self}")

    def joules(self, macs: np.ndarray, sops: np.ndarray) -> np.ndarray:
        return (self.mac_pj * macs + self.ac_pj * sops) * 1e-12
