"""Every headline quantity of a data set and method with its bootstrap interval.

The sweep stage keeps, per run, every swept point's exit step for each sample of the
test and the validation split and both splits' fixed-step correctness (a
:class:`RunSweep`). From the runs of one data set and method (alphas x seeds, one pair
of splits) this module computes, with the paired bootstrap of
:mod:`spikecut.analysis.bootstrap`:

- per alpha: the accuracy at each fixed T, and the full-T accuracy;
- per alpha, policy and protocol: the accuracy, mean timesteps and energy at the
  operating point, the speed-up at tolerance (over the alpha = 0 model's fixed T within
  the tolerance, chosen by the same protocol), the speed-up at equal accuracy and the
  paper's speed-up, over the full T;
- per alpha > 0, policy and protocol: the regulariser's effect, the paired difference
  against alpha = 0 of the same seed in mean timesteps and in accuracy.

Each replicate runs the protocol again: the operating points (each policy's knob and
the baseline's T_fixed) are chosen anew on the replicate's validation samples
(held-out) or its test samples (paper), per seed, and the replicate's test samples are
read at that choice. The interval therefore carries the randomness of the choice as
well as that of the reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from spikecut.analysis.bootstrap import Interval, Resamples, interval
from spikecut.analysis.protocols import CHOOSING_SPLIT, choose, choose_rows, policy_rows
from spikecut.cutoff.policies import BASELINE
from spikecut.cutoff.steps import first_reaching
from spikecut.regularisers import baseline_alpha


@dataclass(frozen=True)
class Split:
    """One split's sweep, kept per sample."""

    exits: np.ndarray  # [P, N] exit step of each sample at each swept point
    correct: np.ndarray  # [N, T] bool: argmax Y(t) is the label

    def __post_init__(self):
        if self.exits.ndim != 2 or self.exits.shape[1] != self.correct.shape[0]:
            raise ValueError(
                f"exits must be [points, N] with N = {self.correct.shape[0]} samples, "
                f"got {list(self.exits.shape)}"
            )

    @cached_property
    def right(self) -> np.ndarray:
        """``[P, N]``: whether each sample is right where it stops."""
        return self.correct.T[self.exits - 1, np.arange(self.correct.shape[0])]

    @cached_property
    def curve(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"accuracy": self.right.mean(axis=1), "mean_timesteps": self.exits.mean(axis=1)}
        )


@dataclass(frozen=True)
class RunSweep:
    """One run's sweep: its swept knobs, the test split and, for the held-out
    protocol, the validation split, with the energy per test sample spent up to each
    step where compute was recorded."""

    knobs: pd.DataFrame  # P rows: policy, parameter, value
    test: Split
    val: Split | None = None
    energy_uj: np.ndarray | None = None  # [N, T]

    def __post_init__(self):
        for name, split in (("test", self.test), ("val", self.val)):
            if split is not None and split.exits.shape[0] != len(self.knobs):
                raise ValueError(
                    f"the {name} split holds {split.exits.shape[0]} swept points, "
                    f"the knobs {len(self.knobs)}"
                )
        if self.energy_uj is not None and self.energy_uj.shape != self.test.correct.shape:
            raise ValueError(
                f"energy_uj must be [N, T] = {list(self.test.correct.shape)}, "
                f"got {list(self.energy_uj.shape)}"
            )

    @property
    def n_val(self) -> int:
        """Validation samples (0 without a validation split)."""
        return 0 if self.val is None else self.val.correct.shape[0]

    @cached_property
    def spent(self) -> np.ndarray | None:
        """``[P, N]``: the energy each test sample spent up to its exit step."""
        if self.energy_uj is None:
            return None
        exits = self.test.exits
        return self.energy_uj[np.arange(exits.shape[1]), exits - 1]

    def operating_points(self, max_loss_pp: float) -> pd.DataFrame:
        """Each policy's point under each protocol (:func:`choose`) on the data as they
        are, with the test split's accuracy, mean timesteps and energy there."""
        val = None if self.val is None else self.knobs.join(self.val.curve)
        points = choose(val, self.knobs.join(self.test.curve), max_loss_pp)
        rows = points["row"].to_numpy()
        spent = np.nan if self.spent is None else self.spent[rows].mean(axis=1)
        return points.assign(
            accuracy=self.test.right[rows].mean(axis=1),
            mean_timesteps=self.test.exits[rows].mean(axis=1),
            mean_energy_uj=spent,
        )


