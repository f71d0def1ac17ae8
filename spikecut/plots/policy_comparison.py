"""Every policy's accuracy against a cost: timesteps, synaptic operations or energy."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from spikecut.cutoff.policies import ORACLE, POLICIES
from spikecut.plots.common import (
    accuracy_limits,
    draw_curve,
    draw_policy_point,
    labelled,
    legend_below,
    model_order,
    operating_points,
    policy_colours,
    policy_label,
    save,
    seeds_note,
    shown_protocol,
    test_split,
)
from spikecut.regularisers import RCS

COSTS = {
    "mean_timesteps": "mean timesteps per sample",
    "mean_sops": "mean synaptic operations per sample",
    "mean_energy_uj": "mean energy per sample (µJ, 45 nm estimate)",
}


def plot_policy_comparison(
    curves: pd.DataFrame,
    points: pd.DataFrame,
    path: str,
    x: str = "mean_timesteps",
    regulariser: str = RCS.label,
) -> None:
    """Every policy's accuracy against a cost ``x`` (a key of ``COSTS``), one panel per
    data set, track and model: calibrated policies as lines (mean over seeds per ε),
    their raw threshold sweeps as dots, the fixed-T baseline dashed, the OCT oracle as
    the bound, and each calibrated policy's held-out operating point with its 95 %
    intervals."""
    if x not in COSTS:
        raise ValueError(f"unknown cost {x!r}; choose one of {sorted(COSTS)}")
    if x not in curves:
        raise ValueError(
            f"the curves have no {x!r} column: record them again to count compute and energy"
        )
    frame = labelled(test_split(curves), regulariser)
    keys = ["panel", "model", "policy", "parameter", "value"]
    mean = frame.groupby(keys, dropna=False, sort=True)[["accuracy (%)", x]].mean()
    mean = mean.reset_index()
    chosen = operating_points(points, x, regulariser) if x in set(points["quantity"]) else None
    panels, models = sorted(mean["panel"].unique()), model_order(frame, regulariser)
    policies = [p for p in POLICIES if p in set(mean["policy"].str.removesuffix("-raw"))]
    colours = policy_colours(policies)
    fig, axes = plt.subplots(
        len(models),
        len(panels),
        squeeze=False,
        figsize=(max(5 * len(panels), 7), 3.6 * len(models)),
    )
    for row, model in enumerate(models):
        for col, panel in enumerate(panels):
            ax = axes[row][col]
            sub = mean[(mean["panel"] == panel) & (mean["model"] == model)]
            drawn = []
            for policy in policies:
                for raw in (False, True):
                    name = f"{policy}-raw" if raw else policy
                    pts = sub[sub["policy"] == name].sort_values(x)
                    if not len(pts):
                        continue
                    drawn.append(pts["accuracy (%)"])
                    if raw:  # thresholds are per-run quantiles: one dot per run
                        ax.plot(
                            pts[x],
                            pts["accuracy (%)"],
                            ".",
                            ms=4,
                            alpha=0.6,
                            color=colours[policy],
                            label=f"{policy_label(policy)} (raw)",
                        )
                        continue
                    draw_curve(ax, pts, x, policy, colours[policy], policy_label(policy))
                    point = draw_policy_point(
                        ax, chosen, policy, x, colours[policy], panel=panel, model=model
                    )
                    if point is not None:
                        drawn.append(point)
            accuracy_limits(ax, pd.concat(drawn) if drawn else pd.Series(dtype=float))
            ax.set_title(f"{panel}\n{model}", fontsize=10)
            ax.set_xlabel(COSTS[x])
            ax.set_ylabel("test accuracy (%)")
            ax.grid(alpha=0.3)
    legend_below(fig, axes, columns=4)
    oracle = f"; {policy_label(ORACLE)} is the bound" if ORACLE in policies else ""
    marks = (
        f"; markers with bars: {shown_protocol(points)} operating points, 95 % intervals"
        if chosen is not None
        else ""
    )
    raw = (
        "; dots: each run's uncalibrated thresholds (raw)"
        if mean["policy"].str.endswith("-raw").any()
        else ""
    )
    fig.suptitle(
        f"Early-exit policies: accuracy versus {COSTS[x].split(' per ')[0]}\n"
        f"(lines: {seeds_note(frame)}{marks}{oracle}{raw})",
        fontsize=10,
    )
    fig.tight_layout()
    save(fig, path, curves)
