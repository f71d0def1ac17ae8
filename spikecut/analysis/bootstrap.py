"""Bootstrap intervals over test samples and seeds (docs/method.md §10).

One replicate draws the seeds with replacement and, independently, the test samples
and the validation samples with replacement. The drawn samples are the same for every
run that shares the splits (each policy, each alpha, each seed of a data set and
method), so comparisons between them are paired; a statistic is computed per seed on
the drawn samples and averaged over the drawn seeds. The interval is the percentile interval of the
replicates; the estimate is the statistic on the data as they are.

scipy's ``stats.bootstrap`` resamples one level (with ``paired`` across samples); it
has no resampling of seeds and samples together, hence this module, on numpy's RNG and
percentiles.

A statistic is a function of a :class:`Resamples`: it reads per-sample arrays through
:meth:`Resamples.sample_means` and reduces per-seed values with
:meth:`Resamples.over_seeds`, so the same function gives the estimate (on
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
    """``B`` replicates: ``seeds`` ``[B, S]``, test ``samples`` ``[B, N]`` and, where a
    validation split chooses operating points, ``val_samples`` ``[B, N_val]``: indices
    drawn with replacement."""

    seeds: np.ndarray
    samples: np.ndarray
    val_samples: np.ndarray | None = None

    @classmethod
    def draw(
        cls,
        n_seeds: int,
        n_samples: int,
        n_boot: int = 2000,
        seed: int = 0,
        n_val: int | None = None,
    ) -> Resamples:
        if n_seeds < 1 or n_samples < 1 or n_boot < 1 or (n_val is not None and n_val < 1):
            raise ValueError(
                "a bootstrap needs at least one seed, one sample (of each split) and one "
                f"replicate; got {n_seeds} seeds, {n_samples} test and "
                f"{n_val} validation samples and {n_boot} replicates"
            )
        rng = np.random.default_rng(seed)
        seeds = rng.integers(0, n_seeds, (n_boot, n_seeds))
        samples = rng.integers(0, n_samples, (n_boot, n_samples))
        val = None if n_val is None else rng.integers(0, n_val, (n_boot, n_val))
        return cls(seeds, samples, val)

    @classmethod
    def identity(cls, n_seeds: int, n_samples: int, n_val: int | None = None) -> Resamples:
        """One "replicate" that is the data themselves: every seed and sample once."""
        val = None if n_val is None else np.arange(n_val)[None]
        return cls(np.arange(n_seeds)[None], np.arange(n_samples)[None], val)

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
        over the replicate's seeds, ``[B, ...]``."""
        index = self.seeds.reshape(self.seeds.shape + (1,) * (per_seed.ndim - 2))
        return np.take_along_axis(per_seed, index, axis=1).mean(axis=1)


Statistic = Callable[[Resamples], np.ndarray]


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def excludes(self, value: float = 0.0) -> bool:
        return not self.low <= value <= self.high


def interval(
    statistic: Statistic, data: Resamples, resamples: Resamples, level: float = 0.95
) -> Interval:
    """The estimate of ``statistic`` on ``data`` (:meth:`Resamples.identity`) and its
    percentile interval over ``resamples``."""
    estimate = float(statistic(data)[0])
    replicates = statistic(resamples)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return Interval(estimate, float(low), float(high))
