"""Figures of the workflow: seaborn and matplotlib, PNG, written atomically. One module
per figure; :mod:`spikecut.plots.common` holds what they share. Matplotlib draws off
screen, whatever the machine's display."""

import matplotlib

matplotlib.use("Agg")

# ruff: noqa: E402
from spikecut.plots.accuracy_vs_timestep import plot_accuracy_vs_timestep
from spikecut.plots.dose_response import plot_dose_response
from spikecut.plots.exit_histograms import plot_exit_histograms
from spikecut.plots.model import plot_model, plot_models
from spikecut.plots.pareto import plot_pareto
from spikecut.plots.policy_comparison import plot_policy_comparison

__all__ = [
    "plot_accuracy_vs_timestep",
    "plot_dose_response",
    "plot_exit_histograms",
    "plot_model",
    "plot_models",
    "plot_pareto",
    "plot_policy_comparison",
]
