"""The workflow's figures, drawn from the collected cutoff curves and exit histograms."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from spikecut import __version__  # noqa: E402
from spikecut.cutoff.policies import BASELINE, ORACLE, PAPER, POLICIES  # noqa: E402
from spikecut.io import atomic_path  # noqa: E402
from spikecut.regularisers import RCS, is_baseline  # noqa: E402
from spikecut.report import MODEL_FIGURE  # noqa: E402


def _label(policy: str) -> str:
    return POLICIES[policy].label


def _alpha_label(alpha: str, regulariser: str) -> str:
    """A model's name on the figures: the baseline, or the regulariser at its weight."""
    return "baseline (α = 0)" if is_baseline(alpha) else f"{regulariser} (α = {alpha})"


def _labelled(frame: pd.DataFrame, regulariser: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["model"] = frame["alpha"].map(lambda alpha: _alpha_label(alpha, regulariser))
    frame["panel"] = frame["dataset"] + " · " + frame["method"]
    if "accuracy" in frame:
        frame["accuracy (%)"] = 100 * frame["accuracy"]
    return frame


def _model_order(frame: pd.DataFrame, regulariser: str) -> list[str]:
    """Model labels, baseline first, then by increasing alpha."""
    alphas = sorted(frame["alpha"].unique(), key=float)
    return [_alpha_label(a, regulariser) for a in alphas]


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


def plot_accuracy_vs_timestep(fixed: pd.DataFrame, path: str, regulariser: str = RCS.label) -> None:
    """(a) Accuracy of a fixed T against T, baseline versus RCS: the mean over seeds
    with its 95 % bootstrap interval (over test samples and seeds) as a band."""
    frame = _labelled(fixed, regulariser)
    panels, models = sorted(frame["panel"].unique()), _model_order(frame, regulariser)
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


def _shown_protocol(points: pd.DataFrame) -> str:
    """The protocol whose operating points the figures mark: held-out where the runs
    had a validation split, else the paper's."""
    return "held-out" if "held-out" in set(points["protocol"]) else "paper"


def _seeds_note(curves: pd.DataFrame) -> str:
    n = curves["seed"].nunique() if "seed" in curves else 1
    return f"mean over {n} seeds" if n > 1 else "one seed"


def _operating_points(points: pd.DataFrame, x: str, regulariser: str) -> pd.DataFrame:
    """Per panel, model and policy, the estimate and interval of ``x`` and of the
    accuracy (%) at the operating point chosen by :func:`_shown_protocol`."""
    protocol = _shown_protocol(points)
    chosen = _labelled(
        points[(points["protocol"] == protocol) & points["quantity"].isin([x, "accuracy"])],
        regulariser,
    )
    wide = chosen.pivot_table(
        index=["panel", "model", "policy"],
        columns="quantity",
        values=["estimate", "low", "high"],
        aggfunc="first",
    )
    wide.columns = [f"{q}_{stat}" for stat, q in wide.columns]
    return wide.reset_index()


def _draw_operating_point(ax, op: pd.Series, x: str, colour, marker: str = "D") -> pd.Series:
    """Draw the point with its intervals; returns the accuracy (%) range drawn, for the
    axis limits."""

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
    return 100 * pd.Series([op["accuracy_low"], op["accuracy_estimate"], op["accuracy_high"]])


def _draw_curve(ax, pts: pd.DataFrame, x: str, policy: str, colour, label: str) -> None:
    """A policy's curve in the style of its record; ``colour`` where the record sets
    none."""
    style = {"color": colour} | dict(POLICIES[policy].style)
    ax.plot(pts[x], pts["accuracy (%)"], label=label, **style)


def _accuracy_limits(ax, values: pd.Series) -> None:
    """Converted SNNs start near chance; zoom on the useful range rather than on t = 1,
    and only on what is drawn."""
    values = values.dropna()
    if not len(values):
        return
    top = values.max()
    ax.set_ylim(bottom=max(values.min(), top - 12) - 0.5, top=top + 0.5)


def plot_pareto(
    curves: pd.DataFrame, points: pd.DataFrame, path: str, regulariser: str = RCS.label
) -> None:
    """(b) Accuracy against mean timesteps: fixed T and Top-K over ε (mean over seeds),
    OCT marked, and each model's held-out operating points of both with their 95 %
    intervals."""
    frame = _labelled(_test_split(curves), regulariser)
    keys = ["panel", "model", "policy", "parameter", "value"]
    mean = frame.groupby(keys, dropna=False, sort=True)[["accuracy (%)", "mean_timesteps"]].mean()
    mean = mean.reset_index()
    chosen = _operating_points(points, "mean_timesteps", regulariser)
    panels = sorted(mean["panel"].unique())
    models = _model_order(frame, regulariser)
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
                    label = f"{model}: {_label(policy)}"
                    ax.plot(pts["mean_timesteps"], pts["accuracy (%)"], label=label, **style)
                    drawn.append(pts["accuracy (%)"])
                marker = POLICIES[policy].point_marker
                op = chosen[
                    (chosen["panel"] == panel)
                    & (chosen["model"] == model)
                    & (chosen["policy"] == policy)
                ]
                if marker and len(op):
                    drawn.append(
                        _draw_operating_point(
                            ax, op.iloc[0], "mean_timesteps", colours[model], marker
                        )
                    )
        _accuracy_limits(ax, pd.concat(drawn) if drawn else pd.Series(dtype=float))
        ax.set_title(panel)
        ax.set_xlabel("mean timesteps per sample")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    protocol = _shown_protocol(points)
    for policy in (BASELINE, PAPER):  # the markers' legend entries
        label = f"{_label(policy)}: {protocol} operating point"
        axes[0][0].errorbar(
            [], [], xerr=[], yerr=[], fmt=POLICIES[policy].point_marker, ms=6, color="grey",
            markeredgecolor="black", capsize=3, label=label,
        )  # fmt: skip
    _legend_below(fig, axes, columns=3)
    fig.suptitle(
        "Accuracy versus latency\n"
        f"(curves: {_seeds_note(frame)}; circles and diamonds with bars: the "
        f"{_shown_protocol(points)} operating points of fixed T and Top-K, 95 % intervals)",
        fontsize=10,
    )
    fig.tight_layout()
    _save(fig, path, curves)


def _exit_shares(
    exits: pd.DataFrame, epsilon: float, regulariser: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The exits of Top-K at ``epsilon`` and of OCT, and per panel, policy label, model
    and timestep the share of test samples (%) stopping there, summed over seeds."""
    topk = exits[(exits["policy"] == PAPER) & np.isclose(exits["value"], epsilon)]
    if topk.empty:  # the oracle's exits alone would make a figure of the wrong thing
        raise ValueError(
            f"no Top-K exits recorded at epsilon {epsilon}; add it to "
            "cutoff.epsilons or change summary.histogram_epsilon"
        )
    chosen = pd.concat([topk, exits[exits["policy"] == ORACLE]])
    frame = _labelled(chosen, regulariser)
    frame["policy"] = frame["policy"].map(_label)
    counts = frame.groupby(["panel", "policy", "model", "timestep"], sort=True)["count"].sum()
    share = 100 * counts / counts.groupby(level=["panel", "policy", "model"]).transform("sum")
    return chosen, share.rename("share of samples (%)").reset_index()


def plot_exit_histograms(
    exits: pd.DataFrame, epsilon: float, path: str, regulariser: str = RCS.label
) -> None:
    """(c) Share of test samples exiting at each timestep: Top-K at ``epsilon``, and OCT."""
    chosen, share = _exit_shares(exits, epsilon, regulariser)
    models = _model_order(chosen, regulariser)
    rows = [_label(p) for p in (PAPER, ORACLE) if _label(p) in set(share["policy"])]
    grid = sns.catplot(
        data=share,
        x="timestep",
        y="share of samples (%)",
        hue="model",
        col="panel",
        hue_order=models,
        row="policy",
        row_order=rows,
        kind="bar",
        height=3.0,
        aspect=1.4,
        sharex=False,
        legend=len(models) > 1,  # one model needs no key
    )
    grid.set_titles("{col_name} · {row_name}")
    grid.set_axis_labels("exit timestep t*", "share of test samples (%)")
    oracle = " and the oracle" if len(rows) > 1 else ""
    grid.figure.suptitle(f"Exit timesteps: Top-K at ε = {epsilon}{oracle} (all seeds)", y=1.03)
    _save(grid.figure, path, chosen)


def _policy_colours(policies: list[str]) -> dict:
    """A colour per policy: its record's, or the next of the palette."""
    free = [p for p in policies if "color" not in POLICIES[p].style]
    palette = dict(zip(free, sns.color_palette("colorblind", len(free))))
    return {p: palette.get(p) or POLICIES[p].style["color"] for p in policies}


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
    frame = _labelled(_test_split(curves), regulariser)
    keys = ["panel", "model", "policy", "parameter", "value"]
    mean = frame.groupby(keys, dropna=False, sort=True)[["accuracy (%)", x]].mean()
    mean = mean.reset_index()
    chosen = _operating_points(points, x, regulariser) if x in set(points["quantity"]) else None
    panels, models = sorted(mean["panel"].unique()), _model_order(frame, regulariser)
    policies = [p for p in POLICIES if p in set(mean["policy"].str.removesuffix("-raw"))]
    colours = _policy_colours(policies)
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
                            label=f"{_label(policy)} (raw)",
                        )
                        continue
                    _draw_curve(ax, pts, x, policy, colours[policy], _label(policy))
                    marker = POLICIES[policy].point_marker
                    op = (
                        None
                        if chosen is None or marker is None
                        else chosen[
                            (chosen["panel"] == panel)
                            & (chosen["model"] == model)
                            & (chosen["policy"] == policy)
                        ]
                    )
                    if op is not None and len(op):
                        drawn.append(
                            _draw_operating_point(ax, op.iloc[0], x, colours[policy], marker)
                        )
            _accuracy_limits(ax, pd.concat(drawn) if drawn else pd.Series(dtype=float))
            ax.set_title(f"{panel}\n{model}", fontsize=10)
            ax.set_xlabel(COSTS[x])
            ax.set_ylabel("test accuracy (%)")
            ax.grid(alpha=0.3)
    _legend_below(fig, axes, columns=4)
    oracle = f"; {_label(ORACLE)} is the bound" if ORACLE in policies else ""
    marks = (
        f"; markers with bars: {_shown_protocol(points)} operating points, 95 % intervals"
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
        f"(lines: {_seeds_note(frame)}{marks}{oracle}{raw})",
        fontsize=10,
    )
    fig.tight_layout()
    _save(fig, path, curves)


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

    group = _labelled(_test_split(of_group(curves)), regulariser)
    if alpha not in set(group["alpha"]):
        raise ValueError(f"the curves hold no runs of {dataset} {method} at alpha {alpha}")
    model, panel = _alpha_label(alpha, regulariser), f"{dataset} · {method}"
    mean = group.groupby(["model", "policy", "value"], dropna=False, sort=True)[
        ["accuracy (%)", "mean_timesteps"]
    ].mean()
    mean = mean.reset_index()
    mean = mean[mean["policy"].isin(list(POLICIES))]  # the raw sweeps are per run
    band = _labelled(of_group(fixed), regulariser).sort_values("T")
    every_point = _operating_points(of_group(points), "mean_timesteps", regulariser)
    chosen = every_point[every_point["model"] == model]
    _, share = _exit_shares(of_group(exits), epsilon, regulariser)
    policies = [p for p in POLICIES if p in set(mean["policy"])]
    colours = _policy_colours(policies)
    n_steps = int(band["T"].max())

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), squeeze=False)
    curve_ax, hist_ax = axes[0]
    mine = band[band["model"] == model]
    # the fixed T's curve is drawn from its own table, with its band
    baseline = mine.assign(**{"accuracy (%)": 100 * mine["estimate"]})
    _draw_curve(curve_ax, baseline, "T", BASELINE, "black", _label(BASELINE))
    curve_ax.fill_between(
        mine["T"], 100 * mine["low"], 100 * mine["high"], color="black", alpha=0.12, lw=0
    )
    for policy in policies:
        pts = mean[(mean["model"] == model) & (mean["policy"] == policy)]
        if policy != BASELINE:
            curve = pts.sort_values("mean_timesteps")
            _draw_curve(curve_ax, curve, "mean_timesteps", policy, colours[policy], _label(policy))
        op, marker = chosen[chosen["policy"] == policy], POLICIES[policy].point_marker
        if marker and len(op):
            _draw_operating_point(curve_ax, op.iloc[0], "mean_timesteps", colours[policy], marker)
    # every alpha's curves and intervals set the limits, so that the toggle keeps the
    # axes still
    _accuracy_limits(
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
    stops = {PAPER: f"{_label(PAPER)} at ε = {epsilon}"}
    if ORACLE in policies:
        stops[ORACLE] = _label(ORACLE)
    for offset, (policy, label) in zip((-width / 2, width / 2), stops.items()):
        bars = share[(share["model"] == model) & (share["policy"] == _label(policy))]
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
    _legend_below(fig, axes, columns=3)
    fig.suptitle(
        f"{panel} · {model} ({_seeds_note(group)}; markers with bars: "
        f"{_shown_protocol(points)} operating points, 95 % intervals)"
    )
    fig.tight_layout()
    runs = of_group(curves)
    _save(fig, path, runs[runs["alpha"] == alpha])


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
    models = _test_split(curves)[["dataset", "method", "alpha"]].drop_duplicates()
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
