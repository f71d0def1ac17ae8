"""Figures of the workflow: seaborn and matplotlib, PNG, written atomically."""

from spikecut.plots.figures import (
    plot_accuracy_vs_timestep,
    plot_exit_histograms,
    plot_model,
    plot_models,
    plot_pareto,
    plot_policy_comparison,
)

__all__ = [
    "plot_accuracy_vs_timestep",
    "plot_exit_histograms",
    "plot_model",
    "plot_models",
    "plot_pareto",
    "plot_policy_comparison",
]
