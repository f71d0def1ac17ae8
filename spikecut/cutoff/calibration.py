"""Per-step threshold calibration for score-based cutoffs (docs/method.md §3).

At step t a candidate threshold b selects the calibration samples that would stop there:
score > b for a strict rule (Top-K), score >= b for an inclusive one (confidence,
entropy). Its confidence is the share of them whose prediction is already final and
correct (OCT <= t). The threshold is the smallest candidate with confidence >= 1 - epsilon.
Where no candidate qualifies the step never fires (threshold +inf).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Absorbs float error in (1 - epsilon) * count so that, e.g., 99 of 100 meets 0.99.
_TOL = 1e-9


def _qualifies(correct: np.ndarray, count: np.ndarray, epsilon: float) -> np.ndarray:
    return (count > 0) & (correct >= (1.0 - epsilon) * count - _TOL)


def _check_epsilon(epsilon: float) -> None:
    if not 0.0 <= epsilon < 1.0:
        raise ValueError(f"epsilon must be in [0, 1), got {epsilon}")


@dataclass(frozen=True)
class _SortedStep:
    """One step's calibration scores in ascending order, with how many of the samples
    at each sorted position and above have reached their final answer."""

    scores: np.ndarray  # [n], ascending
    suffix_reached: np.ndarray  # [n + 1]; suffix_reached[i] = reached among positions >= i

    @classmethod
    def of(cls, scores: np.ndarray, reached: np.ndarray) -> _SortedStep:
        order = np.argsort(scores, kind="stable")
        suffix = np.concatenate([np.cumsum(reached[order][::-1])[::-1], [0]])
        return cls(scores[order], suffix)

    def selected(self, candidates: np.ndarray, inclusive: bool) -> tuple[np.ndarray, np.ndarray]:
        """(reached, count) of the samples each candidate selects."""
        first = np.searchsorted(self.scores, candidates, side="left" if inclusive else "right")
        return self.suffix_reached[first], len(self.scores) - first


class ExactCalibration:
    """Every candidate threshold's confidence per step, computed once, so thresholds for
    any number of epsilons cost a comparison each.

    The candidates are ``floor`` (the rule's least demanding threshold: 0 for Top-K,
    -inf for the inclusive rules, which then select every sample) and every distinct
    score that selects anyone. Each selects a suffix of the sorted scores, so one sort
    and one cumulative sum per step give every candidate's confidence at once.
    """

    def __init__(
        self, scores: np.ndarray, reached: np.ndarray, floor: float = 0.0, inclusive: bool = False
    ):
        """``scores`` and ``reached`` = (OCT <= t), both ``[N, T]``."""
        self.steps = []
        for t in range(scores.shape[1]):
            step = _SortedStep.of(scores[:, t], reached[:, t])
            s = step.scores
            candidates = np.unique(np.concatenate([[floor], s[s >= floor]]))
            if not inclusive:  # the largest score itself selects nobody
                candidates = candidates[candidates < s[-1]]
            self.steps.append((candidates, *step.selected(candidates, inclusive)))

    def thresholds(self, epsilon: float) -> np.ndarray:
        """The smallest qualifying candidate per step ``[T]``; +inf where none does."""
        _check_epsilon(epsilon)
        out = np.full(len(self.steps), np.inf)
        for t, (candidates, correct, count) in enumerate(self.steps):
            ok = _qualifies(correct, count, epsilon)
            if ok.any():
                out[t] = candidates[ok.argmax()]
        return out


def calibrate_exact(
    scores: np.ndarray,
    reached: np.ndarray,
    epsilon: float,
    floor: float = 0.0,
    inclusive: bool = False,
) -> np.ndarray:
    """Exact thresholds ``[T]`` for one epsilon (see :class:`ExactCalibration`)."""
    _check_epsilon(epsilon)
    return ExactCalibration(scores, reached, floor, inclusive).thresholds(epsilon)


def grid_candidates(scores: np.ndarray, n_candidates: int = 100) -> np.ndarray:
    """The authors' Top-K candidates m G / n, m = 0..n-1, where G is the largest gap
    over all calibration samples and all steps: one grid shared by every step."""
    if n_candidates < 1:
        raise ValueError(f"the grid needs at least one candidate, got {n_candidates}")
    return np.arange(n_candidates) * (float(scores.max()) / n_candidates)


class GridCalibration:
    """The authors' variant of the strict (Top-K) rule on :func:`grid_candidates`, every
    candidate's confidence per step computed once. As in their code, the last
    candidate's confidence is forced to 1, so a step where no other candidate qualifies
    falls back to it."""

    def __init__(self, scores: np.ndarray, reached: np.ndarray, n_candidates: int = 100):
        self.candidates = grid_candidates(scores, n_candidates)
        self.steps = [
            _SortedStep.of(scores[:, t], reached[:, t]).selected(self.candidates, inclusive=False)
            for t in range(scores.shape[1])
        ]

    def thresholds(self, epsilon: float) -> np.ndarray:
        _check_epsilon(epsilon)
        out = np.empty(len(self.steps))
        for t, (correct, count) in enumerate(self.steps):
            ok = _qualifies(correct, count, epsilon)
            ok[-1] = True
            out[t] = self.candidates[ok.argmax()]
        return out


def calibrate_grid(
    scores: np.ndarray, reached: np.ndarray, epsilon: float, n_candidates: int = 100
) -> np.ndarray:
    """Grid thresholds ``[T]`` for one epsilon (see :class:`GridCalibration`)."""
    return GridCalibration(scores, reached, n_candidates).thresholds(epsilon)
