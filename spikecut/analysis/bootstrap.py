"""Bootstrap intervals over test samples and seeds (docs/method.md §10).

One replicate draws the seeds with replacement and, independently, the test samples
with replacement. The drawn samples are the same for every run that shares the test
set (each policy, each alpha, each seed of a data set and method), so comparisons
between them are paired; a statistic is computed per seed on the drawn samples and
averaged over the drawn seeds. The interval is the percentile interval of the
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


@dataclass(frozen=True)
class Resamples:
    """``B`` replicates: ``seeds`` ``[B, S]`` and ``samples`` ``[B, N]``, indices drawn
    with replacement."""

    seeds: np.ndarray
    samples: np.ndarray

    @classmethod
    def draw(cls, n_seeds: int, n_samples: int, n_boot: int = 2000, seed: int = 0) -> Resamples:
        if n_seeds < 1 or n_samples < 1 or n_boot < 1:
            raise ValueError(
                "a bootstrap needs at least one seed, one sample and one "
                f"replicate; got {n_seeds}, {n_samples} and {n_boot}"
            )
        rng = np.random.default_rng(seed)
        return cls(
            rng.integers(0, n_seeds, (n_boot, n_seeds)),
            rng.integers(0, n_samples, (n_boot, n_samples)),
        )

    @classmethod
    def identity(cls, n_seeds: int, n_samples: int) -> Resamples:
        """One "replicate" that is the data themselves: every seed and sample once."""
        return cls(np.arange(n_seeds)[None], np.arange(n_samples)[None])

    @property
    def n_samples(self) -> int:
        return self.samples.shape[1]

    @cached_property
    def weights(self) -> np.ndarray:
        """How often each sample is drawn, over N: ``[B, N]``, rows sum to 1."""
        n = self.n_samples
        counts = np.stack([np.bincount(row, minlength=n) for row in self.samples])
        return counts / n

    def sample_means(self, x: np.ndarray) -> np.ndarray:
        """The mean over each replicate's samples of ``x`` ``[..., N]``: ``[B, ...]``."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.n_samples:
            raise ValueError(
                f"per-sample arrays must end in N = {self.n_samples}, got shape {x.shape}"
            )
        return np.moveaxis(np.tensordot(x, self.weights, axes=([-1], [1])), -1, 0)

    def over_seeds(self, per_seed: np.ndarray) -> np.ndarray:
        """``[B, S]`` per-seed values under each replicate's samples: their mean over
        the replicate's seeds, ``[B]``."""
        return np.take_along_axis(per_seed, self.seeds, axis=1).mean(axis=1)


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
