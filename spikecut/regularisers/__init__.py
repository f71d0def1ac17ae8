"""Regularisers that make early timesteps agree with late ones."""

from spikecut.regularisers.probe import SpikingLayerProbe
from spikecut.regularisers.rcs import AGGREGATIONS, rcs_snn, tail_steps

__all__ = ["AGGREGATIONS", "SpikingLayerProbe", "rcs_snn", "tail_steps"]
