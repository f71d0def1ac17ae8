"""The workflow's figures, drawn from the collected cutoff curves and exit histograms."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from spikecut import __version__  # noqa: E402
from spikecut.io import atomic_path  # noqa: E402

POLICY_LABELS = {"timestep": "fixed T", "topk": "Top-K", "confidence": "confidence (SEENN-I)",
                 "entropy": "entropy (DT-SNN)", "spikecp": "SpikeCP", "oct": "OCT (oracle)"}


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


def plot_accuracy_vs_timestep(curves: pd.DataFrame, path: str) -> None:
    """(a) Accuracy of a fixed T against T, baseline versus RCS, mean ± sd over seeds."""
    frame = _labelled(curves[curves["policy"] == "timestep"])
    frame["timestep"] = frame["value"].astype(int)
    grid = sns.relplot(
        data=frame, x="timestep", y="accuracy (%)", hue="model", col="panel", kind="line",
        hue_order=_model_order(frame),
        marker="o", errorbar="sd", facet_kws={"sharey": False, "sharex": False},
        height=3.4, aspect=1.2,
    )
    grid.set_titles("{col_name}")
    grid.set_axis_labels("timestep t (fixed cutoff)", "test accuracy (%)")
    grid.figure.suptitle("Accuracy at each timestep (mean ± sd over seeds)", y=1.04)
    _save(grid.figure, path, curves)


def plot_pareto(curves: pd.DataFrame, path: str) -> None:
    """(b) Accuracy against mean timesteps per policy, OCT marked."""
    frame = _labelled(curves)
    keys = ["panel", "model", "policy", "parameter", "value"]
    mean = frame.groupby(keys, dropna=False, sort=True)[["accuracy (%)", "mean_timesteps"]].mean()
    mean = mean.reset_index()
    panels = sorted(mean["panel"].unique())
    models = _model_order(frame)
    colours = dict(zip(models, sns.color_palette("colorblind", len(models))))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        sub = mean[mean["panel"] == panel]
        for model in models:
            for policy, style in (("timestep", "--o"), ("topk", "-s")):
                pts = sub[(sub["model"] == model) & (sub["policy"] == policy)]
                pts = pts.sort_values("mean_timesteps")
                if len(pts):
                    ax.plot(pts["mean_timesteps"], pts["accuracy (%)"], style, ms=4,
                            color=colours[model], label=f"{model}: {POLICY_LABELS[policy]}")
            oct_pts = sub[(sub["model"] == model) & (sub["policy"] == "oct")]
            if len(oct_pts):
                ax.plot(oct_pts["mean_timesteps"], oct_pts["accuracy (%)"], "*", ms=14,
                        color=colours[model], markeredgecolor="black",
                        label=f"{model}: {POLICY_LABELS['oct']}")
        # Converted SNNs start near chance; zoom on the useful range rather than on t = 1.
        top = sub["accuracy (%)"].max()
        ax.set_ylim(bottom=max(sub["accuracy (%)"].min(), top - 12) - 0.5, top=top + 0.5)
        ax.set_title(panel)
        ax.set_xlabel("mean timesteps per sample")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=min(3, len(labels)), frameon=False)
    fig.suptitle("Accuracy versus latency per cutoff policy (mean over seeds)")
    fig.tight_layout()
    _save(fig, path, curves)


def plot_exit_histograms(exits: pd.DataFrame, epsilon: float, path: str) -> None:
    """(c) Share of test samples exiting at each timestep: Top-K at ``epsilon``, and OCT."""
    topk = exits[(exits["policy"] == "topk") & np.isclose(exits["value"], epsilon)]
    chosen = pd.concat([topk, exits[exits["policy"] == "oct"]])
    if chosen.empty:
        raise ValueError(f"no Top-K exits recorded at epsilon {epsilon}; add it to "
                         "cutoff.epsilons or change summary.histogram_epsilon")
    frame = _labelled(chosen)
    frame["policy"] = frame["policy"].map(POLICY_LABELS)
    counts = frame.groupby(["panel", "policy", "model", "timestep"], sort=True)["count"].sum()
    share = 100 * counts / counts.groupby(level=["panel", "policy", "model"]).transform("sum")
    share = share.rename("share of samples (%)").reset_index()
    grid = sns.catplot(
        data=share, x="timestep", y="share of samples (%)", hue="model", col="panel",
        hue_order=_model_order(frame),
        row="policy", kind="bar", height=3.0, aspect=1.4, sharex=False,
    )
    grid.set_titles("{col_name} · {row_name}")
    grid.set_axis_labels("exit timestep t*", "share of test samples (%)")
    grid.figure.suptitle(f"Exit timesteps: Top-K at ε = {epsilon} and the oracle (all seeds)",
                         y=1.03)
    _save(grid.figure, path, chosen)


COSTS = {"mean_timesteps": "mean timesteps per sample",
         "mean_sops": "mean synaptic operations per sample",
         "mean_energy_uj": "mean energy per sample (µJ, 45 nm estimate)"}


def plot_policy_comparison(curves: pd.DataFrame, path: str, x: str = "mean_timesteps"
                           ) -> None:
    """Every policy's accuracy against a cost ``x`` (a key of ``COSTS``), one panel per
    data set, track and model: calibrated policies as lines (mean over seeds per ε),
    their raw threshold sweeps as dots, the fixed-T baseline dashed, the OCT oracle as
    the bound."""
    if x not in COSTS:
        raise ValueError(f"unknown cost {x!r}; choose one of {sorted(COSTS)}")
    if x not in curves:
        raise ValueError(f"the curves have no {x!r} column: record them again to count "
                         "compute and energy")
    frame = _labelled(curves)
    keys = ["panel", "model", "policy", "parameter", "value"]
    mean = frame.groupby(keys, dropna=False, sort=True)[["accuracy (%)", x]].mean()
    mean = mean.reset_index()
    panels, models = sorted(mean["panel"].unique()), _model_order(frame)
    policies = [p for p in POLICY_LABELS if p in set(mean["policy"].str.removesuffix("-raw"))]
    learned = [p for p in policies if p not in ("timestep", "oct")]
    colours = dict(zip(learned, sns.color_palette("colorblind", len(learned))))
    fig, axes = plt.subplots(len(models), len(panels), squeeze=False,
                             figsize=(5 * len(panels), 3.6 * len(models)))
    for row, model in enumerate(models):
        for col, panel in enumerate(panels):
            ax = axes[row][col]
            sub = mean[(mean["panel"] == panel) & (mean["model"] == model)]
            for policy in policies:
                for raw in (False, True):
                    name = f"{policy}-raw" if raw else policy
                    pts = sub[sub["policy"] == name].sort_values(x)
                    if not len(pts):
                        continue
                    label = POLICY_LABELS[policy] + (" (raw)" if raw else "")
                    if policy == "oct":
                        ax.plot(pts[x], pts["accuracy (%)"], "*", ms=14,
                                color="gold", markeredgecolor="black", label=label)
                    elif policy == "timestep":
                        ax.plot(pts[x], pts["accuracy (%)"], "--o", ms=3,
                                color="black", label=label)
                    elif raw:  # thresholds are per-run quantiles: one dot per run
                        ax.plot(pts[x], pts["accuracy (%)"], ".", ms=4, alpha=0.6,
                                color=colours[policy], label=label)
                    else:
                        ax.plot(pts[x], pts["accuracy (%)"], "-s", ms=3, lw=1.5,
                                color=colours[policy], label=label)
            if len(sub):
                top = sub["accuracy (%)"].max()
                ax.set_ylim(bottom=max(sub["accuracy (%)"].min(), top - 12) - 0.5,
                            top=top + 0.5)
            ax.set_title(f"{panel}\n{model}", fontsize=10)
            ax.set_xlabel(COSTS[x])
            ax.set_ylabel("test accuracy (%)")
            ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=min(4, len(labels)), frameon=False)
    fig.suptitle(f"Early-exit policies: accuracy versus {COSTS[x].split(' per ')[0]} "
                 "(mean over seeds; OCT is the oracle bound)")
    fig.tight_layout()
    _save(fig, path, curves)
