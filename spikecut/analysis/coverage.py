"""How often the intervals hold the truth: a simulation of whole experiments.

A model of per-sample exits with known population values draws experiments of the
default run's shape (three seeds, thousands of test and validation samples, an
alpha = 0 and a regularised model); each goes through the protocols and the bootstrap
of :func:`spikecut.analysis.evidence.evaluate`, and the coverage is the share of the
95 % intervals that hold the true value.

The model. A sample becomes right at step ``c`` and stays right (or is never right),
and its output grows confident ``j`` steps before it becomes right (an early, wrong
exit when ``j > 0``). A fixed T exits every sample at T; Top-K at level ``k`` exits at
``min(T, max(1, c - j) + k)``. A run's network learns with hazard ``sigmoid(base + z)``:
``P(c = t)`` is geometric in ``t`` (the tail at T), and a share ``never * exp(-z)`` of
samples is never right, so seeds differ in speed and in accuracy. A seed draws
``z0 ~ N(0, seed_sd)``; each of its runs adds its own ``N(0, run_sd)``, so the runs of one
seed are alike but not the same; the regulariser adds ``effect`` to the logit. Samples
are shared by every run: one uniform draw per sample fixes its ``c`` through each run's
own distribution (and one its ``j``), so runs are paired by sample as real ones are.

The true value of a statistic is the mean over seeds of its per-seed value at the
operating points chosen on the population curves, which are exact sums over the
(c, j) cells; the mean over seeds is a Monte Carlo average over many seeds.

The model's limits: the seed effects are Gaussian on one logit; the samples' lead
``j`` does not depend on the seed; the population curves are monotone, so a policy's
choice only jumps at the tolerance's edge, never between distant knobs.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import special
from tqdm.auto import tqdm

from spikecut.analysis.evidence import RunSweep, Split, evaluate
from spikecut.analysis.protocols import choose_rows, policy_rows
from spikecut.cutoff.policies import BASELINE, PAPER

ALPHAS = ("0", "0.05")
# (quantity, table, label): the speed-ups of Top-K with the regulariser, and its effect
TARGETS = (
    ("speedup_at_tolerance", "points", "speedup_at_tolerance"),
    ("speedup_vs_full_T", "points", "speedup_vs_full_T"),
    ("mean_timesteps", "effects", "effect_on_timesteps"),
)


@dataclass(frozen=True)
class ExitModel:
    n_steps: int = 8
    levels: int = 6  # Top-K's thresholds, k = 0 .. levels - 1
    base: float = 0.4  # the hazard's logit for z = 0
    seed_sd: float = 0.3
    run_sd: float = 0.1  # each run's own part, beside its seed's
    effect: float = 0.15  # added to the logit by the regulariser
    never: float = 0.08  # samples never right, at z = 0
    # P(j = 0, 1, 2): Top-K's level 1 then lies 0.3 to 0.6 pp below full-T accuracy,
    # across the tolerance of 0.5 pp, so its choice jumps as on real runs
    lead: tuple[float, ...] = (0.94, 0.03, 0.03)

    @cached_property
    def knobs(self) -> pd.DataFrame:
        steps = np.arange(1, self.n_steps + 1, dtype=float)
        return pd.DataFrame(
            {
                "policy": [BASELINE] * self.n_steps + [PAPER] * self.levels,
                "parameter": ["T_fixed"] * self.n_steps + ["level"] * self.levels,
                "value": np.concatenate([steps, np.arange(self.levels, dtype=float)]),
            }
        )

    def exits(self, c: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Exit steps ``[P, ...]`` of samples right from step ``c`` (``n_steps + 1``:
        never) and confident ``j`` steps before."""
        T = self.n_steps
        confident = np.maximum(1, np.minimum(c, T) - j)
        fixed = np.broadcast_to(np.arange(1, T + 1).reshape((T,) + (1,) * c.ndim), (T,) + c.shape)
        levels = np.arange(self.levels).reshape((-1,) + (1,) * c.ndim)
        return np.concatenate([fixed, np.minimum(T, confident[None] + levels)])

    def step_probabilities(self, z: np.ndarray, treated: bool) -> np.ndarray:
        """``P(c = t)`` for t = 1 .. T + 1 (the last: never right), ``[..., T + 1]``."""
        z = np.asarray(z, dtype=float)[..., None]
        h = special.expit(self.base + z + self.effect * treated)
        t = np.arange(1, self.n_steps + 1)
        p = h * (1 - h) ** (t - 1)
        p[..., -1] = (1 - h[..., 0]) ** (self.n_steps - 1)  # the rest become right at T
        never = self.never * np.exp(-z)
        return np.concatenate([(1 - never) * p, never], -1)

    def population(self, z: np.ndarray, treated: bool) -> tuple[np.ndarray, np.ndarray]:
        """Exact accuracy and mean timesteps of every knob for the seeds ``z``,
        ``[..., P]`` each."""
        c = np.arange(1, self.n_steps + 2)[:, None]  # cells [T + 1, J]
        j = np.arange(len(self.lead))[None, :]
        c, j = np.broadcast_arrays(c, j)
        exits = self.exits(c, j)  # [P, T + 1, J]
        right = (exits >= c) & (c <= self.n_steps)
        cell = self.step_probabilities(z, treated)[..., :, None] * np.asarray(self.lead)
        return (
            np.einsum("...cj,pcj->...p", cell, right),
            np.einsum("...cj,pcj->...p", cell, exits),
        )

    def seeds(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``z`` of the alpha = 0 and the regularised run of ``n`` seeds, ``[n, 2]``."""
        shared = rng.normal(0.0, self.seed_sd, (n, 1))
        return shared + rng.normal(0.0, self.run_sd, (n, len(ALPHAS)))

    def per_seed(self, z: np.ndarray, max_loss_pp: float) -> dict[str, np.ndarray]:
        """Each target's per-seed value for seeds ``z`` ``[n, 2]``, at the operating
        points chosen on the population curves."""
        steps_at = []
        for k, treated in enumerate((False, True)):
            accuracy, steps = self.population(z[:, k], treated)
            rows, _ = choose_rows(accuracy, steps, self.knobs, max_loss_pp)
            steps_at.append(np.take_along_axis(steps, rows, axis=-1))  # [n, G]
        names = list(policy_rows(self.knobs))
        fixed, topk = names.index(BASELINE), names.index(PAPER)
        base, mine = steps_at
        return {
            "speedup_at_tolerance": base[:, fixed] / mine[:, topk],
            "speedup_vs_full_T": self.n_steps / mine[:, topk],
            "mean_timesteps": mine[:, topk] - base[:, topk],
        }

    def truth(self, max_loss_pp: float, n_seeds: int = 400_000) -> dict[str, float]:
        """The true value of each target: the per-seed value averaged over the seeds'
        distribution (a Monte Carlo mean, its error below 0.1 % of the values here)."""
        z = self.seeds(np.random.default_rng(12345), n_seeds)
        return {k: float(v.mean()) for k, v in self.per_seed(z, max_loss_pp).items()}

    def _split(self, u: np.ndarray, v: np.ndarray, z: float, treated: bool) -> Split:
        cdf = np.cumsum(self.step_probabilities(z, treated))
        c = 1 + np.searchsorted(cdf, u * cdf[-1], side="right")
        j = np.searchsorted(np.cumsum(self.lead), v * sum(self.lead), side="right")
        correct = np.arange(1, self.n_steps + 1)[None] >= c[:, None]
        return Split(self.exits(c, j), correct)

    def experiment(
        self, rng: np.random.Generator, n_seeds: int, n_test: int, n_val: int
    ) -> dict[tuple[str, int], RunSweep]:
        """One experiment's runs: every alpha and seed, on shared samples."""
        u, v = rng.random((2, n_test + n_val))
        z = self.seeds(rng, n_seeds)
        runs = {}
        for k, (alpha, treated) in enumerate(zip(ALPHAS, (False, True))):
            for s in range(n_seeds):
                test = self._split(u[:n_test], v[:n_test], z[s, k], treated)
                val = self._split(u[n_test:], v[n_test:], z[s, k], treated)
                runs[alpha, s] = RunSweep(self.knobs, test, val)
        return runs


def coverage(
    model: ExitModel,
    n_experiments: int,
    n_seeds: int = 3,
    n_test: int = 3500,
    n_val: int = 1000,
    max_loss_pp: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool = True,
    resample_seeds: bool = False,
) -> pd.DataFrame:
    """Each experiment's interval of each target under each protocol, with the truth
    and whether the interval holds it; ``resample_seeds``: by the percentile design
    that draws seeds instead of the t term."""
    truth = model.truth(max_loss_pp)
    rng = np.random.default_rng(seed)
    rows = []
    for e in tqdm(range(n_experiments), desc="experiments", disable=not progress):
        runs = model.experiment(rng, n_seeds, n_test, n_val)
        _, points, effects, _ = evaluate(
            runs, max_loss_pp, n_boot, seed=e, resample_seeds=resample_seeds
        )
        tables = {"points": points, "effects": effects}
        for quantity, table, label in TARGETS:
            got = tables[table]
            got = got[
                (got["alpha"] == ALPHAS[1])
                & (got["policy"] == PAPER)
                & (got["quantity"] == quantity)
            ]
            for r in got.itertuples():
                rows.append(
                    {
                        "experiment": e,
                        "protocol": r.protocol,
                        "quantity": label,
                        "truth": truth[quantity],
                        "estimate": r.estimate,
                        "low": r.low,
                        "high": r.high,
                        "covered": r.low <= truth[quantity] <= r.high,
                    }
                )
    return pd.DataFrame(rows)


def rates(table: pd.DataFrame) -> pd.DataFrame:
    """Per protocol and quantity: the coverage with its 95 % Wilson interval, the bias
    of the estimate and the mean interval width."""
    out = []
    for (protocol, quantity), rows in table.groupby(["protocol", "quantity"], sort=False):
        n, k = len(rows), int(rows["covered"].sum())
        low, high = _wilson(k, n)
        out.append(
            {
                "protocol": protocol,
                "quantity": quantity,
                "truth": rows["truth"].iloc[0],
                "experiments": n,
                "coverage": k / n,
                "coverage_low": low,
                "coverage_high": high,
                "mean_estimate": rows["estimate"].mean(),
                "mean_width": (rows["high"] - rows["low"]).mean(),
            }
        )
    return pd.DataFrame(out)


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m spikecut.analysis.coverage",
        description="Measure how often the summary's 95 % intervals hold the true value, "
        "on simulated experiments of the default run's shape.",
    )
    parser.add_argument("--experiments", type=int, default=200)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per experiment")
    parser.add_argument("--seed", type=int, default=0, help="of the simulation")
    parser.add_argument(
        "--resample-seeds",
        action="store_true",
        help="draw the seeds with replacement instead of the t term (the design it replaced)",
    )
    parser.add_argument("--out", help="CSV of every interval (optional)")
    args = parser.parse_args(argv)
    table = coverage(
        ExitModel(),
        args.experiments,
        n_seeds=args.seeds,
        n_boot=args.replicates,
        seed=args.seed,
        resample_seeds=args.resample_seeds,
    )
    if args.out:
        table.to_csv(args.out, index=False)
    print(rates(table).to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