@dataclass(frozen=True)
class Measured:
    """One alpha's runs under some replicates: ``fixed`` ``[B, S, T]``, the accuracy at
    each fixed T, and per protocol each quantity at the policies' operating points as
    that protocol chose them in each replicate, ``[B, S, G]`` (policies in name order)."""

    fixed: np.ndarray
    at: dict[str, dict[str, np.ndarray]]


def measure(
    sweeps: list[RunSweep], r: Resamples, max_loss_pp: float, protocols: list[str]
) -> Measured:
    """The seeds' ``sweeps`` (one alpha) under the replicates ``r``: each run's curves
    are averaged over each replicate's samples, its operating points chosen on them,
    and its test split read there. Runs may sweep different numbers of points (a raw
    threshold calibrated per run can coincide with another): each chooses among its
    own."""
    fixed, at = [], {protocol: {} for protocol in protocols}
    for sweep in sweeps:
        test = {
            "accuracy": r.sample_means(sweep.test.right),  # [B, P]
            "mean_timesteps": r.sample_means(sweep.test.exits),
        }
        if sweep.spent is not None:
            test["mean_energy_uj"] = r.sample_means(sweep.spent)
        fixed.append(r.sample_means(sweep.test.correct.T))  # [B, T]
        curves = {"test": (test["accuracy"], test["mean_timesteps"])}
        if sweep.val is not None:
            curves["val"] = (r.val_means(sweep.val.right), r.val_means(sweep.val.exits))
        for protocol in protocols:
            rows, _ = choose_rows(*curves[CHOOSING_SPLIT[protocol]], sweep.knobs, max_loss_pp)
            for quantity, values in test.items():
                got = np.take_along_axis(values, rows, axis=-1)  # [B, G]
                at[protocol].setdefault(quantity, []).append(got)
    return Measured(
        np.stack(fixed, axis=1),
        {p: {q: np.stack(v, axis=1) for q, v in by.items()} for p, by in at.items()},
    )


def _shapes(run: RunSweep) -> tuple:
    return (
        run.test.correct.shape,
        None if run.val is None else run.val.correct.shape,
        run.energy_uj is not None,
    )


