"""Cutoff policies behind one interface.

A policy turns the recorded per-step outputs of the test set (and, if it calibrates,
of the calibration set) into operating points: one exit step per test sample for each
setting of its knob. Accuracy and mean timesteps follow from the exit steps alone, so
every policy is judged the same way.

Label-free policies that stop "at the first t where score(t) > threshold(t)" share
:class:`ScorePolicy`; a new rule of that kind only defines its score.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from spikecut.cutoff.calibration import ExactCalibration, calibrate_grid
from spikecut.cutoff.steps import StepOutputs, first_firing_step


@dataclass(frozen=True)
class OperatingPoint:
    policy: str
    parameter: str  # the knob's name: "T_fixed", "epsilon", ...
    value: float
    exit_steps: np.ndarray  # [N], 1-based


class Policy(ABC):
    name: str
    needs_calibration: bool = False

    @abstractmethod
    def operating_points(
        self, test: StepOutputs, calibration: StepOutputs | None, epsilons: Sequence[float],
        raw: int = 0,
    ) -> Iterator[OperatingPoint]:
        """Every operating point of the policy on ``test``: one per epsilon for a
        calibrated policy, plus ``raw`` points of its uncalibrated knob where it has one,
        reported as policy ``<name>-raw``."""

    def stopping_rule(self, calibration: StepOutputs | None, knob: float) -> StoppingRule:
        """The decision at one step, for inference that really stops: from Y(t) of the
        samples still running and t (1-based), which of them stop now. ``knob`` is
        epsilon for calibrated policies and T_fixed for the fixed timestep."""
        raise ValueError(f"policy {self.name!r} cannot decide online")


# (Y(t) of the running samples [B, C], t) -> which of them stop at t [B]
StoppingRule = Callable[[np.ndarray, int], np.ndarray]


def _at_step(accumulated: np.ndarray) -> StepOutputs:
    """Y(t) of a batch as a one-step recording, for the scores defined on recordings."""
    return StepOutputs(accumulated[:, None, :], np.zeros(len(accumulated), dtype=np.int64))


class FixedTimestep(Policy):
    """Stop every sample at the same T_fixed, for T_fixed = 1..T: the baseline."""

    name = "timestep"

    def stopping_rule(self, calibration, knob):
        return lambda accumulated, t: np.full(len(accumulated), t >= int(knob))

    def operating_points(self, test, calibration, epsilons, raw=0):
        n = len(test.labels)
        for t in range(1, test.n_steps + 1):
            yield OperatingPoint(self.name, "T_fixed", t, np.full(n, t))


class OracleCutoff(Policy):
    """Stop at each sample's optimal cutoff timestep, which needs the label: the bound
    any label-free policy can hope for at the accuracy of T."""

    name = "oct"

    def operating_points(self, test, calibration, epsilons, raw=0):
        yield OperatingPoint(self.name, "oracle", np.nan, test.oct)


def _require(calibration: StepOutputs | None, name: str) -> StepOutputs:
    if calibration is None:
        raise ValueError(f"policy {name!r} needs calibration outputs")
    return calibration


def raw_grid(values: np.ndarray, n: int) -> np.ndarray:
    """``n`` thresholds spread over the observed ``values`` by quantile, so every knob
    gets points where its scores actually lie whatever their scale."""
    return np.unique(np.quantile(values, np.linspace(0.0, 1.0, n, endpoint=False)))


def exits_at_constant_thresholds(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Exit steps ``[R, N]`` of "stop at the first t where score(t) > threshold" for each
    of ``R`` thresholds held constant over t. The running maximum m(t) of the score
    fires exactly when the score first does, and m is non-decreasing, so the exit step is
    1 + the number of steps with m(t) <= threshold (capped at T)."""
    running = np.maximum.accumulate(scores, axis=1)
    not_yet = (running[None, :, :] <= thresholds[:, None, None]).sum(axis=2)
    return np.minimum(not_yet + 1, scores.shape[1])


