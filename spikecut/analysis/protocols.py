"""Where each policy operates, by two protocols (docs/method.md §10).

- *held-out*: each policy's knob (ε, a raw threshold, T_fixed) is chosen on the
  validation split as the fewest mean timesteps within the tolerance of the validation
  accuracy at full T; the test split is then read once, at that knob.
- *paper*: the operating point is read off the test curve by the same rule, as the
  authors do. It is optimistic: the test split chooses the knob it is judged on.

:func:`choose_rows` makes the choice on whole curves given as arrays, for any number
of curves at once (every bootstrap replicate and seed); :func:`choose` makes it on one
run's curves as tables and returns row positions, so the caller can fetch whatever it
kept per point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spikecut.cutoff.policies import BASELINE

# each protocol and the split whose curve chooses its operating points
CHOOSING_SPLIT = {"held-out": "val", "paper": "test"}
PROTOCOLS = tuple(CHOOSING_SPLIT)
_KNOB = ["policy", "parameter", "value"]


def full_T_row(knobs: pd.DataFrame) -> int:
    """The position of the fixed-T policy at the largest T: its accuracy is the
    curve's full-T accuracy."""
    fixed = knobs.reset_index(drop=True)
    fixed = fixed[fixed["policy"] == BASELINE]
    if fixed.empty:
        raise ValueError(f"the curve has no {BASELINE!r} rows: sweep the fixed-T baseline too")
    return int(fixed["value"].astype(float).idxmax())


def policy_rows(knobs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each policy's row positions in ``knobs``, policies in name order."""
    names = knobs["policy"].to_numpy()
    return {p: np.flatnonzero(names == p) for p in sorted(set(names))}


def choose_rows(
    accuracy: np.ndarray, mean_timesteps: np.ndarray, knobs: pd.DataFrame, max_loss_pp: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per policy (in name order, last axis), the row of the point with the fewest mean
    timesteps whose accuracy is within ``max_loss_pp`` percentage points of the curve's
    own full-T accuracy; ties go to the more accurate point, then to the first. A
    policy with no point within the tolerance gets its most accurate one.

    ``accuracy`` and ``mean_timesteps`` are curves over the rows of ``knobs``,
    ``[..., P]``. Returns the rows and whether each is within the tolerance, ``[..., G]``
    for G policies."""
    accuracy = np.asarray(accuracy, dtype=np.float64)
    steps = np.asarray(mean_timesteps, dtype=np.float64)
    floor = accuracy[..., full_T_row(knobs)] - max_loss_pp / 100 - 1e-12
    rows, within = [], []
    for members in policy_rows(knobs).values():
        acc, ts = accuracy[..., members], steps[..., members]
        ok = acc >= floor[..., None]
        # lexsort's last key leads: points within the tolerance first, by fewest steps
        # then most accurate; the others by most accurate; it is stable, so the first
        # of equal points wins
        order = np.lexsort((-acc, np.where(ok, ts, -acc), ~ok), axis=-1)
        first = order[..., 0]
        rows.append(members[first])
        within.append(np.take_along_axis(ok, first[..., None], axis=-1)[..., 0])
    return np.stack(rows, axis=-1), np.stack(within, axis=-1)


def choose(
    val_curve: pd.DataFrame | None, test_curve: pd.DataFrame, max_loss_pp: float
) -> pd.DataFrame:
    """The operating point of every policy under each protocol: columns protocol,
    policy, parameter, value, ``row`` (its position in ``test_curve``) and
    ``within_tolerance`` (on the curve that chose it). The two curves must hold the
    same knobs in the same order (sweeps of one run with the same settings). Without a
    validation curve there is no held-out protocol, and only the paper's points."""
    test = test_curve.reset_index(drop=True)
    splits = {"test": test}
    if val_curve is not None:
        splits["val"] = val_curve.reset_index(drop=True)
        if not splits["val"][_KNOB].equals(test[_KNOB]):
            raise ValueError(
                "the validation and test curves hold different knobs; "
                "sweep both with the same settings"
            )
    names = list(policy_rows(test))
    chosen = []
    for protocol, split in CHOOSING_SPLIT.items():
        if split not in splits:
            continue
        curve = splits[split]
        rows, within = choose_rows(curve["accuracy"], curve["mean_timesteps"], test, max_loss_pp)
        chosen.append(
            test.loc[rows, ["parameter", "value"]].assign(
                protocol=protocol, policy=names, row=rows, within_tolerance=within
            )
        )
    return pd.concat(chosen, ignore_index=True)[
        ["protocol", "policy", "parameter", "value", "row", "within_tolerance"]
    ]
