"""Where each policy operates, by two protocols (docs/method.md §10).

- *held-out*: each policy's knob (ε, a raw threshold, T_fixed) is chosen on the
  validation split as the fewest mean timesteps within the tolerance of the validation
  accuracy at full T; the test split is then read once, at that knob.
- *paper*: the operating point is read off the test curve by the same rule, as the
  authors do. It is optimistic: the test split chooses the knob it is judged on.

Both take whole curves of one run (``spikecut.cutoff.sweep`` output) and return row
positions, so the caller can fetch whatever it kept per point.
"""

from __future__ import annotations

import pandas as pd

PROTOCOLS = ("held-out", "paper")
_KNOB = ["policy", "parameter", "value"]


def full_T_accuracy(curve: pd.DataFrame) -> float:
    """The accuracy of the fixed-T policy at the largest T of the curve."""
    fixed = curve[curve["policy"] == "timestep"]
    if fixed.empty:
        raise ValueError("the curve has no 'timestep' rows: sweep the fixed-T baseline too")
    return float(fixed.loc[fixed["value"].astype(float).idxmax(), "accuracy"])


def fewest_steps_within(curve: pd.DataFrame, max_loss_pp: float) -> pd.DataFrame:
    """Per policy (index), the position ``row`` in ``curve`` of the point with the
    fewest mean timesteps whose accuracy is within ``max_loss_pp`` percentage points of
    the curve's own full-T accuracy; ties go to the more accurate point, then to the
    first. A policy with no point within the tolerance gets its most accurate one, with
    ``within_tolerance`` False."""
    floor = full_T_accuracy(curve) - max_loss_pp / 100 - 1e-12
    frame = curve.reset_index(drop=True)
    frame = frame.assign(within=frame["accuracy"] >= floor)
    # within the tolerance: fewest steps first; outside it: most accurate first
    order = pd.concat(
        [
            frame[frame["within"]].sort_values(
                ["mean_timesteps", "accuracy"], ascending=[True, False], kind="stable"
            ),
            frame[~frame["within"]].sort_values("accuracy", ascending=False, kind="stable"),
        ]
    )
    best = order.groupby("policy", sort=True).head(1)
    return pd.DataFrame(
        {"row": best.index, "within_tolerance": best["within"].to_numpy()},
        index=best["policy"].to_numpy(),
    ).sort_index()


def choose(
    val_curve: pd.DataFrame | None, test_curve: pd.DataFrame, max_loss_pp: float
) -> pd.DataFrame:
    """The operating point of every policy under each protocol: columns protocol,
    policy, parameter, value, ``row`` (its position in ``test_curve``) and
    ``within_tolerance`` (on the curve that chose it). The two curves must hold the
    same knobs in the same order (sweeps of one run with the same settings). Without a
    validation curve there is no held-out protocol, and only the paper's points."""
    test = test_curve.reset_index(drop=True)
    picks = {"paper": fewest_steps_within(test, max_loss_pp)}
    if val_curve is not None:
        val = val_curve.reset_index(drop=True)
        if not val[_KNOB].equals(test[_KNOB]):
            raise ValueError(
                "the validation and test curves hold different knobs; "
                "sweep both with the same settings"
            )
        picks = {"held-out": fewest_steps_within(val, max_loss_pp)} | picks
    rows = [
        {
            "protocol": protocol,
            "policy": policy,
            "row": int(pick.row),
            "within_tolerance": bool(pick.within_tolerance),
            **test.loc[pick.row, ["parameter", "value"]].to_dict(),
        }
        for protocol, chosen in picks.items()
        for policy, pick in chosen.iterrows()
    ]
    return pd.DataFrame(rows)[
        ["protocol", "policy", "parameter", "value", "row", "within_tolerance"]
    ]