class ScorePolicy(Policy):
    """Stop at the first t where score(t) > threshold(t). Calibrated, the threshold of
    each step is the smallest for which at least 1 - epsilon of the calibration samples
    that would stop at t are already at their final correct answer (OCT <= t). Raw, one
    threshold holds for every step."""

    needs_calibration = True
    raw_parameter = "threshold"

    def __init__(self, grid: int | None = None):
        self.grid = grid

    @abstractmethod
    def scores(self, outputs: StepOutputs) -> np.ndarray:
        """``[N, T]``, larger is more confident."""

    def raw_value(self, threshold: float) -> float:
        """The threshold in the knob's own unit, as reported."""
        return float(threshold)

    def calibrated(self, calibration: StepOutputs, scores: np.ndarray | None = None
                   ) -> Callable[[float], np.ndarray]:
        """epsilon -> per-step thresholds ``[T]``; the exact calibration sorts each
        step's scores once, whatever the number of epsilons asked for afterwards.
        ``scores`` are the calibration set's, where the caller has them already."""
        scores = self.scores(calibration) if scores is None else scores
        reached = calibration.oct[:, None] <= np.arange(1, calibration.n_steps + 1)
        if self.grid is None:
            return ExactCalibration(scores, reached).thresholds
        return lambda epsilon: calibrate_grid(scores, reached, epsilon, self.grid)

    def thresholds(self, calibration: StepOutputs, epsilon: float) -> np.ndarray:
        return self.calibrated(calibration)(epsilon)

    def exit_steps(self, outputs: StepOutputs, thresholds: np.ndarray) -> np.ndarray:
        return first_firing_step(self.scores(outputs) > thresholds[None, :])

    def stopping_rule(self, calibration, knob):
        thresholds = self.thresholds(_require(calibration, self.name), knob)

        def rule(accumulated, t):
            return self.scores(_at_step(accumulated))[:, 0] > thresholds[t - 1]
        return rule

    def operating_points(self, test, calibration, epsilons, raw=0):
        calibration = _require(calibration, self.name)
        cal_scores, test_scores = self.scores(calibration), self.scores(test)
        if epsilons:
            thresholds = self.calibrated(calibration, cal_scores)
            for eps in epsilons:
                exits = first_firing_step(test_scores > thresholds(eps)[None, :])
                yield OperatingPoint(self.name, "epsilon", float(eps), exits)
        if raw:
            grid = raw_grid(cal_scores, raw)
            for thr, exits in zip(grid, exits_at_constant_thresholds(test_scores, grid)):
                yield OperatingPoint(f"{self.name}-raw", self.raw_parameter,
                                     self.raw_value(thr), exits)


class TopK(ScorePolicy):
    """The paper's Top-K cutoff: the gap between the two largest accumulated outputs."""

    name = "topk"

    def scores(self, outputs: StepOutputs) -> np.ndarray:
        first, second = outputs.top2
        return first - second


class Confidence(ScorePolicy):
    """The largest softmax probability of Y(t) (SEENN-I's rule): stop once it passes a
    threshold."""

    name = "confidence"

    def scores(self, outputs: StepOutputs) -> np.ndarray:
        return outputs.max_probability.astype(np.float64)


class Entropy(ScorePolicy):
    """The entropy of softmax(Y(t)) (DT-SNN's rule): stop once it falls below h. The
    score is the negative entropy, so that larger is more confident; raw points report
    h itself, in nats."""

    name = "entropy"
    raw_parameter = "entropy"

    def scores(self, outputs: StepOutputs) -> np.ndarray:
        return outputs.neg_entropy.astype(np.float64)

    def raw_value(self, threshold: float) -> float:
        return -float(threshold)


