"""The workflow's figures, drawn from the collected cutoff curves and exit histograms."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from spikecut import __version__  # noqa: E402
from spikecut.io import atomic_path  # noqa: E402

POLICY_LABELS = {
    "timestep": "fixed T",
    "topk": "Top-K",
    "confidence": "confidence (SEENN-I)",
    "entropy": "entropy (DT-SNN)",
    "spikecp": "SpikeCP",
    "oct": "OCT (oracle)",
}


def _alpha_label(alpha: str) -> str:
    return "baseline (α = 0)" if float(alpha) == 0 else f"RCS (α = {alpha})"


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["model"] = frame["alpha"].map(_alpha_label)
    frame["panel"] = frame["dataset"] + " · " + frame["method"]
    if "accuracy" in frame:
        frame["accuracy (%)"] = 100 * frame["accuracy"]
    return frame


def _model_order(frame: pd.DataFrame) -> list[str]:
    """Model labels, baseline first, then by increasing alpha."""
    alphas = sorted(frame["alpha"].unique(), key=float)
    return [_alpha_label(a) for a in alphas]


def _save(fig: plt.Figure, path: str, source: pd.DataFrame) -> None:
    """Write the PNG with the config ids of the runs it shows in its metadata."""
    ids = sorted(source["config_id"].astype(str).unique()) if "config_id" in source else []
    meta = {"Software": f"spikecut {__version__}", "Description": f"config_id: {' '.join(ids)}"}
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=130, bbox_inches="tight", metadata=meta)
    plt.close(fig)


def _legend_below(fig: plt.Figure, axes, columns: int) -> None:
    """One legend for every panel (they share their entries), under the figure."""
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(columns, len(labels)),
        frameon=False,
    )


def _test_split(curves: pd.DataFrame) -> pd.DataFrame:
    """The test split's curve rows (the sweep also keeps the validation split's)."""
    return curves[curves["split"] == "test"] if "split" in curves else curves


def plot_accuracy_vs_timestep(fixed: pd.DataFrame, path: str) -> None:
    """(a) Accuracy of a fixed T against T, baseline versus RCS: the mean over seeds
    with its 95 % bootstrap interval (over test samples and seeds) as a band."""
    frame = _labelled(fixed)
    panels, models = sorted(frame["panel"].unique()), _model_order(frame)
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
    _legend_below(fig, axes, columns=4)
    fig.suptitle("Accuracy at each timestep (mean over seeds, 95 % bootstrap interval)")
    fig.tight_layout()
    _save(fig, path, fixed)


def _operating_points(points: pd.DataFrame, x: str, protocol: str = "held-out") -> pd.DataFrame:
    """Per panel, model and policy, the estimate and interval of ``x`` and of the
    accuracy (%) at the operating point chosen by ``protocol``."""
    chosen = _labelled(
        points[(points["protocol"] == protocol) & points["quantity"].isin([x, "accuracy"])]
    )
    wide = chosen.pivot_table(
        index=["panel", "model", "policy"],
        columns="quantity",
        values=["estimate", "low", "high"],
        aggfunc="first",
    )
    wide.columns = [f"{q}_{stat}" for stat, q in wide.columns]
    return wide.reset_index()


def _draw_operating_point(ax, op: pd.Series, x: str, colour, marker: str = "D") -> None:
    def bars(name, scale=1.0):
        # a percentile interval need not hold the estimate to the last bit
        below = max(0.0, op[f"{name}_estimate"] - op[f"{name}_low"])
        above = max(0.0, op[f"{name}_high"] - op[f"{name}_estimate"])
        return [[scale * below], [scale * above]]

    ax.errorbar(
        op[f"{x}_estimate"],
        100 * op["accuracy_estimate"],
        xerr=bars(x),
        yerr=bars("accuracy", 100),
        fmt=marker,
        ms=6,
        color=colour,
        markeredgecolor="black",
        capsize=3,
        elinewidth=1,
        zorder=5,
    )


def _accuracy_limits(ax, values: pd.Series) -> None:
    """Converted SNNs start near chance; zoom on the useful range rather than on t = 1,
    and only on what is drawn."""
    values = values.dropna()
    if not len(values):
        return
    top = values.max()
    ax.set_ylim(bottom=max(values.min(), top - 12) - 0.5, top=top + 0.5)


def plot_pareto(curves: pd.DataFrame, points: pd.DataFrame, path: str) -> None:
    """(b) Accuracy against mean timesteps: fixed T and Top-K over ε (mean over seeds),
    OCT marked, and each model's held-out operating points of both with their 95 %
    intervals."""
    frame = _labelled(_test_split(curves))
    keys = ["panel", "model", "policy", "parameter", "value"]
    mean = frame.groupby(keys, dropna=False, sort=True)[["accuracy (%)", "mean_timesteps"]].mean()
    mean = mean.reset_index()
    chosen = _operating_points(points, "mean_timesteps")
    panels = sorted(mean["panel"].unique())
    models = _model_order(frame)
    colours = dict(zip(models, sns.color_palette("colorblind", len(models))))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        sub = mean[mean["panel"] == panel]
        drawn = []
        for model in models:
            for policy, style in (("timestep", "--o"), ("topk", "-s")):
                pts = sub[(sub["model"] == model) & (sub["policy"] == policy)]
                pts = pts.sort_values("mean_timesteps")
                if len(pts):
                    ax.plot(
                        pts["mean_timesteps"],
                        pts["accuracy (%)"],
                        style,
                        ms=4,
                        color=colours[model],
                        label=f"{model}: {POLICY_LABELS[policy]}",
                    )
                    drawn.append(pts["accuracy (%)"])
                op = chosen[
                    (chosen["panel"] == panel)
                    & (chosen["model"] == model)
                    & (chosen["policy"] == policy)
                ]
                if len(op):
                    _draw_operating_point(
                        ax,
                        op.iloc[0],
                        "mean_timesteps",
                        colours[model],
                        "D" if policy == "topk" else "o",
                    )
            oct_pts = sub[(sub["model"] == model) & (sub["policy"] == "oct")]
            if len(oct_pts):
                ax.plot(
                    oct_pts["mean_timesteps"],
                    oct_pts["accuracy (%)"],
                    "*",
                    ms=14,
                    color=colours[model],
                    markeredgecolor="black",
                    label=f"{model}: {POLICY_LABELS['oct']}",
                )
                drawn.append(oct_pts["accuracy (%)"])
        _accuracy_limits(ax, pd.concat(drawn) if drawn else pd.Series(dtype=float))
        ax.set_title(panel)
        ax.set_xlabel("mean timesteps per sample")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    _legend_below(fig, axes, columns=3)
    fig.suptitle(
        "Accuracy versus latency (curves: mean over seeds; markers with bars: "
        "held-out operating points, 95 % intervals)"
    )
    fig.tight_layout()
    _save(fig, path, curves)


def plot_exit_histograms(exits: pd.DataFrame, epsilon: float, path: str) -> None:
    """(c) Share of test samples exiting at each timestep: Top-K at ``epsilon``, and OCT."""
    topk = exits[(exits["policy"] == "topk") & np.isclose(exits["value"], epsilon)]
    chosen = pd.concat([topk, exits[exits["policy"] == "oct"]])
    if chosen.empty:
        raise ValueError(
            f"no Top-K exits recorded at epsilon {epsilon}; add it to "
            "cutoff.epsilons or change summary.histogram_epsilon"
        )
    frame = _labelled(chosen)
    frame["policy"] = frame["policy"].map(POLICY_LABELS)
    counts = frame.groupby(["panel", "policy", "model", "timestep"], sort=True)["count"].sum()
    share = 100 * counts / counts.groupby(level=["panel", "policy", "model"]).transform("sum")
    share = share.rename("share of samples (%)").reset_index()
    grid = sns.catplot(
        data=share,
        x="timestep",
        y="share of samples (%)",
        hue="model",
        col="panel",
        hue_order=_model_order(frame),
        row="policy",
        kind="bar",
        height=3.0,
        aspect=1.4,
        sharex=False,
    )
    grid.set_titles("{col_name} · {row_name}")
    grid.set_axis_labels("exit timestep t*", "share of test samples (%)")
    grid.figure.suptitle(
        f"Exit timesteps: Top-K at ε = {epsilon} and the oracle (all seeds)", y=1.03
    )
    _save(grid.figure, path, chosen)


COSTS = {
    "mean_timesteps": "mean timesteps per sample",
    "mean_sops": "mean synaptic operations per sample",
    "mean_energy_uj": "mean energy per sample (µJ, 45 nm estimate)",
}


def plot_policy_comparison(
    curves: pd.DataFrame, points: pd.DataFrame, path: str, x: str = "mean_timesteps"
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
    frame = _labelled(_test_split(curves))
    keys = ["panel", "model", "policy", "parameter", "value"]
    mean = frame.groupby(keys, dropna=False, sort=True)[["accuracy (%)", x]].mean()
    mean = mean.reset_index()
    chosen = _operating_points(points, x) if x in set(points["quantity"]) else None
    panels, models = sorted(mean["panel"].unique()), _model_order(frame)
    policies = [p for p in POLICY_LABELS if p in set(mean["policy"].str.removesuffix("-raw"))]
    learned = [p for p in policies if p not in ("timestep", "oct")]
    colours = dict(zip(learned, sns.color_palette("colorblind", len(learned))))
    fig, axes = plt.subplots(
        len(models), len(panels), squeeze=False, figsize=(5 * len(panels), 3.6 * len(models))
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
                    label = POLICY_LABELS[policy] + (" (raw)" if raw else "")
                    if policy == "oct":
                        ax.plot(
                            pts[x],
                            pts["accuracy (%)"],
                            "*",
                            ms=14,
                            color="gold",
                            markeredgecolor="black",
                            label=label,
                        )
                    elif policy == "timestep":
                        ax.plot(
                            pts[x], pts["accuracy (%)"], "--o", ms=3, color="black", label=label
                        )
                    elif raw:  # thresholds are per-run quantiles: one dot per run
                        ax.plot(
                            pts[x],
                            pts["accuracy (%)"],
                            ".",
                            ms=4,
                            alpha=0.6,
                            color=colours[policy],
                            label=label,
                        )
                    else:
                        ax.plot(
                            pts[x],
                            pts["accuracy (%)"],
                            "-s",
                            ms=3,
                            lw=1.5,
                            color=colours[policy],
                            label=label,
                        )
                        op = (
                            None
                            if chosen is None
                            else chosen[
                                (chosen["panel"] == panel)
                                & (chosen["model"] == model)
                                & (chosen["policy"] == policy)
                            ]
                        )
                        if op is not None and len(op):
                            _draw_operating_point(ax, op.iloc[0], x, colours[policy])
            _accuracy_limits(ax, pd.concat(drawn) if drawn else pd.Series(dtype=float))
            ax.set_title(f"{panel}\n{model}", fontsize=10)
            ax.set_xlabel(COSTS[x])
            ax.set_ylabel("test accuracy (%)")
            ax.grid(alpha=0.3)
    _legend_below(fig, axes, columns=4)
    fig.suptitle(
        f"Early-exit policies: accuracy versus {COSTS[x].split(' per ')[0]} "
        "(lines: mean over seeds; diamonds with bars: held-out operating points, "
        "95 % intervals; OCT is the oracle bound)"
    )
    fig.tight_layout()
    _save(fig, path, curves)
