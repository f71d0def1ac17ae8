"""The regulariser's dose response: its paired effect on a policy's timesteps and
accuracy at each weight alpha, under both protocols."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from spikecut.analysis.protocols import PROTOCOLS
from spikecut.cutoff.policies import PAPER
from spikecut.plots.common import error_bars, legend_below, policy_label, save
from spikecut.regularisers import RCS

ROWS = (("mean_timesteps", 1.0, "Δ mean timesteps"), ("accuracy", 100.0, "Δ test accuracy (pp)"))
PROTOCOL_STYLE = {
    "held-out": {"fmt": "-o", "color": "#0072B2"},
    "paper": {"fmt": "--s", "color": "#D55E00"},
}


def plot_dose_response(
    effects: pd.DataFrame, path: str, regulariser: str = RCS.label, policy: str = PAPER
) -> None:
    """Per data set and method (columns), the effect of each alpha > 0 against alpha = 0
    (same seeds and samples) on ``policy``'s mean timesteps (top) and accuracy (bottom)
    at its operating point, with 95 % intervals, both protocols side by side. The alphas
    sit evenly spaced on the axis, labelled with their values."""
    frame = effects[effects["policy"] == policy].copy()
    if frame.empty:
        raise ValueError(
            f"no effects of {policy!r} to draw: the config needs an α = 0 run and at least "
            "one α > 0"
        )
    frame["panel"] = frame["dataset"] + " · " + frame["method"]
    panels = sorted(frame["panel"].unique())
    alphas = sorted(frame["alpha"].unique(), key=float)
    where = {a: i for i, a in enumerate(alphas)}
    protocols = [p for p in PROTOCOLS if p in set(frame["protocol"])]
    fig, axes = plt.subplots(
        len(ROWS), len(panels), figsize=(4.4 * len(panels) + 0.6, 6.2), squeeze=False
    )
    for col, panel in enumerate(panels):
        for row, (quantity, scale, ylabel) in enumerate(ROWS):
            ax = axes[row][col]
            for k, protocol in enumerate(protocols):
                pts = frame[
                    (frame["panel"] == panel)
                    & (frame["quantity"] == quantity)
                    & (frame["protocol"] == protocol)
                ]
                pts = pts.sort_values("alpha", key=lambda a: a.astype(float))
                # the protocols side by side at each alpha, so that their bars stay apart
                x = pts["alpha"].map(where) + (k - (len(protocols) - 1) / 2) * 0.12
                ax.errorbar(
                    x,
                    scale * pts["estimate"],
                    yerr=error_bars(pts["estimate"], pts["low"], pts["high"], scale),
                    capsize=3,
                    ms=5,
                    label=f"{protocol} protocol",
                    **PROTOCOL_STYLE[protocol],
                )
            ax.axhline(0.0, color="black", lw=0.8)
            ax.set_xticks(range(len(alphas)), alphas)
            ax.set_xlim(-0.5, len(alphas) - 0.5)
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(panel)
            else:
                ax.set_xlabel(f"{regulariser} weight α")
    legend_below(fig, axes, columns=len(protocols))
    fig.suptitle(
        f"{regulariser} dose response: the effect on {policy_label(policy)} at its operating "
        f"point\n(α minus α = 0, same seeds and test samples; 95 % intervals; below 0 on "
        "top: fewer timesteps)",
        fontsize=10,
    )
    fig.tight_layout()
    save(fig, path, frame)
