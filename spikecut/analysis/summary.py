"""The paper's headline numbers from the cutoff curves: the timesteps each policy needs
at no more than a given accuracy loss, and its speed-ups (SPEC §6).

- *Speed-up at tolerance* (``speedup_at_tolerance``): ``fixed_T_at_tolerance``, the
  fewest fixed timesteps with which the alpha = 0 model of the same data set, method and
  seed comes within the tolerance of its own full-T accuracy, divided by the policy's
  mean timesteps at its operating point. The headline.
- *Speed-up at equal accuracy* (``speedup_equal_accuracy``, from the sweep): the
  smallest fixed T of the same run whose accuracy is at least the point's, divided by
  its mean timesteps.
- ``reduction``: T over the mean timesteps.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml

RUN = ["dataset", "method", "alpha", "seed"]
GROUP = ["dataset", "method", "alpha", "policy"]
# per-sample compute up to the exit step, where the recording counted it
COSTS = ["mean_sops", "mean_energy_uj"]


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
        columns={"mean_timesteps": "fixed_T_at_tolerance"}
    )
    best = best.merge(baseline, on=["dataset", "method", "seed"], how="left")
    best["speedup_at_tolerance"] = best["fixed_T_at_tolerance"] / best["mean_timesteps"]
    cols = RUN + ["policy", "parameter", "value", "n_steps", "accuracy_T", "accuracy",
                  "mean_timesteps", "reduction", "fixed_T_at_tolerance",
                  "speedup_at_tolerance", "fixed_T_equal_accuracy", "speedup_equal_accuracy"]
    cols += [c for c in COSTS if c in best]
    return best[cols].sort_values(RUN + ["policy"]).reset_index(drop=True)


def summarise(curves: pd.DataFrame, max_loss_pp: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-run operating points, and their mean and sd over seeds."""
    per_run = operating_points(curves, max_loss_pp)
    stats = ["accuracy_T", "accuracy", "mean_timesteps", "reduction", "speedup_at_tolerance",
             "speedup_equal_accuracy"]
    stats += [c for c in COSTS if c in per_run]
    agg = per_run.groupby(GROUP, sort=True)[stats].agg(["mean", "std"])
    agg.columns = [f"{c}_{s}" for c, s in agg.columns]
    agg["n_seeds"] = per_run.groupby(GROUP, sort=True)["seed"].nunique()
    agg["n_steps"] = per_run.groupby(GROUP, sort=True)["n_steps"].max()
    return per_run, agg.reset_index()


def _pm(mean: float, sd: float, digits: int = 2, scale: float = 1.0) -> str:
    sd = 0.0 if np.isnan(sd) else sd
    return f"{mean * scale:.{digits}f} ± {sd * scale:.{digits}f}"


def early_exit_markdown(timings: pd.DataFrame) -> list[str]:
    """The real early-exit runs, mean over seeds: exit step, wall-time speed-up."""
    keys = ["dataset", "method", "alpha", "policy", "epsilon"]
    agg = timings.groupby(keys, sort=True).agg(
        mean_timesteps=("mean_timesteps", "mean"), n_steps=("n_steps", "max"),
        accuracy=("accuracy", "mean"), wall_speedup=("wall_speedup", "mean"),
        matches=("matches_simulation", "all")).reset_index()
    lines = ["## Real early exit", "",
             "Each policy run step by step with finished samples leaving the batch, timed "
             "against the same model run for all T steps (mean over seeds).", "",
             "| data set | method | α | policy | ε | t* | T / t* | wall-time speed-up | "
             "acc (%) | equals simulation |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in agg.itertuples():
        lines.append(f"| {r.dataset} | {r.method} | {r.alpha} | {r.policy} | {r.epsilon} "
                     f"| {r.mean_timesteps:.2f} of {r.n_steps} "
                     f"| {r.n_steps / r.mean_timesteps:.2f}× | {r.wall_speedup:.2f}× "
                     f"| {100 * r.accuracy:.2f} | {'yes' if r.matches else 'NO'} |")
    return lines + [""]


def summary_markdown(table: pd.DataFrame, max_loss_pp: float, config: dict,
                     timings: pd.DataFrame | None = None) -> str:
    lines = [
        "# spikecut summary",
        "",
        f"Operating point of each policy: the fewest mean timesteps at no more than "
        f"{max_loss_pp} pp accuracy loss against the same run's accuracy at full T, read "
        "off the test-set curve. Mean ± sd over seeds. *Reduction* is T / timesteps. "
        "*Speed-up at tolerance* divides the fewest fixed timesteps with which the α = 0 "
        f"model comes within {max_loss_pp} pp of its own full-T accuracy (same seed) by "
        "the policy's timesteps. *Speed-up at equal accuracy* divides the smallest fixed "
        "T of the same run whose accuracy is at least the policy's by the policy's "
        "timesteps.",
        "",
    ]
    for (dataset, method), group in table.groupby(["dataset", "method"], sort=True):
        lines += [f"## {dataset} ({method})", ""]
        energy = "mean_energy_uj_mean" in group
        lines += [
            "| α | policy | acc @T (%) | acc (%) | timesteps | reduction "
            "| speed-up at tolerance | speed-up at equal accuracy |"
            + (" energy (µJ) |" if energy else ""),
            "|---|---|---|---|---|---|---|---|" + ("---|" if energy else ""),
        ]
        for row in group.itertuples():
            lines.append(
                f"| {row.alpha} | {row.policy}"
                f" | {_pm(row.accuracy_T_mean, row.accuracy_T_std, 2, 100)}"
                f" | {_pm(row.accuracy_mean, row.accuracy_std, 2, 100)}"
                f" | {_pm(row.mean_timesteps_mean, row.mean_timesteps_std)} of {row.n_steps}"
                f" | {_pm(row.reduction_mean, row.reduction_std)}×"
                f" | {_pm(row.speedup_at_tolerance_mean, row.speedup_at_tolerance_std)}×"
                f" | {_pm(row.speedup_equal_accuracy_mean, row.speedup_equal_accuracy_std)}× |"
                + (f" {_pm(row.mean_energy_uj_mean, row.mean_energy_uj_std, 3)} |"
                   if energy else "")
            )
        base = group[(group["policy"] == "timestep") & (group["alpha"].astype(float) == 0)]
        best = group[(group["policy"] == "topk") & (group["alpha"].astype(float) > 0)]
        if len(base) and len(best):
            top = best.loc[best["speedup_at_tolerance_mean"].idxmax()]
            lines += [
                "",
                f"**Headline:** RCS (α = {top['alpha']}) + Top-K needs "
                f"{top['mean_timesteps_mean']:.2f} mean timesteps where the baseline with a "
                f"fixed T needs {base['mean_timesteps_mean'].iloc[0]:.2f}: "
                f"{top['speedup_at_tolerance_mean']:.2f}× fewer (speed-up at tolerance), at "
                f"{100 * top['accuracy_mean']:.2f}% accuracy (baseline at full T: "
                f"{100 * base['accuracy_T_mean'].iloc[0]:.2f}%).",
            ]
        lines.append("")
    if timings is not None and len(timings):
        lines += early_exit_markdown(timings)
    lines += ["## Configuration", "", "```yaml",
              # a JSON round trip drops the YAML aliases shared sub-dicts would get
              yaml.safe_dump(json.loads(json.dumps(config)), sort_keys=False).rstrip(),
              "```", ""]
    return "\n".join(lines)
