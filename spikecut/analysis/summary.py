"""The paper's headline numbers from the cutoff curves: the timesteps each policy needs
at no more than a given accuracy loss, and the reduction factor."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml

RUN = ["dataset", "method", "alpha", "seed"]
GROUP = ["dataset", "method", "alpha", "policy"]


def operating_points(curves: pd.DataFrame, max_loss_pp: float) -> pd.DataFrame:
    """Per run and policy, the point with the fewest mean timesteps whose accuracy is
    within ``max_loss_pp`` percentage points of the run's own accuracy at full T."""
    curves = curves.copy()
    fixed = curves[curves["policy"] == "timestep"]
    full = fixed.loc[fixed.groupby(RUN)["value"].idxmax(), RUN + ["accuracy"]]
    curves = curves.merge(full.rename(columns={"accuracy": "accuracy_T"}), on=RUN)
    ok = curves["accuracy"] >= curves["accuracy_T"] - max_loss_pp / 100 - 1e-12
    eligible = curves[ok].sort_values(
        ["mean_timesteps", "accuracy"], ascending=[True, False], kind="stable"
    )
    best = eligible.groupby(RUN + ["policy"], sort=True).head(1)
    best = best.assign(reduction=best["n_steps"] / best["mean_timesteps"])
    baseline = best[(best["policy"] == "timestep") & (best["alpha"].astype(float) == 0)]
    baseline = baseline[["dataset", "method", "seed", "mean_timesteps"]].rename(
        columns={"mean_timesteps": "baseline_timesteps"}
    )
    best = best.merge(baseline, on=["dataset", "method", "seed"], how="left")
    best["factor_vs_baseline"] = best["baseline_timesteps"] / best["mean_timesteps"]
    cols = RUN + ["policy", "parameter", "value", "n_steps", "accuracy_T", "accuracy",
                  "mean_timesteps", "reduction", "baseline_timesteps", "factor_vs_baseline"]
    return best[cols].sort_values(RUN + ["policy"]).reset_index(drop=True)


def summarise(curves: pd.DataFrame, max_loss_pp: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-run operating points, and their mean and sd over seeds."""
    per_run = operating_points(curves, max_loss_pp)
    stats = ["accuracy_T", "accuracy", "mean_timesteps", "reduction", "factor_vs_baseline"]
    agg = per_run.groupby(GROUP, sort=True)[stats].agg(["mean", "std"])
    agg.columns = [f"{c}_{s}" for c, s in agg.columns]
    agg["n_seeds"] = per_run.groupby(GROUP, sort=True)["seed"].nunique()
    agg["n_steps"] = per_run.groupby(GROUP, sort=True)["n_steps"].max()
    return per_run, agg.reset_index()


def _pm(mean: float, sd: float, digits: int = 2, scale: float = 1.0) -> str:
    sd = 0.0 if np.isnan(sd) else sd
    return f"{mean * scale:.{digits}f} ± {sd * scale:.{digits}f}"


def summary_markdown(table: pd.DataFrame, max_loss_pp: float, config: dict) -> str:
    lines = [
        "# spikecut summary",
        "",
        f"Operating point of each policy: the fewest mean timesteps at no more than "
        f"{max_loss_pp} pp accuracy loss against the same run's accuracy at full T, read "
        "off the test-set curve. Mean ± sd over seeds. *Reduction* is T / timesteps; "
        "*vs baseline* divides the timesteps the α = 0 model needs with a fixed T by the "
        "policy's timesteps (same seed).",
        "",
    ]
    for (dataset, method), group in table.groupby(["dataset", "method"], sort=True):
        lines += [f"## {dataset} ({method})", ""]
        lines += [
            "| α | policy | acc @T (%) | acc (%) | timesteps | reduction | vs baseline |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in group.itertuples():
            lines.append(
                f"| {row.alpha} | {row.policy}"
                f" | {_pm(row.accuracy_T_mean, row.accuracy_T_std, 2, 100)}"
                f" | {_pm(row.accuracy_mean, row.accuracy_std, 2, 100)}"
                f" | {_pm(row.mean_timesteps_mean, row.mean_timesteps_std)} of {row.n_steps}"
                f" | {_pm(row.reduction_mean, row.reduction_std)}×"
                f" | {_pm(row.factor_vs_baseline_mean, row.factor_vs_baseline_std)}× |"
            )
        base = group[(group["policy"] == "timestep") & (group["alpha"].astype(float) == 0)]
        best = group[(group["policy"] == "topk") & (group["alpha"].astype(float) > 0)]
        if len(base) and len(best):
            top = best.loc[best["factor_vs_baseline_mean"].idxmax()]
            lines += [
                "",
                f"**Headline:** RCS (α = {top['alpha']}) + Top-K needs "
                f"{top['mean_timesteps_mean']:.2f} mean timesteps where the baseline with a "
                f"fixed T needs {base['mean_timesteps_mean'].iloc[0]:.2f}: "
                f"{top['factor_vs_baseline_mean']:.2f}× fewer, at "
                f"{100 * top['accuracy_mean']:.2f}% accuracy (baseline at full T: "
                f"{100 * base['accuracy_T_mean'].iloc[0]:.2f}%).",
            ]
        lines.append("")
    lines += ["## Configuration", "", "```yaml",
              # a JSON round trip drops the YAML aliases shared sub-dicts would get
              yaml.safe_dump(json.loads(json.dumps(config)), sort_keys=False).rstrip(),
              "```", ""]
    return "\n".join(lines)
