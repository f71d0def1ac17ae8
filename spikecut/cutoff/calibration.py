"""Per-step threshold calibration for score-based cutoffs (SPEC §2, Top-K rule).

At step t a candidate threshold b selects the calibration samples with score > b; its
confidence is the share of them whose prediction is already final and correct
(OCT <= t). The threshold is the smallest candidate with confidence >= 1 - epsilon.
Where no candidate qualifies the step never fires (threshold +inf).
"""

from __future__ import annotations

import numpy as np

# Absorbs float error in (1 - epsilon) * count so that, e.g., 99 of 100 meets 0.99.
_TOL = 1e-9


def _qualifies(correct: np.ndarray, count: np.ndarray, epsilon: float) -> np.ndarray:
    return (count > 0) & (correct >= (1.0 - epsilon) * count - _TOL)


class ExactCalibration:
    """Every candidate threshold's confidence per step, computed once, so thresholds for
    any number of epsilons cost a comparison each.

    The candidates are 0 and every distinct score below the largest one, the exact
    counterpart of the authors' grid on [0, max). For each, the selected set is a suffix
    of the sorted scores, so one sort and one cumulative sum per step give every
    candidate's confidence at once.
    """

    def __init__(self, scores: np.ndarray, reached: np.ndarray):
        """``scores`` and ``reached`` = (OCT <= t), both ``[N, T]``."""
        n = scores.shape[0]
        self.steps = []
        for t in range(scores.shape[1]):
            order = np.argsort(scores[:, t], kind="stable")
            s = scores[order, t]
            # suffix_correct[i] = reached samples among sorted positions i..n-1
            suffix_correct = np.concatenate([np.cumsum(reached[order, t][::-1])[::-1], [0]])
            candidates = np.unique(np.concatenate([[0.0], s]))
            candidates = candidates[candidates < s[-1]]
            first_above = np.searchsorted(s, candidates, side="right")
            self.steps.append((candidates, suffix_correct[first_above], n - first_above))

    def thresholds(self, epsilon: float) -> np.ndarray:
        """The smallest qualifying candidate per step ``[T]``; +inf where none does."""
        _check_epsilon(epsilon)
        out = np.full(len(self.steps), np.inf)
        for t, (candidates, correct, count) in enumerate(self.steps):
            ok = _qualifies(correct, count, epsilon)
            if ok.any():
                out[t] = candidates[ok.argmax()]
        return out


def _check_epsilon(epsilon: float) -> None:
    if not 0.0 <= epsilon < 1.0:
        raise ValueError(f"epsilon must be in [0, 1), got {epsilon}")


def calibrate_exact(scores: np.ndarray, reached: np.ndarray, epsilon: float) -> np.ndarray:
    """Exact thresholds ``[T]`` for one epsilon (see :class:`ExactCalibration`)."""
    _check_epsilon(epsilon)
    return ExactCalibration(scores, reached).thresholds(epsilon)


def calibrate_grid(scores: np.ndarray, reached: np.ndarray, epsilon: float,
                   n_candidates: int = 100) -> np.ndarray:
    """The authors' variant: ``n_candidates`` evenly spaced candidates on [0, max score)
    per step; where none qualifies it falls back to the largest candidate."""
    _check_epsilon(epsilon)
    n_steps = scores.shape[1]
    out = np.empty(n_steps)
    for t in range(n_steps):
        s, r = scores[:, t], reached[:, t]
        candidates = np.linspace(0.0, s.max(), n_candidates, endpoint=False)
        above = s[None, :] > candidates[:, None]
        ok = _qualifies((above & r[None, :]).sum(1), above.sum(1), epsilon)
        out[t] = candidates[ok.argmax()] if ok.any() else candidates[-1]
    return out
