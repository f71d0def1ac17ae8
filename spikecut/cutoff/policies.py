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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from spikecut.cutoff.calibration import calibrate_exact, calibrate_grid
from spikecut.cutoff.steps import StepOutputs, first_firing_step, top2_gap


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
        self, test: StepOutputs, calibration: StepOutputs | None, epsilons: Sequence[float]
    ) -> Iterator[OperatingPoint]:
        """Every operating point of the policy on ``test``."""


class FixedTimestep(Policy):
    """Stop every sample at the same T_fixed, for T_fixed = 1..T: the baseline."""

    name = "timestep"

    def operating_points(self, test, calibration, epsilons):
        n = len(test.labels)
        for t in range(1, test.n_steps + 1):
            yield OperatingPoint(self.name, "T_fixed", t, np.full(n, t))


class OracleCutoff(Policy):
    """Stop at each sample's optimal cutoff timestep, which needs the label: the bound
    any label-free policy can hope for at the accuracy of T."""

    name = "oct"

    def operating_points(self, test, calibration, epsilons):
        yield OperatingPoint(self.name, "oracle", np.nan, test.oct)


class ScorePolicy(Policy):
    """Stop at the first t where score(t) > threshold(t), calibrated per step so that
    at least 1 - epsilon of the calibration samples that would stop at t are already
    at their final correct answer (OCT <= t)."""

    needs_calibration = True

    def __init__(self, grid: int | None = None):
        self.grid = grid

    @abstractmethod
    def scores(self, outputs: StepOutputs) -> np.ndarray:
        """``[N, T]``, larger is more confident."""

    def thresholds(self, calibration: StepOutputs, epsilon: float) -> np.ndarray:
        scores = self.scores(calibration)
        reached = calibration.oct[:, None] <= np.arange(1, calibration.n_steps + 1)
        if self.grid is None:
            return calibrate_exact(scores, reached, epsilon)
        return calibrate_grid(scores, reached, epsilon, self.grid)

    def exit_steps(self, outputs: StepOutputs, thresholds: np.ndarray) -> np.ndarray:
        return first_firing_step(self.scores(outputs) > thresholds[None, :])

    def operating_points(self, test, calibration, epsilons):
        if calibration is None:
            raise ValueError(f"policy {self.name!r} needs calibration outputs")
        for eps in epsilons:
            thr = self.thresholds(calibration, eps)
            yield OperatingPoint(self.name, "epsilon", float(eps), self.exit_steps(test, thr))


class TopK(ScorePolicy):
    """The paper's Top-K cutoff: the gap between the two largest accumulated outputs."""

    name = "topk"

    def scores(self, outputs: StepOutputs) -> np.ndarray:
        return top2_gap(outputs.accumulated)


POLICIES: dict[str, type[Policy]] = {p.name: p for p in (FixedTimestep, TopK, OracleCutoff)}


def make_policy(name: str, grid: int | None = None) -> Policy:
    try:
        cls = POLICIES[name]
    except KeyError:
        raise ValueError(
            f"unknown cutoff policy {name!r}; choose from {sorted(POLICIES)}"
        ) from None
    return cls(grid=grid) if issubclass(cls, ScorePolicy) else cls()
