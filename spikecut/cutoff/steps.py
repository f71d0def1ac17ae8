"""Per-step outputs of an SNN and the quantities every cutoff policy is judged by.

Conventions (SPEC §1): logits are ``[N, T, C]``; the prediction at step t is the argmax
of the accumulated raw output Y(t) = sum of o(tau) for tau <= t; timesteps count from 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class StepOutputs:
    """Per-step logits ``[N, T, C]`` of one set of samples with their labels ``[N]``."""

    logits: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if self.logits.ndim != 3:
            raise ValueError(f"logits must be [N, T, C], got shape {self.logits.shape}")
        if self.logits.shape[2] < 2:
            raise ValueError("cutoff needs at least two classes")
        if self.labels.shape != (self.logits.shape[0],):
            raise ValueError(
                f"labels must be [N] = [{self.logits.shape[0]}], got {self.labels.shape}"
            )
        if not np.isfinite(self.logits).all():
            raise ValueError("logits contain NaN or inf; re-record them from a healthy model")

    @property
    def n_steps(self) -> int:
        return self.logits.shape[1]

    @cached_property
    def accumulated(self) -> np.ndarray:
        """Y(t), ``[N, T, C]``, in float64 so that sums are order-stable."""
        # step by step over whole [N, C] slices: the same sums as np.cumsum over axis 1,
        # about twice as fast on this layout
        acc = self.logits.astype(np.float64)
        for t in range(1, acc.shape[1]):
            np.add(acc[:, t], acc[:, t - 1], out=acc[:, t])
        return acc

    @cached_property
    def _top(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return top_two(self.accumulated)

    @property
    def top2(self) -> tuple[np.ndarray, np.ndarray]:
        """The largest and second-largest entries of Y(t), ``[N, T]`` each."""
        return self._top[1], self._top[2]

    @cached_property
    def _softmax(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # one pass for all three: with z = Y - max Y and Z = sum exp(z), the largest
        # probability is 1 / Z and sum p log p = sum p z - log Z
        z = np.empty(self.accumulated.shape, dtype=np.float32)
        np.subtract(self.accumulated, self.top2[0][..., None], out=z, casting="same_kind")
        p = np.exp(z)
        partition = p.sum(axis=2)
        p /= partition[..., None]
        neg_entropy = np.einsum("ntc,ntc->nt", p, z) - np.log(partition)
        return p, 1.0 / partition, neg_entropy

    @property
    def probabilities(self) -> np.ndarray:
        """softmax(Y(t)) over classes, ``[N, T, C]``, float32: the confidence, entropy
        and conformal rules read it; argmax decisions stay on the float64 Y(t)."""
        return self._softmax[0]

    @property
    def max_probability(self) -> np.ndarray:
        """The largest softmax probability, ``[N, T]``."""
        return self._softmax[1]

    @property
    def neg_entropy(self) -> np.ndarray:
        """sum_c p_c log p_c of softmax(Y(t)), ``[N, T]``, in nats."""
        return self._softmax[2]

    @property
    def predictions(self) -> np.ndarray:
        """argmax Y(t), ``[N, T]``."""
        return self._top[0]

    @cached_property
    def correct(self) -> np.ndarray:
        """Whether argmax Y(t) is the label, ``[N, T]`` bool."""
        return self.predictions == self.labels[:, None]

    @cached_property
    def oct(self) -> np.ndarray:
        """Optimal cutoff timestep per sample, 1-based ``[N]``.

        The earliest t after which the prediction stays correct up to T; T for a sample
        that is wrong at T.
        """
        # correct at every t' >= t  <=>  reversed running AND
        stays_correct = np.logical_and.accumulate(self.correct[:, ::-1], axis=1)[:, ::-1]
        first = stays_correct.argmax(axis=1) + 1
        return np.where(stays_correct[:, -1], first, self.n_steps)

    def accuracy_at_exit(self, exit_steps: np.ndarray) -> float:
        """Accuracy when sample i reports argmax Y(exit_steps[i])."""
        return float(self.correct[np.arange(len(exit_steps)), exit_steps - 1].mean())

    def fixed_step_accuracy(self) -> np.ndarray:
        """Accuracy of stopping every sample at t, for t = 1..T, ``[T]``."""
        return self.correct.mean(axis=0)


def top_two(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The argmax, the largest and the second-largest entry along the last axis.

    An argmax, then a max with the winner masked: two passes and no copy of ``values``,
    which is written to in between and restored before returning.
    """
    winner = values.argmax(axis=-1)[..., None]
    first = np.take_along_axis(values, winner, axis=-1)
    np.put_along_axis(values, winner, -np.inf, axis=-1)
    try:
        second = values.max(axis=-1)
    finally:
        np.put_along_axis(values, winner, first, axis=-1)
    return winner[..., 0], first[..., 0], second


def top2_gap(accumulated: np.ndarray) -> np.ndarray:
    """top1 - top2 of the accumulated output, ``[N, T]``, for any array (it works on a
    copy; ``StepOutputs.top2`` does the same on its own Y(t) without one)."""
    _, first, second = top_two(np.array(accumulated, dtype=np.float64))
    return first - second


def first_firing_step(fires: np.ndarray) -> np.ndarray:
    """1-based first step at which ``fires`` ``[N, T]`` is true; T where it never is."""
    fires = fires.copy()
    fires[:, -1] = True
    return fires.argmax(axis=1) + 1