class SpikeCP(Policy):
    """Conformal prediction sets per step (SpikeCP): with nonconformity 1 - p_y(t) on
    the calibration set, the set at step t holds the classes c with 1 - p_c(t) <= q_t,
    q_t the conformal quantile at level alpha; stop at the first t whose set holds
    between 1 and ``max_set_size`` classes, reporting argmax Y(t).

    Calibrated to 1 - epsilon, every step uses alpha = epsilon / T (Bonferroni over the
    T possible stopping steps), so the set at the stopping step covers the label with
    probability at least 1 - epsilon on exchangeable data. Raw points sweep one per-step
    alpha without the correction.
    """

    name = "spikecp"
    needs_calibration = True

    def __init__(self, max_set_size: int = 1):
        if max_set_size < 1:
            raise ValueError(f"max_set_size must be at least 1, got {max_set_size}")
        self.max_set_size = max_set_size

    @staticmethod
    def nonconformity(outputs: StepOutputs) -> np.ndarray:
        """1 - p_y(t), ``[N, T]``."""
        p_true = np.take_along_axis(outputs.probabilities,
                                    outputs.labels[:, None, None], axis=2)[..., 0]
        return 1.0 - p_true.astype(np.float64)

    @staticmethod
    def quantiles(sorted_scores: np.ndarray, alpha: float) -> np.ndarray:
        """q_t ``[T]`` from each step's sorted calibration nonconformity ``[n, T]``: the
        ceil((n + 1)(1 - alpha))-th smallest, +inf when that exceeds n."""
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        n = sorted_scores.shape[0]
        rank = int(np.ceil((n + 1) * (1.0 - alpha) - 1e-9))
        return sorted_scores[rank - 1] if rank <= n else np.full(sorted_scores.shape[1], np.inf)

    def top_probabilities(self, outputs: StepOutputs) -> tuple[np.ndarray, np.ndarray]:
        """The largest and the (max_set_size + 1)-th largest probability, ``[N, T]``
        each (the latter 0 when there are no more classes)."""
        k = self.max_set_size
        if k == 1:  # p2 / p1 = exp(y2 - y1), from the cached top two of Y(t)
            first, second = outputs.top2
            ratio = np.exp((second - first).astype(np.float32))
            return outputs.max_probability, ratio * outputs.max_probability
        p = outputs.probabilities
        if k >= p.shape[2]:
            return outputs.max_probability, np.zeros(p.shape[:2], dtype=p.dtype)
        top = -np.partition(-p, k, axis=2)[..., : k + 1]
        return top.max(axis=2), top.min(axis=2)

    def exit_steps(self, first: np.ndarray, next_: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Stop where 1 <= |set| <= k: the top class is in (1 - p1 <= q) and the
        (k + 1)-th is not (1 - p_{k+1} > q)."""
        fires = (1.0 - first <= q[None, :]) & (1.0 - next_ > q[None, :])
        return first_firing_step(fires)

    def stopping_rule(self, calibration, knob):
        calibration = _require(calibration, self.name)
        cal_sorted = np.sort(self.nonconformity(calibration), axis=0)
        q = self.quantiles(cal_sorted, knob / calibration.n_steps)

        def rule(accumulated, t):
            first, next_ = (a[:, 0].astype(np.float64)
                            for a in self.top_probabilities(_at_step(accumulated)))
            return (1.0 - first <= q[t - 1]) & (1.0 - next_ > q[t - 1])
        return rule

    def operating_points(self, test, calibration, epsilons, raw=0):
        calibration = _require(calibration, self.name)
        cal_sorted = np.sort(self.nonconformity(calibration), axis=0)
        first, next_ = (a.astype(np.float64) for a in self.top_probabilities(test))
        for eps in epsilons:  # epsilon = 0 asks for certainty: the set never shrinks
            q = self.quantiles(cal_sorted, eps / test.n_steps)
            yield OperatingPoint(self.name, "epsilon", float(eps),
                                 self.exit_steps(first, next_, q))
        if raw:
            for alpha in np.linspace(0.0, 1.0, raw + 2)[1:-1]:
                q = self.quantiles(cal_sorted, alpha)
                yield OperatingPoint(f"{self.name}-raw", "alpha", float(alpha),
                                     self.exit_steps(first, next_, q))


POLICIES: dict[str, type[Policy]] = {
    p.name: p for p in (FixedTimestep, TopK, Confidence, Entropy, SpikeCP, OracleCutoff)
}


def make_policy(name: str, grid: int | None = None, max_set_size: int = 1) -> Policy:
    """Policy ``name``; ``grid`` applies to score policies, ``max_set_size`` to spikecp."""
    try:
        cls = POLICIES[name]
    except KeyError:
        raise ValueError(
            f"unknown cutoff policy {name!r}; choose from {sorted(POLICIES)}"
        ) from None
    if issubclass(cls, ScorePolicy):
        return cls(grid=grid)
    if cls is SpikeCP:
        return cls(max_set_size=max_set_size)
    return cls()
