"""Whole accuracy-versus-latency curves from one recording, for every policy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spikecut.cutoff.policies import make_policy
from spikecut.cutoff.steps import StepOutputs


def fixed_steps_needed(fixed_accuracy: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """Smallest fixed T whose accuracy reaches each of ``accuracy``; T where none does
    (the policy then beats every fixed T, and T is the honest comparison)."""
    fixed_accuracy = np.asarray(fixed_accuracy)
    reaches = fixed_accuracy[None, :] >= np.asarray(accuracy)[:, None] - 1e-12
    return np.where(reaches.any(1), reaches.argmax(1) + 1, len(fixed_accuracy))


def sweep(
    test: StepOutputs,
    calibration: StepOutputs | None,
    policies: Sequence[str],
    epsilons: Sequence[float],
    grid: int | None = None,
    raw: int = 0,
    max_set_size: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate every policy's operating points on ``test``: each calibrated policy at
    every epsilon, and at ``raw`` uncalibrated thresholds as ``<policy>-raw``.

    Returns the curve (one row per operating point: policy, parameter, value, accuracy,
    mean_timesteps, fixed_timesteps_needed, speedup) and the exit-step histogram of each
    point (policy, parameter, value, timestep, count).
    """
    points, counts = [], []
    n_steps = test.n_steps
    for name in policies:
        policy = make_policy(name, grid, max_set_size)
        for op in policy.operating_points(test, calibration, epsilons, raw):
            points.append(
                {"policy": op.policy, "parameter": op.parameter, "value": op.value,
                 "accuracy": test.accuracy_at_exit(op.exit_steps),
                 "mean_timesteps": float(op.exit_steps.mean())}
            )
            counts.append(np.bincount(op.exit_steps, minlength=n_steps + 1)[1:])
    curve = pd.DataFrame(points)
    hists = curve[["policy", "parameter", "value"]].loc[np.repeat(curve.index, n_steps)]
    hists = hists.reset_index(drop=True).assign(
        timestep=np.tile(np.arange(1, n_steps + 1), len(curve)),
        count=np.concatenate(counts))
    needed = fixed_steps_needed(test.fixed_step_accuracy(), curve["accuracy"].to_numpy())
    curve["fixed_timesteps_needed"] = needed
    curve["speedup"] = needed / curve["mean_timesteps"]
    return curve, hists
