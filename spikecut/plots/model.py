"""One figure per model for the report: its curves and where its samples stop."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from spikecut.cutoff.policies import BASELINE, ORACLE, PAPER, POLICIES
from spikecut.plots.common import (
    accuracy_limits,
    alpha_label,
    draw_curve,
    draw_policy_point,
    exit_shares,
    labelled,
    legend_below,
    operating_points,
    policy_colours,
    policy_label,
    save,
    seeds_note,
    shown_protocol,
    test_split,
)
from spikecut.regularisers import RCS
from spikecut.report import MODEL_FIGURE


def plot_model(
    curves: pd.DataFrame,
    fixed: pd.DataFrame,
    points: pd.DataFrame,
    exits: pd.DataFrame,
    path: str,
    *,
    dataset: str,
    method: str,
    alpha: str,
    epsilon: float,
    regulariser: str = RCS.label,
) -> None:
    """One model, the runs of one data set, method and α: on the left its accuracy
    against mean timesteps for a fixed T (with its 95 % band), for every calibrated
    policy swept over ε (mean over seeds) with its operating point (held-out, or the
    paper's without a validation split) and 95 % intervals, and for the OCT oracle;
    on the right where its test samples stop under Top-K at ``epsilon`` and under the
    oracle. The axes are shared by every α of the
    data set and method, so that the report's α toggle flips between comparable
    figures."""

    def of_group(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["dataset"] == dataset) & (frame["method"] == method)]

    group = labelled(test_split(of_group(curves)), regulariser)
    if alpha not in set(group["alpha"]):
        raise ValueError(f"the curves hold no runs of {dataset} {method} at alpha {alpha}")
    model, panel = alpha_label(alpha, regulariser), f"{dataset} · {method}"
    mean = group.groupby(["model", "policy", "value"], dropna=False, sort=True)[
        ["accuracy (%)", "mean_timesteps"]
    ].mean()
    mean = mean.reset_index()
    mean = mean[mean["policy"].isin(list(POLICIES))]  # the raw sweeps are per run
    band = labelled(of_group(fixed), regulariser).sort_values("T")
    every_point = operating_points(of_group(points), "mean_timesteps", regulariser)
    chosen = every_point[every_point["model"] == model]
    _, share = exit_shares(of_group(exits), epsilon, regulariser)
    policies = [p for p in POLICIES if p in set(mean["policy"])]
    colours = policy_colours(policies)
    n_steps = int(band["T"].max())

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), squeeze=False)
    curve_ax, hist_ax = axes[0]
    mine = band[band["model"] == model]
    # the fixed T's curve is drawn from its own table, with its band
    baseline = mine.assign(**{"accuracy (%)": 100 * mine["estimate"]})
    draw_curve(curve_ax, baseline, "T", BASELINE, "black", policy_label(BASELINE))
    curve_ax.fill_between(
        mine["T"], 100 * mine["low"], 100 * mine["high"], color="black", alpha=0.12, lw=0
    )
    for policy in policies:
        pts = mean[(mean["model"] == model) & (mean["policy"] == policy)]
        if policy != BASELINE:
            curve = pts.sort_values("mean_timesteps")
            draw_curve(
                curve_ax, curve, "mean_timesteps", policy, colours[policy], policy_label(policy)
            )
        draw_policy_point(curve_ax, chosen, policy, "mean_timesteps", colours[policy])
    # every alpha's curves and intervals set the limits, so that the toggle keeps the
    # axes still
    accuracy_limits(
        curve_ax,
        pd.concat(
            [mean["accuracy (%)"], 100 * band["estimate"]]
            + [100 * every_point[f"accuracy_{end}"] for end in ("low", "high")]
        ),
    )
    curve_ax.set_xlim(0.5, n_steps + 0.5)
    curve_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    curve_ax.set_xlabel("mean timesteps per sample")
    curve_ax.set_ylabel("test accuracy (%)")
    curve_ax.set_title("accuracy versus latency")
    curve_ax.grid(alpha=0.3)

    width = 0.4
    stops = {PAPER: f"{policy_label(PAPER)} at ε = {epsilon}"}
    if ORACLE in policies:
        stops[ORACLE] = policy_label(ORACLE)
    for offset, (policy, label) in zip((-width / 2, width / 2), stops.items()):
        bars = share[(share["model"] == model) & (share["policy"] == policy_label(policy))]
        hist_ax.bar(
            bars["timestep"] + offset,
            bars["share of samples (%)"],
            width=width,
            color=colours[policy],
            edgecolor="black",
            lw=0.5,
            label=label,
        )
    hist_ax.set_xlim(0.5, n_steps + 0.5)
    hist_ax.set_ylim(0, 1.05 * share["share of samples (%)"].max())
    hist_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    hist_ax.set_xlabel("exit timestep t*")
    hist_ax.set_ylabel("share of test samples (%)")
    over = " (all seeds)" if group["seed"].nunique() > 1 else ""
    hist_ax.set_title(f"where the test samples stop{over}")
    hist_ax.legend(frameon=False)
    hist_ax.grid(alpha=0.3, axis="y")
    legend_below(fig, axes, columns=3)
    fig.suptitle(
        f"{panel} · {model} ({seeds_note(group)}; markers with bars: "
        f"{shown_protocol(points)} operating points, 95 % intervals)"
    )
    fig.tight_layout()
    runs = of_group(curves)
    save(fig, path, runs[runs["alpha"] == alpha])


def plot_models(
    curves: pd.DataFrame,
    fixed: pd.DataFrame,
    points: pd.DataFrame,
    exits: pd.DataFrame,
    folder: str,
    epsilon: float,
    regulariser: str = RCS.label,
) -> None:
    """:func:`plot_model` for every data set, method and alpha in ``curves``, into
    ``folder``, each named by ``MODEL_FIGURE``."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    models = test_split(curves)[["dataset", "method", "alpha"]].drop_duplicates()
    for dataset, method, alpha in sorted(models.itertuples(index=False)):
        plot_model(
            curves,
            fixed,
            points,
            exits,
            Path(folder) / MODEL_FIGURE.format(dataset=dataset, method=method, alpha=alpha),
            dataset=dataset,
            method=method,
            alpha=alpha,
            epsilon=epsilon,
            regulariser=regulariser,
        )
