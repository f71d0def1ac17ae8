"""Every headline quantity of a data set and method with its bootstrap interval.

The sweep stage keeps, per run, the test set's fixed-step correctness and the exit step
of every sample at each policy's operating point under both protocols (a
:class:`RunPoints`). From the runs of one data set and method (alphas x seeds, one
test set) this module computes, with the paired bootstrap of
:mod:`spikecut.analysis.bootstrap`:

- per alpha: the accuracy at each fixed T, and the full-T accuracy;
- per alpha, policy and protocol: the accuracy, mean timesteps and energy at the
  operating point, the speed-up at tolerance (over the alpha = 0 model's fixed T within
  the tolerance, chosen by the same protocol) and the speed-up at equal accuracy;
- per alpha > 0, policy and protocol: the RCS effect, the paired difference against
  alpha = 0 of the same seed in mean timesteps and in accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from spikecut.analysis.bootstrap import Interval, Resamples, interval
from spikecut.analysis.protocols import choose
from spikecut.cutoff.steps import first_reaching
from spikecut.regularisers import is_baseline

POINT_KEYS = ["protocol", "policy"]


@dataclass(frozen=True)
class RunPoints:
    """One run's test set at its operating points."""

    correct: np.ndarray  # [N, T] bool: argmax Y(t) is the label
    exits: np.ndarray  # [K, N] exit step of each sample at each operating point
    points: pd.DataFrame  # K rows: protocol, policy, parameter, value, ...
    energy_uj: np.ndarray | None = None  # [K, N] energy spent up to the exit step

    def __post_init__(self):
        want = (len(self.points), self.correct.shape[0])
        for name in ("exits", "energy_uj"):
            value = getattr(self, name)
            if value is not None and value.shape != want:
                raise ValueError(
                    f"{name} must be [points, N] = {list(want)}, got {list(value.shape)}"
                )

    @cached_property
    def correct_at_exit(self) -> np.ndarray:
        """``[K, N]``: whether each sample is right where it stops."""
        return self.correct.T[self.exits - 1, np.arange(self.correct.shape[0])]

    def row(self, protocol: str, policy: str) -> int:
        match = np.flatnonzero(
            (self.points["protocol"] == protocol) & (self.points["policy"] == policy)
        )
        if len(match) != 1:
            raise KeyError(f"no single operating point for {policy!r} ({protocol})")
        return int(match[0])


@dataclass(frozen=True)
class RunSweep:
    """One run's sweep kept per test sample: every point's exit steps, the fixed-step
    correctness and the energy spent up to each step, with both splits' accuracy and
    mean timesteps per point, from which either protocol's operating points follow."""

    knobs: pd.DataFrame  # P rows: policy, parameter, value
    exits: np.ndarray  # [P, N] test exit steps
    correct: np.ndarray  # [N, T] test correctness of argmax Y(t)
    # [N, T] energy per test sample spent up to each step, where compute was recorded
    energy_uj: np.ndarray | None
    # "test" and, for the held-out protocol, "val": accuracy and mean_timesteps per point
    curves: dict[str, pd.DataFrame]

    def operating_points(self, max_loss_pp: float) -> RunPoints:
        val = self.curves.get("val")
        points = choose(
            None if val is None else self.knobs.join(val),
            self.knobs.join(self.curves["test"]),
            max_loss_pp,
        )
        exits = self.exits[points["row"].to_numpy()]
        spent = None
        if self.energy_uj is not None:
            spent = self.energy_uj[np.arange(exits.shape[1]), exits - 1]
        return RunPoints(self.correct, exits, points, spent)


def _stack(
    runs: dict[int, RunPoints], seeds: list[int], field: str, row: int | None = None
) -> np.ndarray:
    values = [getattr(runs[s], field) for s in seeds]
    return np.stack(values if row is None else [v[row] for v in values])


