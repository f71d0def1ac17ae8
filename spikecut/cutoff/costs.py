"""The energy per operation that turns counted MACs and SOPs into joules.

The defaults are the 45 nm 32-bit floating-point figures (Horowitz, ISSCC 2014) that
most SNN papers quote; the model is also the config's ``cutoff.energy`` block. This
module stays free of torch so that the cutoff analytics import quickly.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, NonNegativeFloat

from spikecut.settings.base import Strict


class EnergyModel(Strict):
    """Energy per operation in pJ: a MAC in the encoding layer and an accumulate per
    synaptic event."""

    mac_pj: NonNegativeFloat = Field(4.6, description="per multiply-accumulate")
    ac_pj: NonNegativeFloat = Field(0.9, description="per synaptic operation")

    def joules(self, macs: np.ndarray, sops: np.ndarray) -> np.ndarray:
        return (self.mac_pj * macs + self.ac_pj * sops) * 1e-12
