"""Cutoff policies behind one interface.

A policy turns the recorded per-step outputs of the test set (and, if it calibrates,
of the calibration set) into operating points: one exit step per test sample for each
setting of its knob. Accuracy and mean timesteps follow from the exit steps alone, so
every policy is judged the same way.

Label-free policies that stop "at the first t where score(t) passes threshold(t)" share
:class:`ScorePolicy`; a new rule of that kind defines its score and whether passing is
strict (score > threshold, Top-K) or inclusive (score >= threshold).

Every policy has a :class:`PolicyRecord` in :data:`POLICIES`: its class (and with it
its options model), its label and style on the figures, and whether it can stop a
running network. The config's choices, the figures and the command line all read the
records, so a new policy is its class and one :func:`register` call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, PositiveInt

from spikecut.cutoff.calibration import ExactCalibration, GridCalibration
from spikecut.cutoff.steps import StepOutputs, first_firing_step
from spikecut.settings.base import Strict


@dataclass(frozen=True)
class OperatingPoint:
    policy: str
    parameter: str  # the knob's name: "T_fixed", "epsilon", ...
    value: float
    exit_steps: np.ndarray  # [N], 1-based


class PolicyOptions(Strict):
    """A policy's options (the config's ``cutoff.options.<policy>``); most have none."""


class Policy(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[PolicyOptions]] = PolicyOptions

    def __init__(self, options: PolicyOptions | Mapping[str, Any] | None = None):
        self.options = self.Options.model_validate({} if options is None else options)

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


class TopKOptions(PolicyOptions):
    grid: int | None = Field(
        None,
        ge=2,
        description="the authors' grid of N candidate thresholds in place of the exact calibration",
    )


class TopK(ScorePolicy):
    """The paper's Top-K cutoff: stop once the gap between the two largest accumulated
    outputs exceeds beta_t (strictly). The option ``grid`` selects the authors' grid of
    candidate betas (see :func:`~spikecut.cutoff.calibration.calibrate_grid`) over the
    exact calibration."""

    name = "topk"
    Options = TopKOptions
    floor = 0.0

    def scores(self, outputs: StepOutputs) -> np.ndarray:
        first, second = outputs.top2
        return first - second

    def calibrated(self, calibration, scores=None):
        if self.options.grid is None:
            return super().calibrated(calibration, scores)
        scores = self.scores(calibration) if scores is None else scores
        return GridCalibration(scores, _reached(calibration), self.options.grid).thresholds


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


class SpikeCPOptions(PolicyOptions):
    max_set_size: PositiveInt = Field(
        1, description="stop once the prediction set holds 1 to this many classes"
    )


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
    Options = SpikeCPOptions

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
        k = self.options.max_set_size
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


@dataclass(frozen=True)
class PolicyRecord:
    """A policy as the workflow knows it. ``style`` is how the figures draw its curve
    (matplotlib keywords; a policy without ``color`` takes the next of the palette), and
    ``point_marker`` its operating point (None: the curve is its only point)."""

    policy: type[Policy]
    label: str
    live: bool = True  # it can stop a running network (``early_exit.policies``)
    style: Mapping[str, Any] = field(default_factory=dict)
    point_marker: str | None = "D"

    @property
    def name(self) -> str:
        return self.policy.name

    @property
    def options(self) -> type[PolicyOptions]:
        return self.policy.Options


POLICIES: dict[str, PolicyRecord] = {}


def register(record: PolicyRecord) -> PolicyRecord:
    """Add a policy to the registry, under its class's name."""
    if record.name in POLICIES:
        raise ValueError(f"a cutoff policy named {record.name!r} is registered already")
    POLICIES[record.name] = record
    return record


# The score rules often follow Top-K step for step. Top-K (the paper's rule) is a broad
# solid line underneath, the others thinner dashes and markers on top of it, so that
# every curve stays visible where they coincide.
for _record in (
    PolicyRecord(
        FixedTimestep,
        "fixed T",
        live=False,
        style={"linestyle": "--", "marker": "o", "ms": 3, "color": "black", "zorder": 3},
        point_marker="o",
    ),
    PolicyRecord(
        TopK,
        "Top-K",
        style={"linestyle": "-", "marker": "s", "ms": 3, "lw": 3.2, "alpha": 0.75, "zorder": 2},
    ),
    PolicyRecord(
        Confidence,
        "confidence (SEENN-I)",
        style={"linestyle": "--", "marker": "^", "ms": 4, "lw": 1.4, "zorder": 3},
    ),
    PolicyRecord(
        Entropy,
        "entropy (DT-SNN)",
        style={"linestyle": ":", "marker": "v", "ms": 4, "lw": 1.8, "zorder": 4},
    ),
    PolicyRecord(
        SpikeCP,
        "SpikeCP",
        style={"linestyle": "-.", "marker": "o", "ms": 3, "lw": 1.4, "zorder": 3},
    ),
    PolicyRecord(
        OracleCutoff,
        "OCT (oracle)",
        live=False,
        style={
            "linestyle": "none",
            "marker": "*",
            "ms": 14,
            "color": "gold",
            "markeredgecolor": "black",
            "zorder": 5,
        },
        point_marker=None,
    ),
):
    register(_record)

# the policies every comparison is made against, and the bound of them all
BASELINE, PAPER, ORACLE = FixedTimestep.name, TopK.name, OracleCutoff.name


def make_policy(name: str, options: PolicyOptions | Mapping[str, Any] | None = None) -> Policy:
    """Policy ``name`` with its ``options`` (its options model, or a mapping of them)."""
    try:
        record = POLICIES[name]
    except KeyError:
        raise ValueError(
            f"unknown cutoff policy {name!r}; choose from {', '.join(POLICIES)}"
        ) from None
    return record.policy(options)


PolicyChoice = Mapping[str, PolicyOptions | Mapping[str, Any] | None] | Iterable[str]


def make_policies(policies: PolicyChoice) -> dict[str, Policy]:
    """Policies by name, from names (default options) or a mapping of names to
    options."""
    if isinstance(policies, Mapping):
        return {name: make_policy(name, options) for name, options in policies.items()}
    return {name: make_policy(name) for name in policies}