def evaluate(
    runs: dict[tuple[str, int], RunPoints], n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``runs`` maps (alpha, seed) to its points, for one data set and method with one
    test set. Returns (fixed, points, effects): tidy tables of ``quantity``,
    ``estimate``, ``low``, ``high``, with ``alpha``, ``T`` / ``protocol``, ``policy``."""
    alphas = sorted({a for a, _ in runs}, key=float)
    seeds = sorted({s for _, s in runs})
    missing = [(a, s) for a in alphas for s in seeds if (a, s) not in runs]
    if missing:
        raise ValueError(f"runs {missing} are missing: every alpha needs every seed")
    by_alpha = {a: {s: runs[a, s] for s in seeds} for a in alphas}
    first = next(iter(runs.values()))
    n, n_steps = first.correct.shape
    data = Resamples.identity(len(seeds), n)
    resamples = Resamples.draw(len(seeds), n, n_boot, seed)
    baseline = next((a for a in alphas if is_baseline(a)), None)
    cache: dict[tuple[str, int], np.ndarray] = {}

    def fixed_accuracy(alpha: str, r: Resamples) -> np.ndarray:  # [B, S, T]
        key = (alpha, id(r))  # r is data or resamples, both alive throughout
        if key not in cache:
            correct = _stack(by_alpha[alpha], seeds, "correct").transpose(0, 2, 1)
            cache[key] = r.sample_means(correct)
        return cache[key]

    def ci(stat) -> Interval:
        return interval(stat, data, resamples, level)

    fixed, point_rows, effects = [], [], []
    for alpha in alphas:
        for t in range(n_steps):
            got = ci(lambda r, a=alpha, t=t: r.over_seeds(fixed_accuracy(a, r)[..., t]))
            fixed.append({"alpha": alpha, "T": t + 1, "quantity": "accuracy", **vars(got)})
        full_T = vars(ci(lambda r, a=alpha: r.over_seeds(fixed_accuracy(a, r)[..., -1])))
        points = first.points[POINT_KEYS].drop_duplicates()
        for protocol, policy in points.itertuples(index=False):
            row = first.row(protocol, policy)
            exits = _stack(by_alpha[alpha], seeds, "exits", row)
            right = _stack(by_alpha[alpha], seeds, "correct_at_exit", row)

            def steps(r, exits=exits):
                return r.sample_means(exits)

            def accuracy(r, right=right):
                return r.sample_means(right)

            def at_equal_accuracy(r, a=alpha, accuracy=accuracy, steps=steps):
                return first_reaching(fixed_accuracy(a, r), accuracy(r)) / steps(r)

            quantities = {
                "accuracy": lambda r, f=accuracy: r.over_seeds(f(r)),
                "mean_timesteps": lambda r, f=steps: r.over_seeds(f(r)),
                "speedup_equal_accuracy": lambda r, f=at_equal_accuracy: r.over_seeds(f(r)),
            }
            if first.energy_uj is not None:
                spent = _stack(by_alpha[alpha], seeds, "energy_uj", row)
                quantities["mean_energy_uj"] = lambda r, e=spent: r.over_seeds(r.sample_means(e))
            if baseline is not None:
                # the baseline's fixed T within the tolerance, as the same protocol chose
                # it: on validation (held-out) or on the test curve (paper)
                fixed_T = _stack(
                    by_alpha[baseline], seeds, "exits", first.row(protocol, "timestep")
                )

                def at_tolerance(r, fixed_T=fixed_T, steps=steps):
                    return r.sample_means(fixed_T) / steps(r)

                quantities["speedup_at_tolerance"] = lambda r, f=at_tolerance: r.over_seeds(f(r))
            point_rows.append(
                {
                    "alpha": alpha,
                    "protocol": protocol,
                    "policy": policy,
                    "quantity": "accuracy_T",
                    **full_T,
                }
            )
            for quantity, stat in quantities.items():
                point_rows.append(
                    {
                        "alpha": alpha,
                        "protocol": protocol,
                        "policy": policy,
                        "quantity": quantity,
                        **vars(ci(stat)),
                    }
                )
            if baseline is None or alpha == baseline:
                continue
            base_exits = _stack(by_alpha[baseline], seeds, "exits", row)
            base_right = _stack(by_alpha[baseline], seeds, "correct_at_exit", row)
            for quantity, mine, theirs in (
                ("mean_timesteps", exits, base_exits),
                ("accuracy", right, base_right),
            ):
                diff = mine.astype(np.float64) - theirs
                got = ci(lambda r, d=diff: r.over_seeds(r.sample_means(d)))
                effects.append(
                    {
                        "alpha": alpha,
                        "protocol": protocol,
                        "policy": policy,
                        "quantity": quantity,
                        **vars(got),
                        "excludes_zero": got.excludes(0.0),
                    }
                )
    return pd.DataFrame(fixed), pd.DataFrame(point_rows), pd.DataFrame(effects)
