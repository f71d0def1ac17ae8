"""(c) Where the test samples stop: Top-K at one epsilon, and the oracle."""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from spikecut.cutoff.policies import ORACLE, PAPER
from spikecut.plots.common import (
    exit_shares,
    model_order,
    policy_label,
    save,
)
from spikecut.regularisers import RCS


def plot_exit_histograms(
    exits: pd.DataFrame, epsilon: float, path: str, regulariser: str = RCS.label
) -> None:
    """(c) Share of test samples exiting at each timestep: Top-K at ``epsilon``, and OCT."""
    chosen, share = exit_shares(exits, epsilon, regulariser)
    models = model_order(chosen, regulariser)
    rows = [policy_label(p) for p in (PAPER, ORACLE) if policy_label(p) in set(share["policy"])]
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
    save(grid.figure, path, chosen)