def evaluate(
    runs: dict[tuple[str, int], RunSweep],
    max_loss_pp: float,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    resample_seeds: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``runs`` maps (alpha, seed) to its sweep, for one data set and method with one
    pair of splits. Returns (fixed, points, effects, gaps): tidy tables of ``quantity``,
    ``estimate``, ``low``, ``high``, with ``alpha``, ``T`` / ``protocol``, ``policy``;
    ``gaps`` holds the paper protocol minus the held-out one, per alpha and policy.
    The held-out protocol is measured where every run has a validation split;
    ``resample_seeds`` replaces the seeds' t term by drawing seeds (to compare designs)."""
    alphas = sorted({a for a, _ in runs}, key=float)
    seeds = sorted({s for _, s in runs})
    missing = [(a, s) for a in alphas for s in seeds if (a, s) not in runs]
    if missing:
        raise ValueError(f"runs {missing} are missing: every alpha needs every seed")
    first = next(iter(runs.values()))
    names = list(policy_rows(first.knobs))
    for key, run in runs.items():
        if list(policy_rows(run.knobs)) != names:
            raise ValueError(
                f"run {key} swept the policies {sorted(policy_rows(run.knobs))}, the others "
                f"{names}: sweep every run with the same settings"
            )
        if _shapes(run) != _shapes(first):
            raise ValueError(
                f"run {key} holds splits of other sizes or no energy where the others do "
                f"({_shapes(run)} against {_shapes(first)}): the runs of a data set and "
                "method must share their test and validation splits and their records"
            )
    held_out = all(run.val is not None for run in runs.values())
    protocols = ["held-out", "paper"] if held_out else ["paper"]
    n, n_steps = first.test.correct.shape
    n_val = first.n_val if held_out else None
    data = Resamples.identity(n, n_val)
    resamples = Resamples.draw(len(seeds), n, n_boot, seed, n_val, resample_seeds)
    baseline = baseline_alpha(alphas)
    fixed_g = names.index(BASELINE)
    cache: dict[tuple[str, int], Measured] = {}

    def measured(alpha: str, r: Resamples) -> Measured:
        key = (alpha, id(r))  # r is data or resamples, both alive throughout
        if key not in cache:
            sweeps = [runs[alpha, s] for s in seeds]
            cache[key] = measure(sweeps, r, max_loss_pp, protocols)
        return cache[key]

    # what each kind of quantity can be: the bounds of its interval
    fraction, steps, ratio = (0.0, 1.0), (1.0, float(n_steps)), (1 / n_steps, float(n_steps))
    bounds = {
        "accuracy": fraction,
        "accuracy_T": fraction,
        "mean_timesteps": steps,
        "mean_energy_uj": (0.0, np.inf),
        "speedup_equal_accuracy": ratio,
        "speedup_vs_full_T": steps,  # T over at most T steps
        "speedup_at_tolerance": ratio,
    }
    change = {"accuracy": (-1.0, 1.0), "mean_timesteps": (1.0 - n_steps, n_steps - 1.0)}

    def ci(per_seed, within: tuple[float, float]) -> Interval:
        """The interval of the mean over seeds of ``per_seed(r)``, ``[B, S]``."""
        return interval(lambda r: r.over_seeds(per_seed(r)), data, resamples, level, within)

    def at(r: Resamples, quantity: str, alpha: str, protocol: str, g: int) -> np.ndarray:
        return measured(alpha, r).at[protocol][quantity][..., g]

    def paired(alpha, protocol, g, other_alpha, other_protocol, quantity) -> dict:
        got = ci(
            lambda r: (
                at(r, quantity, alpha, protocol, g)
                - at(r, quantity, other_alpha, other_protocol, g)
            ),
            change[quantity],
        )
        return {"quantity": quantity, **vars(got), "excludes_zero": got.excludes()}

    fixed, point_rows, effects, gaps = [], [], [], []
    for alpha in alphas:
        for t in range(n_steps):
            got = ci(lambda r, a=alpha, t=t: measured(a, r).fixed[..., t], fraction)
            fixed.append({"alpha": alpha, "T": t + 1, "quantity": "accuracy", **vars(got)})
        full_T = vars(ci(lambda r, a=alpha: measured(a, r).fixed[..., -1], fraction))
        for protocol in protocols:
            for g, policy in enumerate(names):
                here = dict(alpha=alpha, protocol=protocol, g=g)
                quantities = {
                    "accuracy": lambda r, here=here: at(r, "accuracy", **here),
                    "mean_timesteps": lambda r, here=here: at(r, "mean_timesteps", **here),
                    "speedup_equal_accuracy": lambda r, here=here: (
                        first_reaching(measured(here["alpha"], r).fixed, at(r, "accuracy", **here))
                        / at(r, "mean_timesteps", **here)
                    ),
                    "speedup_vs_full_T": lambda r, here=here: (
                        n_steps / at(r, "mean_timesteps", **here)
                    ),
                }
                if first.spent is not None:
                    quantities["mean_energy_uj"] = lambda r, here=here: at(
                        r, "mean_energy_uj", **here
                    )
                if baseline is not None:
                    # the baseline's fixed T within the tolerance, as the same protocol
                    # chose it: on validation (held-out) or on the test curve (paper)
                    quantities["speedup_at_tolerance"] = lambda r, here=here: (
                        at(r, "mean_timesteps", baseline, here["protocol"], fixed_g)
                        / at(r, "mean_timesteps", **here)
                    )
                where = {"alpha": alpha, "protocol": protocol, "policy": policy}
                point_rows.append(where | {"quantity": "accuracy_T", **full_T})
                for quantity, stat in quantities.items():
                    got = ci(stat, bounds[quantity])
                    point_rows.append(where | {"quantity": quantity, **vars(got)})
                if baseline is not None and alpha != baseline:
                    for quantity in ("mean_timesteps", "accuracy"):
                        effects.append(
                            where | paired(alpha, protocol, g, baseline, protocol, quantity)
                        )
        for g, policy in enumerate(names if len(protocols) == 2 else []):
            # how much more the paper protocol promises than the held-out one, on the
            # same test samples: its optimism
            for quantity in ("mean_timesteps", "accuracy"):
                gaps.append(
                    {"alpha": alpha, "policy": policy}
                    | paired(alpha, "paper", g, alpha, "held-out", quantity)
                )
    return tuple(pd.DataFrame(t) for t in (fixed, point_rows, effects, gaps))
