"""What every figure shares: labels, styles, the operating points drawn with their
intervals, the axis limits and the atomic PNG writer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from spikecut import __version__
from spikecut.cutoff.policies import ORACLE, PAPER, POLICIES
from spikecut.io import atomic_path
from spikecut.regularisers import is_baseline


def policy_label(policy: str) -> str:
    return POLICIES[policy].label


def alpha_label(alpha: str, regulariser: str) -> str:
    """A model's name on the figures: the baseline, or the regulariser at its weight."""
    return "baseline (α = 0)" if is_baseline(alpha) else f"{regulariser} (α = {alpha})"


def labelled(frame: pd.DataFrame, regulariser: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["model"] = frame["alpha"].map(lambda alpha: alpha_label(alpha, regulariser))
    frame["panel"] = frame["dataset"] + " · " + frame["method"]
    if "accuracy" in frame:
        frame["accuracy (%)"] = 100 * frame["accuracy"]
    return frame


def model_order(frame: pd.DataFrame, regulariser: str) -> list[str]:
    """Model labels, baseline first, then by increasing alpha."""
    alphas = sorted(frame["alpha"].unique(), key=float)
    return [alpha_label(a, regulariser) for a in alphas]


def save(fig: plt.Figure, path: str, source: pd.DataFrame) -> None:
    """Write the PNG with the config ids of the runs it shows in its metadata."""
    ids = sorted(source["config_id"].astype(str).unique()) if "config_id" in source else []
    meta = {"Software": f"spikecut {__version__}", "Description": f"config_id: {' '.join(ids)}"}
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=130, bbox_inches="tight", metadata=meta)
    plt.close(fig)


def legend_below(fig: plt.Figure, axes, columns: int) -> None:
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


def test_split(curves: pd.DataFrame) -> pd.DataFrame:
    """The test split's curve rows (the sweep also keeps the validation split's)."""
    return curves[curves["split"] == "test"] if "split" in curves else curves


def shown_protocol(points: pd.DataFrame) -> str:
    """The protocol whose operating points the figures mark: held-out where the runs
    had a validation split, else the paper's."""
    return "held-out" if "held-out" in set(points["protocol"]) else "paper"


def seeds_note(curves: pd.DataFrame) -> str:
    n = curves["seed"].nunique() if "seed" in curves else 1
    return f"mean over {n} seeds" if n > 1 else "one seed"


def operating_points(points: pd.DataFrame, x: str, regulariser: str) -> pd.DataFrame:
    """Per panel, model and policy, the estimate and interval of ``x`` and of the
    accuracy (%) at the operating point chosen by :func:`shown_protocol`."""
    protocol = shown_protocol(points)
    chosen = labelled(
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


def error_bars(estimate, low, high, scale: float = 1.0) -> np.ndarray:
    """Matplotlib's ``[below, above]`` bar lengths of intervals around estimates. A
    percentile interval need not hold its estimate (the estimate is the statistic on the
    data, the interval the replicates' spread): a bar never goes below zero length."""
    estimate, low, high = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (estimate, low, high))
    return scale * np.stack([np.maximum(0.0, estimate - low), np.maximum(0.0, high - estimate)])


def _draw_operating_point(ax, op: pd.Series, x: str, colour, marker: str) -> pd.Series:
    """Draw the point with its intervals; returns its accuracy (%), for the axis limits.
    The limits follow the estimates, not the ends of the bars: with few seeds an
    interval can span tens of points and would leave the curves a sliver."""

    def bars(name, scale=1.0):
        return error_bars(*(op[f"{name}_{k}"] for k in ("estimate", "low", "high")), scale)

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
    return 100 * pd.Series([op["accuracy_estimate"]])


def draw_policy_point(
    ax, chosen: pd.DataFrame | None, policy: str, x: str, colour, **where
) -> pd.Series | None:
    """``policy``'s operating point among ``chosen`` (the rows whose columns equal
    ``where``), drawn with its record's marker and its intervals; its accuracy (%), or
    None where nothing is drawn (the oracle's curve is its point)."""
    marker = POLICIES[policy].point_marker
    if chosen is None or marker is None:
        return None
    rows = chosen[chosen["policy"] == policy]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return _draw_operating_point(ax, rows.iloc[0], x, colour, marker) if len(rows) else None


def draw_curve(ax, pts: pd.DataFrame, x: str, policy: str, colour, label: str) -> None:
    """A policy's curve in the style of its record; ``colour`` where the record sets
    none."""
    style = {"color": colour} | dict(POLICIES[policy].style)
    ax.plot(pts[x], pts["accuracy (%)"], label=label, **style)


def accuracy_limits(ax, values: pd.Series) -> None:
    """Converted SNNs start near chance; zoom on the useful range rather than on t = 1,
    and only on what is drawn."""
    values = values.dropna()
    if not len(values):
        return
    top = values.max()
    ax.set_ylim(bottom=max(values.min(), top - 12) - 0.5, top=top + 0.5)


def exit_shares(
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
    frame = labelled(chosen, regulariser)
    frame["policy"] = frame["policy"].map(policy_label)
    counts = frame.groupby(["panel", "policy", "model", "timestep"], sort=True)["count"].sum()
    share = 100 * counts / counts.groupby(level=["panel", "policy", "model"]).transform("sum")
    return chosen, share.rename("share of samples (%)").reset_index()


def policy_colours(policies: list[str]) -> dict:
    """A colour per policy: its record's, or the next of the palette."""
    free = [p for p in policies if "color" not in POLICIES[p].style]
    palette = dict(zip(free, sns.color_palette("colorblind", len(free))))
    return {p: palette.get(p) or POLICIES[p].style["color"] for p in policies}
