"""(a) Accuracy of a fixed T against T, per model, with its interval."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from spikecut.plots.common import (
    labelled,
    legend_below,
    model_order,
    save,
)
from spikecut.regularisers import RCS


def plot_accuracy_vs_timestep(fixed: pd.DataFrame, path: str, regulariser: str = RCS.label) -> None:
    """(a) Accuracy of a fixed T against T, baseline versus RCS: the mean over seeds
    with its 95 % bootstrap interval (over test samples and seeds) as a band."""
    frame = labelled(fixed, regulariser)
    panels, models = sorted(frame["panel"].unique()), model_order(frame, regulariser)
    colours = dict(zip(models, sns.color_palette("colorblind", len(models))))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.6), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for model in models:
            pts = frame[(frame["panel"] == panel) & (frame["model"] == model)]
            pts = pts.sort_values("T")
            if not len(pts):
                continue
            ax.plot(pts["T"], 100 * pts["estimate"], "-o", ms=3, color=colours[model], label=model)
            ax.fill_between(
                pts["T"],
                100 * pts["low"],
                100 * pts["high"],
                color=colours[model],
                alpha=0.25,
                lw=0,
            )
        ax.set_title(panel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("timestep t (fixed cutoff)")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    legend_below(fig, axes, columns=4)
    fig.suptitle("Accuracy at each timestep (mean over seeds, 95 % bootstrap interval)")
    fig.tight_layout()
    save(fig, path, fixed)
