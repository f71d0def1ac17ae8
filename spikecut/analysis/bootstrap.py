"""Bootstrap intervals over test samples and seeds (docs/method.md §10).

A statistic is computed per seed and averaged over the seeds. Its two sources of noise
are treated apart:

- *samples*: one replicate draws the test samples and, where a validation split
  chooses operating points, the validation samples, with replacement. The drawn
  samples are the same for every run that shares the splits (each policy, each alpha,
  each seed of a data set and method), so comparisons between them are paired.
- *seeds*: a handful of seeds is too few to resample. A percentile bootstrap of three
  values spreads their mean by their plain standard deviation over √3 and no more,
  well under half of what a t interval with two degrees of freedom gives, and in a
  simulation of the default run its intervals held the truth too seldom
  (:mod:`spikecut.analysis.coverage`, docs/evidence.md). Each replicate instead adds to
  its mean over all seeds a draw of Student's t with S - 1 degrees of freedom times
  the standard error of that mean over seeds, computed in the same replicate.

The interval is the percentile interval of the replicates, cut to the values the
statistic can take; the estimate is the statistic on the data as they are. scipy's
``stats.bootstrap`` resamples one level and adds nothing per replicate, hence this
module, on numpy's RNG and percentiles.

A statistic is a function of a :class:`Resamples`: it reads per-sample arrays through
:meth:`Resamples.sample_means` (:meth:`Resamples.val_means`) and reduces per-seed
values with :meth:`Resamples.over_seeds`, so the same function gives the estimate (on
:meth:`Resamples.identity`) and the replicates (on :meth:`Resamples.draw`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np


def _counts(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``n`` samples is drawn in each row of ``indices``: ``[B, n]``."""
    return np.stack([np.bincount(row, minlength=n) for row in indices]).astype(np.float64)


def _means(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The count-weighted mean over the last axis of ``x`` per replicate, ``[B, ...]``.
    Counts are whole numbers, so integer and boolean arrays sum exactly: equal counts
    give equal means, bit for bit, which the choice of an operating point compares."""
    x = np.asarray(x, dtype=np.float64)
    n = counts.shape[1]
    if x.shape[-1] != n:
        raise ValueError(f"per-sample arrays must end in N = {n}, got shape {x.shape}")
    return np.moveaxis(np.tensordot(x, counts, axes=([-1], [1])), -1, 0) / n


@dataclass(frozen=True)
class Resamples:
    """``B`` replicates: ``seed_t`` ``[B]``, the seeds' Student-t draws (0 for the data
    themselves); test ``samples`` ``[B, N]`` and, where a validation split chooses
    operating points, ``val_samples`` ``[B, N_val]``, indices drawn with replacement."""

    seed_t: np.ndarray
    samples: np.ndarray
    val_samples: np.ndarray | None = None
    # [B, S] seeds drawn with replacement instead of the t term: the percentile design,
    # kept to measure how much it under-covers (spikecut.analysis.coverage)
    seeds: np.ndarray | None = None

    @classmethod
    def draw(
        cls,
        n_seeds: int,
        n_samples: int,
        n_boot: int = 2000,
        seed: int = 0,
        n_val: int | None = None,
        resample_seeds: bool = False,
    ) -> Resamples:
        if n_seeds < 1 or n_samples < 1 or n_boot < 1 or (n_val is not None and n_val < 1):
            raise ValueError(
                "a bootstrap needs at least one seed, one sample (of each split) and one "
                f"replicate; got {n_seeds} seeds, {n_samples} test and "
                f"{n_val} validation samples and {n_boot} replicates"
            )
        rng = np.random.default_rng(seed)
        seeds = None
        if resample_seeds:
            seeds = rng.integers(0, n_seeds, (n_boot, n_seeds))
            seed_t = np.zeros(n_boot)
        elif n_seeds > 1:
            seed_t = rng.standard_t(n_seeds - 1, n_boot)
        else:  # one seed has no spread to scale: its intervals hold the samples' noise
            seed_t = np.zeros(n_boot)
        samples = rng.integers(0, n_samples, (n_boot, n_samples))
        val = None if n_val is None else rng.integers(0, n_val, (n_boot, n_val))
        return cls(seed_t, samples, val, seeds)

    @classmethod
    def identity(cls, n_samples: int, n_val: int | None = None) -> Resamples:
        """One "replicate" that is the data themselves: every sample once, no seed draw."""
        val = None if n_val is None else np.arange(n_val)[None]
        return cls(np.zeros(1), np.arange(n_samples)[None], val)

    @property
    def n_samples(self) -> int:
        return self.samples.shape[1]

    @cached_property
    def _test_counts(self) -> np.ndarray:
        return _counts(self.samples, self.n_samples)

    @cached_property
    def _val_counts(self) -> np.ndarray:
        if self.val_samples is None:
            raise ValueError("these replicates draw no validation samples")
        return _counts(self.val_samples, self.val_samples.shape[1])

    def sample_means(self, x: np.ndarray) -> np.ndarray:
        """The mean over each replicate's test samples of ``x`` ``[..., N]``: ``[B, ...]``."""
        return _means(x, self._test_counts)

    def val_means(self, x: np.ndarray) -> np.ndarray:
        """The same over the validation samples, ``x`` ``[..., N_val]``."""
        return _means(x, self._val_counts)

    def over_seeds(self, per_seed: np.ndarray) -> np.ndarray:
        """``[B, S, ...]`` per-seed values under each replicate's samples: their mean
        over the seeds plus the replicate's t draw times that mean's standard error (or
        the mean over the replicate's drawn seeds), ``[B, ...]``."""
        if self.seeds is not None:
            index = self.seeds.reshape(self.seeds.shape + (1,) * (per_seed.ndim - 2))
            return np.take_along_axis(per_seed, index, axis=1).mean(axis=1)
        mean = per_seed.mean(axis=1)
        n_seeds = per_seed.shape[1]
        if n_seeds == 1:
            return mean
        error = per_seed.std(axis=1, ddof=1) / np.sqrt(n_seeds)
        return mean + self.seed_t.reshape((-1,) + (1,) * (mean.ndim - 1)) * error


Statistic = Callable[[Resamples], np.ndarray]


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def excludes(self, value: float = 0.0) -> bool:
        return not self.low <= value <= self.high


def interval(
    statistic: Statistic,
    data: Resamples,
    resamples: Resamples,
    level: float = 0.95,
    bounds: tuple[float, float] = (-np.inf, np.inf),
) -> Interval:
    """The estimate of ``statistic`` on ``data`` (:meth:`Resamples.identity`) and its
    percentile interval over ``resamples``, cut to ``bounds``, the values the statistic
    can take: with few seeds the t draws reach past them (an accuracy below 0)."""
    estimate = float(statistic(data)[0])
    replicates = statistic(resamples)
    tail = 100 * (1 - level) / 2
    low, high = np.clip(np.percentile(replicates, [tail, 100 - tail]), *bounds)
    return Interval(estimate, float(low), float(high))
