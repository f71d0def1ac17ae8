"""Per-step outputs of an SNN and the quantities every cutoff policy is judged by.

Conventions (docs/method.md §1): logits are ``[N, T, C]``; the prediction at step t is the argmax
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
        # torch tensors (of any device) and lists are taken as arrays
        object.__setattr__(self, "logits", as_array(self.logits))
        object.__setattr__(self, "labels", as_array(self.labels))
        if self.logits.ndim != 3:
            raise ValueError(
                f"logits must be [N, T, C], the output at every step (not summed over "
                f"steps), got shape {self.logits.shape}"
            )
        n, _, classes = self.logits.shape
        if n == 0 or self.logits.shape[1] == 0:
            raise ValueError(f"logits hold no samples or no steps: shape {self.logits.shape}")
        if classes < 2:
            raise ValueError("cutoff needs at least two classes")
        if self.labels.shape != (n,):
            hint = ""
            if self.labels.shape == (self.logits.shape[1],):
                hint = (
                    "; the logits look time-major [T, N, C]: transpose them, e.g. with "
                    "spikecut.outputs.save_outputs(path, logits, labels, time_major=True)"
                )
            raise ValueError(f"labels must be [N] = [{n}], got {self.labels.shape}{hint}")
        # dtype kinds: b bool, i and u integers, f floats
        if self.labels.dtype.kind not in "iuf":
            raise ValueError(
                f"labels must be integer class indices in [0, {classes}), got dtype "
                f"{self.labels.dtype}; map class names to indices first"
            )
        if self.logits.dtype.kind not in "biuf":  # bool: spikes
            raise ValueError(f"logits must be real numbers, got dtype {self.logits.dtype}")
        if not np.issubdtype(self.labels.dtype, np.integer):
            whole = np.isfinite(self.labels).all() and np.array_equal(
                self.labels, np.round(self.labels)
            )
            if not whole:
                raise ValueError("labels must be class indices (integers)")
            object.__setattr__(self, "labels", self.labels.astype(np.int64))
        bad = (self.labels < 0) | (self.labels >= classes)
        if bad.any():
            one_based = self.labels.min() == 1 and self.labels.max() == classes
            raise ValueError(
                f"labels must lie in [0, {classes}) for {classes} classes; "
                f"{int(bad.sum())} do not, e.g. {int(self.labels[bad][0])}"
                + ("; they look 1-based: subtract 1" if one_based else "")
            )
        if not np.isfinite(self.logits).all():
            raise ValueError("logits contain NaN or inf; re-record them from a healthy model")

    def check_matches(
        self, other: StepOutputs, what: str = "calibration", mine: str = "test"
    ) -> None:
        """Refuse ``other`` (the ``what`` outputs, e.g. the calibration set) if it has
        another T or C than these (the ``mine`` outputs)."""
        if other.logits.shape[1:] != self.logits.shape[1:]:
            raise ValueError(
                f"the {what} outputs are [N, T, C] = [*, {other.logits.shape[1]}, "
                f"{other.logits.shape[2]}] but the {mine} outputs are [*, {self.n_steps}, "
                f"{self.logits.shape[2]}]: record both with the same model and T"
            )

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
    def _log_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """(log R, D), ``[N, T]`` each, in float64, from which every softmax score
        follows without rounding confident samples together: with Y1 >= Y2 the two
        largest entries of Y(t), R = sum over c != top of exp(Y_c - Y1), and D the mean
        of Y1 - Y_c over c != top, weighted by exp(Y_c).

        log R = (Y2 - Y1) + log S, with S = sum over c != top of exp(Y_c - Y2) in
        [1, C - 1], so neither R nor S under- or overflows whatever the gap.
        """
        first, second = self.top2
        winners = self.predictions
        rows = np.arange(len(winners))
        log_rest, spread = np.empty(first.shape), np.empty(first.shape)
        for t in range(self.n_steps):  # [N, C] at a time: no float64 copy of all of Y
            z = self.accumulated[:, t] - second[:, t, None]
            z[rows, winners[:, t]] = 0.0
            w = np.exp(z)
            w[rows, winners[:, t]] = 0.0
            total = w.sum(axis=1)
            gap = first[:, t] - second[:, t]
            log_rest[:, t] = np.log(total) - gap
            # sum of w_c (Y1 - Y_c) = S * gap + sum of w_c (Y2 - Y_c)
            spread[:, t] = gap - np.einsum("nc,nc->n", w, z) / total
        return log_rest, spread

    @cached_property
    def log_partition(self) -> np.ndarray:
        """log Z, ``[N, T]``, with Z = sum of exp(Y_c - Y1): -log of the largest
        softmax probability."""
        return np.logaddexp(0.0, self._log_terms[0])

    @property
    def max_probability(self) -> np.ndarray:
        """The largest softmax probability of Y(t), ``[N, T]``, float64. It rounds to
        1.0 for confident samples; rank them by :attr:`confidence_logit` instead."""
        return np.exp(-self.log_partition)

    @property
    def confidence_logit(self) -> np.ndarray:
        """log(p1 / (1 - p1)) of the largest softmax probability p1, ``[N, T]``:
        increasing in p1 and exact for any gap (it is -log R)."""
        return -self._log_terms[0]

    @cached_property
    def log_entropy(self) -> np.ndarray:
        """log H of softmax(Y(t)), H in nats, ``[N, T]``, exact however small H is.

        H = log Z + (R / Z) D, so log H = log R + log(log1p(R) / R + D / Z).
        """
        log_rest, spread = self._log_terms
        rest = np.exp(log_rest)
        with np.errstate(divide="ignore", invalid="ignore"):
            # log1p(R) / R tends to 1 - R / 2 as R -> 0, where the division loses it
            ratio = np.where(rest > 1e-8, np.log1p(rest) / rest, 1.0 - rest / 2)
        return log_rest + np.log(ratio + spread * np.exp(-self.log_partition))

    def surprisal(self, values: np.ndarray) -> np.ndarray:
        """-log p_c of softmax(Y(t)) for the class c whose entry of Y(t) is
        ``values`` ``[N, T]``: log Z + (Y1 - Y_c). One expression for every class, the
        top one included, so that equal outputs give equal values wherever a caller
        took them from."""
        return self.log_partition + (self.top2[0] - values)

    def label_values(self) -> np.ndarray:
        """Y_y(t), the entry of the label, ``[N, T]``."""
        return np.take_along_axis(self.accumulated, self.labels[:, None, None], axis=2)[..., 0]

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


def as_array(values) -> np.ndarray:
    """``values`` as a NumPy array; torch tensors of any device and dtype are taken
    without importing torch."""
    if hasattr(values, "detach"):
        values = values.detach().cpu()
        if str(values.dtype) == "torch.bfloat16":  # which NumPy has no dtype for
            values = values.float()
        values = values.numpy()
    return np.asarray(values)


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


def first_reaching(curves: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based index of the first entry of each curve ``[..., T]`` that reaches its
    target ``[...]``; T where none does."""
    reaches = curves >= np.asarray(targets)[..., None] - 1e-12
    return np.where(reaches.any(-1), reaches.argmax(-1) + 1, curves.shape[-1])


def first_firing_step(fires: np.ndarray) -> np.ndarray:
    """1-based first step at which ``fires`` ``[N, T]`` is true; T where it never is."""
    fires = fires.copy()
    fires[:, -1] = True
    return fires.argmax(axis=1) + 1
