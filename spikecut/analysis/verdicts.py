"""The headline's conclusions, written from the intervals.

A claim is made only where its interval excludes the value of no effect (a speed-up
of 1, a difference of 0); otherwise the sentence says the effect cannot be told from
noise. The sentences are generated with the tables, so no claim outlives its numbers.
"""

from __future__ import annotations

import pandas as pd

from spikecut.analysis.headline import ci_text, lookup
from spikecut.analysis.protocols import PROTOCOLS
from spikecut.regularisers import baseline_alpha


def side(row, null: float) -> int:
    """+1 where the interval lies above ``null``, -1 below, 0 where it holds it."""
    if row["low"] > null:
        return 1
    if row["high"] < null:
        return -1
    return 0


def cutoff_sentence(tolerance, full_T, n_steps: int, policy: str, max_loss_pp: float) -> str:
    """Whether ``policy`` alone saves time against the fixed T within the tolerance
    (``tolerance``: its speed-up there), with the paper's measure beside it."""
    paper = f"{ci_text(full_T)}× fewer timesteps than all {n_steps} (the paper's measure)"
    against = f"the fixed T that stays within {max_loss_pp} pp of full-T accuracy"
    return {
        1: f"the cutoff saves time: {policy} needs {ci_text(tolerance)}× fewer timesteps than "
        f"{against}, and {paper}.",
        -1: f"the cutoff costs time: {policy} needs more timesteps than {against} (a "
        f"speed-up of {ci_text(tolerance)}×); against the full T it needs {paper}.",
        0: f"no saving against {against} can be told from noise ({ci_text(tolerance)}×); "
        f"against the full T, {policy} needs {paper}.",
    }[side(tolerance, 1.0)]


# the regulariser's verdict from the sides of its effects on (timesteps, accuracy)
EFFECT_VERDICTS = {
    (-1, -1): "trades accuracy for time",
    (-1, 0): "helps",
    (-1, 1): "helps",
    (0, -1): "hurts",
    (0, 0): "has no effect that can be told from noise",
    (0, 1): "helps",
    (1, -1): "hurts",
    (1, 0): "hurts",
    (1, 1): "trades time for accuracy",
}


def _changes(steps, accuracy, policy: str) -> str:
    """What the intervals of a paired difference in timesteps and accuracy say."""
    on_steps = {
        -1: f"{policy} stops earlier ({ci_text(steps)} mean timesteps)",
        1: f"{policy} stops later ({ci_text(steps)} mean timesteps)",
        0: f"no change in {policy}'s mean timesteps told from noise ({ci_text(steps)})",
    }[side(steps, 0.0)]
    on_accuracy = {
        -1: f"less accurate ({ci_text(accuracy, 100)} pp)",
        1: f"more accurate ({ci_text(accuracy, 100)} pp)",
        0: f"no change in accuracy told from noise ({ci_text(accuracy, 100)} pp)",
    }[side(accuracy, 0.0)]
    return f"{on_steps}; {on_accuracy}"


def effect_sentence(steps, accuracy, alpha: str, regulariser: str, policy: str) -> str:
    """Whether the regulariser at ``alpha`` helps, hurts, trades one for the other or
    cannot be told from noise, from its paired effects on ``policy``'s timesteps and
    accuracy: fewer steps at no loss of accuracy, or more accuracy at no cost in steps,
    is help."""
    verdict = EFFECT_VERDICTS[side(steps, 0.0), side(accuracy, 0.0)]
    return f"{regulariser} at α = {alpha} {verdict}: {_changes(steps, accuracy, policy)}."


def optimism_sentence(steps, accuracy, policy: str) -> str:
    """Which protocol promises more, from the paired difference paper minus held-out
    of ``policy``'s timesteps and accuracy on the same test samples."""
    paper_better = {side(steps, 0.0) == -1, side(accuracy, 0.0) == 1}
    paper_worse = {side(steps, 0.0) == 1, side(accuracy, 0.0) == -1}
    verdict = {
        (True, False): "the paper protocol is the more optimistic",
        (False, True): "the held-out protocol is the more optimistic",
        (True, True): "each protocol promises more on one count",
        (False, False): "no difference between the protocols can be told from noise",
    }[any(paper_better), any(paper_worse)]
    return f"{verdict} (paper minus held-out: {_changes(steps, accuracy, policy)})."


def conclusions(
    points: pd.DataFrame,
    effects: pd.DataFrame,
    gaps: pd.DataFrame,
    sizes: pd.DataFrame,
    max_loss_pp: float,
    policy: str,
    regulariser: str,
) -> list[str]:
    """Markdown bullets: per data set and method, what the cutoff saves, what the
    regulariser does under each protocol, and which protocol promises more.
    ``sizes`` lists the data sets and methods with their T, as the summary does."""
    lines = []
    protocols = [p for p in PROTOCOLS if p in set(points["protocol"])]
    for dataset, method, n_steps in sizes[["dataset", "method", "T"]].itertuples(index=False):
        group = dict(dataset=dataset, method=method)
        mine = points[(points["dataset"] == dataset) & (points["method"] == method)]
        alphas = sorted(mine["alpha"].unique(), key=float)
        base = baseline_alpha(alphas)
        if base is None:
            continue
        name = f"**{dataset} ({method})**"
        at = dict(alpha=base, policy=policy, protocol=protocols[0])
        tolerance = lookup(mine, **at, quantity="speedup_at_tolerance")
        full_T = lookup(mine, **at, quantity="speedup_vs_full_T")
        if tolerance is not None and full_T is not None:
            lines.append(
                f"- {name}, {protocols[0]} protocol: "
                + cutoff_sentence(tolerance, full_T, n_steps, policy, max_loss_pp)
            )
        for protocol in protocols:
            for alpha in alphas[alphas.index(base) + 1 :]:
                both = _differences(effects, **group, alpha=alpha, protocol=protocol, policy=policy)
                if both is not None:
                    lines.append(
                        f"- {name}, {protocol} protocol: "
                        + effect_sentence(*both, alpha, regulariser, policy)
                    )
        both = _differences(gaps, **group, alpha=base, policy=policy)
        if both is not None:
            lines.append(f"- {name}, {policy} alone: " + optimism_sentence(*both, policy))
    return lines


def _differences(table: pd.DataFrame, **where):
    """The rows of a paired difference in mean timesteps and in accuracy; None where the
    table lacks either."""
    steps = lookup(table, **where, quantity="mean_timesteps")
    accuracy = lookup(table, **where, quantity="accuracy")
    return None if steps is None or accuracy is None else (steps, accuracy)
