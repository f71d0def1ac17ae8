"""(b) Accuracy against mean timesteps: fixed T, Top-K and the oracle, with the
operating points."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from spikecut.cutoff.policies import BASELINE, ORACLE, PAPER, POLICIES
from spikecut.plots.common import (
    accuracy_limits,
    draw_policy_point,
    labelled,
    legend_below,
    model_order,
    operating_points,
    policy_label,
    save,
    seeds_note,
    shown_protocol,
    test_split,
)
from spikecut.regularisers import RCS


def plot_pareto(
    curves: pd.DataFrame, points: pd.DataFrame, path: str, regulariser: str = RCS.label
) -> None:
    """(b) Accuracy against mean timesteps: fixed T and Top-K over ε (mean over seeds),
    OCT marked, and each model's held-out operating points of both with their 95 %
    intervals."""
    frame = labelled(test_split(curves), regulariser)
    keys = ["panel", "model", "policy", "parameter", "value"]
    mean = frame.groupby(keys, dropna=False, sort=True)[["accuracy (%)", "mean_timesteps"]].mean()
    mean = mean.reset_index()
    chosen = operating_points(points, "mean_timesteps", regulariser)
    panels = sorted(mean["panel"].unique())
    models = model_order(frame, regulariser)
    colours = dict(zip(models, sns.color_palette("colorblind", len(models))))
    width = max(5 * len(panels), 7)  # room for the title over a single panel
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        sub = mean[mean["panel"] == panel]
        drawn = []
        for model in models:
            for policy in (BASELINE, PAPER, ORACLE):
                pts = sub[(sub["model"] == model) & (sub["policy"] == policy)]
                pts = pts.sort_values("mean_timesteps")
                if len(pts):
                    # here the colour tells the models apart, the line the policy
                    style = dict(POLICIES[policy].style) | {"color": colours[model]}
                    label = f"{model}: {policy_label(policy)}"
                    ax.plot(pts["mean_timesteps"], pts["accuracy (%)"], label=label, **style)
                    drawn.append(pts["accuracy (%)"])
                point = draw_policy_point(
                    ax, chosen, policy, "mean_timesteps", colours[model], panel=panel, model=model
                )
                if point is not None:
                    drawn.append(point)
        accuracy_limits(ax, pd.concat(drawn) if drawn else pd.Series(dtype=float))
        ax.set_title(panel)
        ax.set_xlabel("mean timesteps per sample")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    protocol = shown_protocol(points)
    for policy in (BASELINE, PAPER):  # the markers' legend entries
        label = f"{policy_label(policy)}: {protocol} operating point"
        axes[0][0].errorbar(
            [], [], xerr=[], yerr=[], fmt=POLICIES[policy].point_marker, ms=6, color="grey",
            markeredgecolor="black", capsize=3, label=label,
        )  # fmt: skip
    legend_below(fig, axes, columns=3)
    fig.suptitle(
        "Accuracy versus latency\n"
        f"(curves: {seeds_note(frame)}; circles and diamonds with bars: the "
        f"{shown_protocol(points)} operating points of fixed T and Top-K, 95 % intervals)",
        fontsize=10,
    )
    fig.tight_layout()
    save(fig, path, curves)
