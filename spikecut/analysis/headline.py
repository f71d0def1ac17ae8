"""The headline's cells: per data set, method and protocol, the numbers the README
table shows, each with its interval, as one tidy table. The headline renders it, and
two runs are compared cell by cell on it (:mod:`spikecut.analysis.agreement`)."""

from __future__ import annotations

import pandas as pd

from spikecut.analysis.protocols import PROTOCOLS
from spikecut.cutoff.policies import BASELINE, PAPER
from spikecut.regularisers import baseline_alpha

# cell: (table, which alpha, policy (None: the headline's), quantity); T = 1 or the full T
CELLS = {
    "accuracy_t1": ("fixed", "base", None, 1),
    "accuracy_T": ("fixed", "base", None, "T"),
    "fixed_T": ("points", "base", BASELINE, "mean_timesteps"),
    "alone_timesteps": ("points", "base", None, "mean_timesteps"),
    "speedup_at_tolerance": ("points", "base", None, "speedup_at_tolerance"),
    "speedup_vs_full_T": ("points", "base", None, "speedup_vs_full_T"),
    "regularised_timesteps": ("points", "top", None, "mean_timesteps"),
    "effect_on_timesteps": ("effects", "top", None, "mean_timesteps"),
}


def lookup(table: pd.DataFrame, **keys) -> pd.Series | None:
    """The first row of ``table`` whose columns equal ``keys``; None where none does
    (an empty table has no columns to match)."""
    if table.empty:
        return None
    rows = table
    for key, value in keys.items():
        rows = rows[rows[key] == value]
    return None if rows.empty else rows.iloc[0]


def ci_text(row, scale: float = 1.0, digits: int = 2) -> str:
    """An estimate and its interval, ``1.23 [1.01, 1.50]``; "–" where there is none."""
    if row is None or pd.isna(row["estimate"]):
        return "–"
    return (
        f"{row['estimate'] * scale:.{digits}f} "
        f"[{row['low'] * scale:.{digits}f}, {row['high'] * scale:.{digits}f}]"
    )


def headline_cells(
    fixed: pd.DataFrame, points: pd.DataFrame, effects: pd.DataFrame, policy: str = PAPER
) -> pd.DataFrame:
    """Every cell of :data:`CELLS` for each data set, method and protocol that has an
    alpha = 0 run: ``cell``, ``alpha`` (the model it reads), ``estimate``, ``low`` and
    ``high``, with ``T``. "top" is the largest alpha; a cell the tables lack is left
    out (no effect without an alpha > 0)."""
    rows = []
    protocols = [p for p in PROTOCOLS if p in set(points["protocol"])]
    for (dataset, method), mine in points.groupby(["dataset", "method"], sort=False):
        alphas = sorted(mine["alpha"].unique(), key=float)
        base = baseline_alpha(alphas)
        if base is None:
            continue
        group = dict(dataset=dataset, method=method)
        n_steps = int(fixed[(fixed["dataset"] == dataset) & (fixed["method"] == method)]["T"].max())
        for protocol in protocols:
            for cell, (table, which, cell_policy, quantity) in CELLS.items():
                alpha = base if which == "base" else alphas[-1]
                if table == "effects" and (alpha == base or effects.empty):
                    continue
                if table == "fixed":
                    got = lookup(fixed, **group, alpha=alpha, T=n_steps if quantity == "T" else 1)
                else:
                    source = points if table == "points" else effects
                    got = lookup(
                        source,
                        **group,
                        protocol=protocol,
                        alpha=alpha,
                        policy=cell_policy or policy,
                        quantity=quantity,
                    )
                if got is None:
                    continue
                rows.append(
                    group
                    | {"protocol": protocol, "T": n_steps, "cell": cell, "alpha": alpha}
                    | {k: got[k] for k in ("estimate", "low", "high")}
                    | {"excludes_zero": got.get("excludes_zero")}
                )
    return pd.DataFrame(
        rows,
        columns=[
            *["dataset", "method", "protocol", "T", "cell", "alpha"],
            *["estimate", "low", "high", "excludes_zero"],
        ],
    )
