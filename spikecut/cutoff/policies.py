"""Cutoff policies behind one interface.

A policy turns the recorded per-step outputs of the test set (and, if it calibrates,
of the calibration set) into operating points: one exit step per test sample for each
setting of its knob. Accuracy and mean timesteps follow from the exit steps alone, so
every policy is judged the same way.

Label-free policies that stop "at the first t where score(t) passes threshold(t)" share
:class:`ScorePolicy`; a new rule of that kind defines its score and whether passing is
strict (score > threshold, Top-K) or inclusive (score >= threshold).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from spikecut.cutoff.calibration import ExactCalibration, GridCalibration
from spikecut.cutoff.steps import StepOutputs, first_firing_step


@dataclass(frozen=True)
class OperatingPoint:
    policy: str
    parameter: str  # the knob's name: "T_fixed", "epsilon", ...
    value: float
    exit_steps: np.ndarray  # [N], 1-based


class Policy(ABC):
    name: str

    @classmethod
    def from_options(cls, grid: int | None = None, max_set_size: int = 1) -> Policy:
        """The policy with the cutoff options it takes (see :func:`make_policy`)."""
        return cls()

    @abstractmethod
    def operating_points(
        self,
        test: StepOutputs,
        calibration: StepOutputs | None,
        epsilons: Sequence[float],
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


def _require(
    calibration: StepOutputs | None, name: str, test: StepOutputs | None = None
) -> StepOutputs:
    if calibration is None:
        raise ValueError(f"policy {name!r} needs calibration outputs")
    if test is not None:
        test.check_matches(calibration)
    return calibration


def raw_grid(values: np.ndarray, n: int) -> np.ndarray:
    """``n`` thresholds spread over the observed ``values`` by quantile, so every knob
    gets points where its scores actually lie whatever their scale."""
    return np.unique(np.quantile(values, np.linspace(0.0, 1.0, n, endpoint=False)))


def exits_at_constant_thresholds(
    scores: np.ndarray, thresholds: np.ndarray, inclusive: bool = False
) -> np.ndarray:
    """Exit steps ``[R, N]`` of "stop at the first t where score(t) > threshold" (or
    ``>=`` where ``inclusive``) for each of ``R`` thresholds held constant over t. The
    running maximum m(t) of the score fires exactly when the score first does, and m is
    non-decreasing, so the exit step is 1 + the number of steps where m(t) does not fire
    (capped at T)."""
    running = np.maximum.accumulate(scores, axis=1)
    waits = np.less if inclusive else np.less_equal
    not_yet = waits(running[None, :, :], thresholds[:, None, None]).sum(axis=2)
    return np.minimum(not_yet + 1, scores.shape[1])


class ScorePolicy(Policy):
    """Stop at the first t where score(t) passes threshold(t): score > threshold for a
    strict rule, score >= threshold for an inclusive one. Calibrated, the threshold of
    each step is the smallest for which at least 1 - epsilon of the calibration samples
    that would stop at t are already at their final correct answer (OCT <= t). Raw, one
    threshold holds for every step."""

    raw_parameter = "threshold"
    inclusive = False
    # the least demanding calibrated threshold (see ExactCalibration)
    floor = -np.inf

    @abstractmethod
    def scores(self, outputs: StepOutputs) -> np.ndarray:
        """``[N, T]`` float64, larger is more confident."""

    def raw_value(self, threshold: float) -> float:
        """The threshold in the knob's own unit, as reported."""
        return float(threshold)

    def fires(self, scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        return scores >= thresholds if self.inclusive else scores > thresholds

    def calibrated(
        self, calibration: StepOutputs, scores: np.ndarray | None = None
    ) -> Callable[[float], np.ndarray]:
        """epsilon -> per-step thresholds ``[T]``; the exact calibration sorts each
        step's scores once, whatever the number of epsilons asked for afterwards.
        ``scores`` are the calibration set's, where the caller has them already."""
        scores = self.scores(calibration) if scores is None else scores
        return ExactCalibration(
            scores, _reached(calibration), self.floor, self.inclusive
        ).thresholds

    def thresholds(self, calibration: StepOutputs, epsilon: float) -> np.ndarray:
        return self.calibrated(calibration)(epsilon)

    def exit_steps(self, outputs: StepOutputs, thresholds: np.ndarray) -> np.ndarray:
        """Each sample's stopping step (1-based) under per-step ``thresholds`` ``[T]``."""
        return self._exits(self.scores(outputs), thresholds)

    def _exits(self, scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        return first_firing_step(self.fires(scores, thresholds[None, :]))

    def stopping_rule(self, calibration, knob):
        thresholds = self.thresholds(_require(calibration, self.name), knob)

        def rule(accumulated, t):
            return self.fires(self.scores(_at_step(accumulated))[:, 0], thresholds[t - 1])

        return rule

    def operating_points(self, test, calibration, epsilons, raw=0):
        calibration = _require(calibration, self.name, test)
        cal_scores, test_scores = self.scores(calibration), self.scores(test)
        if epsilons:
            thresholds = self.calibrated(calibration, cal_scores)
            for eps in epsilons:
                exits = self._exits(test_scores, thresholds(eps))
                yield OperatingPoint(self.name, "epsilon", float(eps), exits)
        if raw:
            grid = raw_grid(cal_scores, raw)
            exits = exits_at_constant_thresholds(test_scores, grid, self.inclusive)
            for thr, point_exits in zip(grid, exits):
                yield OperatingPoint(
                    f"{self.name}-raw", self.raw_parameter, self.raw_value(thr), point_exits
                )


def _reached(calibration: StepOutputs) -> np.ndarray:
    """(OCT <= t), ``[N, T]``: the sample's answer is final and correct at t."""
    return calibration.oct[:, None] <= np.arange(1, calibration.n_steps + 1)


class TopK(ScorePolicy):
    """The paper's Top-K cutoff: stop once the gap between the two largest accumulated
    outputs exceeds beta_t (strictly). ``grid`` selects the authors' grid of candidate
    betas (see :func:`~spikecut.cutoff.calibration.calibrate_grid`) over the exact
    calibration."""

    name = "topk"
    floor = 0.0

    def __init__(self, grid: int | None = None):
        self.grid = grid

    @classmethod
    def from_options(cls, grid=None, max_set_size=1):
        return cls(grid=grid)

    def scores(self, outputs: StepOutputs) -> np.ndarray:
        first, second = outputs.top2
        return first - second

    def calibrated(self, calibration, scores=None):
        if self.grid is None:
            return super().calibrated(calibration, scores)
        scores = self.scores(calibration) if scores is None else scores
        return GridCalibration(scores, _reached(calibration), self.grid).thresholds


class Confidence(ScorePolicy):
    """The largest softmax probability p1 of Y(t) (SEENN-I's rule): stop once
    p1 >= theta. The score is log(p1 / (1 - p1)), which orders samples as p1 does but
    keeps confident ones apart where p1 itself rounds to 1; raw points report theta as
    a probability."""

    name = "confidence"
    inclusive = True

    def scores(self, outputs: StepOutputs) -> np.ndarray:
        return outputs.confidence_logit

    def raw_value(self, threshold: float) -> float:
        return float(1.0 / (1.0 + np.exp(-threshold)))


class Entropy(ScorePolicy):
    """The entropy H of softmax(Y(t)) (DT-SNN's rule): stop once H <= h. The score is
    -log H, so that larger is more confident and tiny entropies stay apart; raw points
    report h itself, in nats."""

    name = "entropy"
    raw_parameter = "entropy"
    inclusive = True

    def scores(self, outputs: StepOutputs) -> np.ndarray:
        return -outputs.log_entropy

    def raw_value(self, threshold: float) -> float:
        return float(np.exp(-threshold))


class SpikeCP(Policy):
    """Conformal prediction sets per step (SpikeCP): with nonconformity -log p_y(t) on
    the calibration set, the set at step t holds the classes c with -log p_c(t) <= q_t,
    q_t the conformal quantile at level alpha; stop at the first t whose set holds
    between 1 and ``max_set_size`` classes, reporting argmax Y(t).

    Calibrated to 1 - epsilon, every step uses alpha = epsilon / T (Bonferroni over the
    T possible stopping steps), so the set at the stopping step covers the label with
    probability at least 1 - epsilon on exchangeable data. Raw points sweep one per-step
    alpha without the correction.
    """

    name = "spikecp"

    def __init__(self, max_set_size: int = 1):
        if max_set_size < 1:
            raise ValueError(f"max_set_size must be at least 1, got {max_set_size}")
        self.max_set_size = max_set_size

    @classmethod
    def from_options(cls, grid=None, max_set_size=1):
        return cls(max_set_size=max_set_size)

    @staticmethod
    def nonconformity(outputs: StepOutputs) -> np.ndarray:
        """-log p_y(t), ``[N, T]``: it orders samples as 1 - p_y does (so it gives the
        same sets) and keeps confident ones apart where 1 - p_y rounds to 0."""
        return outputs.surprisal(outputs.label_values())

    @staticmethod
    def quantiles(sorted_scores: np.ndarray, alpha: float) -> np.ndarray:
        """q_t ``[T]`` from each step's sorted calibration nonconformity ``[n, T]``: the
        ceil((n + 1)(1 - alpha))-th smallest, +inf when that exceeds n."""
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        n = sorted_scores.shape[0]
        rank = int(np.ceil((n + 1) * (1.0 - alpha) - 1e-9))
        return sorted_scores[rank - 1] if rank <= n else np.full(sorted_scores.shape[1], np.inf)

    def bounds(self, outputs: StepOutputs) -> tuple[np.ndarray, np.ndarray]:
        """The nonconformity of the top class and of the (max_set_size + 1)-th,
        ``[N, T]`` each (+inf for the latter when there are no more classes), with the
        expression calibration uses for the label."""
        k = self.max_set_size
        first, second = outputs.top2
        if k == 1:
            nxt = second
        elif k >= outputs.logits.shape[2]:
            nxt = np.full(first.shape, -np.inf)
        else:
            nxt = -np.partition(-outputs.accumulated, k, axis=2)[..., k]
        return outputs.surprisal(first), outputs.surprisal(nxt)

    @staticmethod
    def exit_steps(top: np.ndarray, nxt: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Stop where 1 <= |set| <= k: the top class is in (its nonconformity <= q) and
        the (k + 1)-th is not, or there is no (k + 1)-th class (+inf)."""
        return first_firing_step(SpikeCP.fires(top, nxt, q[None, :]))

    @staticmethod
    def fires(top: np.ndarray, nxt: np.ndarray, q: np.ndarray | float) -> np.ndarray:
        return (top <= q) & ((nxt > q) | np.isposinf(nxt))

    def stopping_rule(self, calibration, knob):
        calibration = _require(calibration, self.name)
        cal_sorted = np.sort(self.nonconformity(calibration), axis=0)
        q = self.quantiles(cal_sorted, knob / calibration.n_steps)

        def rule(accumulated, t):
            top, nxt = (a[:, 0] for a in self.bounds(_at_step(accumulated)))
            return self.fires(top, nxt, q[t - 1])

        return rule

    def operating_points(self, test, calibration, epsilons, raw=0):
        calibration = _require(calibration, self.name, test)
        cal_sorted = np.sort(self.nonconformity(calibration), axis=0)
        top, nxt = self.bounds(test)
        for eps in epsilons:  # epsilon = 0 asks for certainty: the set never shrinks
            q = self.quantiles(cal_sorted, eps / test.n_steps)
            yield OperatingPoint(self.name, "epsilon", float(eps), self.exit_steps(top, nxt, q))
        if raw:
            for alpha in np.linspace(0.0, 1.0, raw + 2)[1:-1]:
                q = self.quantiles(cal_sorted, alpha)
                yield OperatingPoint(
                    f"{self.name}-raw", "alpha", float(alpha), self.exit_steps(top, nxt, q)
                )


POLICIES: dict[str, type[Policy]] = {
    p.name: p for p in (FixedTimestep, TopK, Confidence, Entropy, SpikeCP, OracleCutoff)
}


def make_policy(name: str, grid: int | None = None, max_set_size: int = 1) -> Policy:
    """Policy ``name``; ``grid`` applies to topk, ``max_set_size`` to spikecp."""
    try:
        cls = POLICIES[name]
    except KeyError:
        raise ValueError(
            f"unknown cutoff policy {name!r}; choose from {sorted(POLICIES)}"
        ) from None
    return cls.from_options(grid=grid, max_set_size=max_set_size)
