"""Cutoff policies for anytime SNN inference, and exact, vectorised sweeps over them."""

from spikecut.cutoff.calibration import calibrate_exact, calibrate_grid
from spikecut.cutoff.policies import POLICIES, OperatingPoint, Policy, ScorePolicy, make_policy
from spikecut.cutoff.steps import StepOutputs, first_firing_step, top2_gap
from spikecut.cutoff.sweep import fixed_steps_needed, sweep

__all__ = [
    "POLICIES",
    "OperatingPoint",
    "Policy",
    "ScorePolicy",
    "StepOutputs",
    "calibrate_exact",
    "calibrate_grid",
    "first_firing_step",
    "fixed_steps_needed",
    "make_policy",
    "sweep",
    "top2_gap",
]
