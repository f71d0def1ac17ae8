"""Whole accuracy-versus-latency curves from one recording, for every policy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spikecut.cutoff.costs import EnergyModel
from spikecut.cutoff.policies import PolicyChoice, make_policies
from spikecut.cutoff.steps import StepOutputs, first_reaching


def fixed_steps_needed(fixed_accuracy: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """Smallest fixed T whose accuracy reaches each of ``accuracy``; T where none does
    (the policy then beats every fixed T, and T is the honest comparison)."""
    accuracy = np.asarray(accuracy)
    curves = np.broadcast_to(np.asarray(fixed_accuracy), (*accuracy.shape, len(fixed_accuracy)))
    return first_reaching(curves, accuracy)


def cumulative_costs(
    compute: dict[str, np.ndarray], energy: EnergyModel | None = None
) -> dict[str, np.ndarray]:
    """MACs, SOPs and energy (µJ) per sample spent up to and including each step,
    ``[N, T]`` each, from the recorded per-step ``macs`` and ``sops``."""
    energy = energy or EnergyModel()
    macs, sops = (np.cumsum(compute[k], axis=1) for k in ("macs", "sops"))
    return {"mean_macs": macs, "mean_sops": sops, "mean_energy_uj": energy.joules(macs, sops) * 1e6}


def sweep(
    test: StepOutputs,
    calibration: StepOutputs | None,
    policies: PolicyChoice,
    epsilons: Sequence[float],
    raw: int = 0,
    compute: dict[str, np.ndarray] | None = None,
    energy: EnergyModel | None = None,
    per_sample: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame] | tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Evaluate every policy's operating points on ``test``: each calibrated policy at
    every epsilon, and at ``raw`` uncalibrated thresholds as ``<policy>-raw``. The
    ``policies`` are names, or a mapping of names to their options.

    Returns the curve (one row per operating point: policy, parameter, value, accuracy,
    mean_timesteps, and the speed-up at equal accuracy: ``fixed_T_equal_accuracy``, the
    smallest fixed T of the same run whose accuracy is at least the point's, and
    ``speedup_equal_accuracy``, that T over mean_timesteps) and the exit-step histogram
    of each point (policy, parameter, value, timestep, count). With the test set's ``compute``
    (``macs`` and ``sops`` ``[N, T]``, as recorded), each point also gets the mean MACs,
    SOPs and energy (µJ, by ``energy``) per sample up to its exit step. With
    ``per_sample``, also every point's exit steps ``[points, N]``, in the curve's order.
    """
    if calibration is not None:
        test.check_matches(calibration)
    points, counts, all_exits = [], [], []
    n_steps = test.n_steps
    spent = None if compute is None else cumulative_costs(compute, energy)
    for policy in make_policies(policies).values():
        for op in policy.operating_points(test, calibration, epsilons, raw):
            point = {
                "policy": op.policy,
                "parameter": op.parameter,
                "value": op.value,
                "accuracy": test.accuracy_at_exit(op.exit_steps),
                "mean_timesteps": float(op.exit_steps.mean()),
            }
            if spent is not None:
                rows = np.arange(len(op.exit_steps))
                point |= {k: float(v[rows, op.exit_steps - 1].mean()) for k, v in spent.items()}
            points.append(point)
            counts.append(np.bincount(op.exit_steps, minlength=n_steps + 1)[1:])
            if per_sample:
                all_exits.append(op.exit_steps.astype(np.int16))
    curve = pd.DataFrame(points)
    hists = curve[["policy", "parameter", "value"]].loc[np.repeat(curve.index, n_steps)]
    hists = hists.reset_index(drop=True).assign(
        timestep=np.tile(np.arange(1, n_steps + 1), len(curve)), count=np.concatenate(counts)
    )
    needed = fixed_steps_needed(test.fixed_step_accuracy(), curve["accuracy"].to_numpy())
    curve["fixed_T_equal_accuracy"] = needed
    curve["speedup_equal_accuracy"] = needed / curve["mean_timesteps"]
    if per_sample:
        return curve, hists, np.stack(all_exits)
    return curve, hists
