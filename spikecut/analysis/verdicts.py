"""The headline's conclusions, written from the intervals.

A claim is made only where its interval excludes the value of no effect (a speed-up
of 1, a difference of 0); otherwise the sentence says the effect cannot be told from
noise. The sentences are generated with the tables, so no claim outlives its numbers.
"""

from __future__ import annotations

import pandas as pd

from spikecut.analysis.headline import ci_text, lookup
from spikecut.analysis.protocols import PROTOCOLS
from spikecut.regularisers import is_baseline


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
    paper = f"{ci_text(full_T)}× fewer than all {n_steps} (the paper's measure)"
    against = f"the fixed T that stays within {max_loss_pp} pp of full-T accuracy"
    return {
        1: f"the cutoff saves time: {policy} needs {ci_text(tolerance)}× fewer timesteps than "
        f"{against}, and {paper}.",
        -1: f"the cutoff costs time: {policy} needs more timesteps than {against} (a "
        f"speed-up of {ci_text(tolerance)}×); against the full T it needs {paper}.",
        0: f"no saving against {against} can be told from noise ({ci_text(tolerance)}×); "
        f"against the full T, {policy} needs {paper}.",
    }[side(tolerance, 1.0)]


def effect_sentence(steps, accuracy, alpha: str, regulariser: str, policy: str) -> str:
    """Whether the regulariser at ``alpha`` helps, hurts or cannot be told from noise,
    from its paired effects on ``policy``'s timesteps and accuracy."""
    on_steps = {
        -1: f"helps: {policy}'s mean timesteps change by {ci_text(steps)}",
        1: f"hurts: {policy}'s mean timesteps change by {ci_text(steps)}",
        0: f"has no effect on {policy}'s mean timesteps that can be told from noise "
        f"({ci_text(steps)})",
    }[side(steps, 0.0)]
    on_accuracy = {
        -1: f"and it costs accuracy ({ci_text(accuracy, 100)} pp)",
        1: f"and it gains accuracy ({ci_text(accuracy, 100)} pp)",
        0: f"with no change in accuracy told from noise ({ci_text(accuracy, 100)} pp)",
    }[side(accuracy, 0.0)]
    return f"{regulariser} at α = {alpha} {on_steps}, {on_accuracy}."


def protocol_sentence(speedups: dict[str, dict[str, float]], policy: str) -> str:
    """Which protocol reports the larger speed-up at tolerance of ``policy`` alone,
    from ``{group: {protocol: estimate}}``."""
    both = {g: s for g, s in speedups.items() if set(PROTOCOLS) <= set(s)}
    if not both:
        return ""
    higher = [g for g, s in both.items() if s["paper"] > s["held-out"]]
    lower = [g for g, s in both.items() if s["paper"] < s["held-out"]]
    shown = "; ".join(
        f"{g}: {s['paper']:.2f}× against {s['held-out']:.2f}×" for g, s in both.items()
    )
    if len(higher) > len(lower):
        verdict = "The paper protocol is the more optimistic"
    elif len(lower) > len(higher):
        verdict = "The held-out protocol is the more optimistic"
    else:
        verdict = "Neither protocol is consistently the more optimistic"
    return (
        f"{verdict}: it reports the larger speed-up at tolerance of {policy} alone on "
        f"{max(len(higher), len(lower))} of {len(both)} data sets (paper against "
        f"held-out, {shown})."
    )


def conclusions(
    points: pd.DataFrame,
    effects: pd.DataFrame,
    sizes: pd.DataFrame,
    max_loss_pp: float,
    policy: str,
    regulariser: str,
) -> list[str]:
    """Markdown bullets: per data set and method, what the cutoff saves and what the
    regulariser does under each protocol; then which protocol is more optimistic.
    ``sizes`` lists the data sets and methods with their T, as the summary does."""
    lines, speedups = [], {}
    protocols = [p for p in PROTOCOLS if p in set(points["protocol"])]
    for dataset, method, n_steps in sizes[["dataset", "method", "T"]].itertuples(index=False):
        mine = points[(points["dataset"] == dataset) & (points["method"] == method)]
        alphas = sorted(mine["alpha"].unique(), key=float)
        base = next((a for a in alphas if is_baseline(a)), None)
        if base is None:
            continue
        name = f"{dataset} ({method})"
        at = dict(alpha=base, policy=policy)
        lead = protocols[0]
        tolerance = lookup(mine, **at, protocol=lead, quantity="speedup_at_tolerance")
        full_T = lookup(mine, **at, protocol=lead, quantity="speedup_vs_full_T")
        if tolerance is None or full_T is None:
            continue
        lines.append(
            f"- **{name}**, {lead} protocol: "
            + cutoff_sentence(tolerance, full_T, n_steps, policy, max_loss_pp)
        )
        speedups[name] = {
            p: lookup(mine, **at, protocol=p, quantity="speedup_at_tolerance")["estimate"]
            for p in protocols
        }
        mine_effects = (
            effects[(effects["dataset"] == dataset) & (effects["method"] == method)]
            if len(effects)
            else effects
        )
        for protocol in protocols:
            for alpha in alphas:
                if alpha == base:
                    continue
                where = dict(alpha=alpha, protocol=protocol, policy=policy)
                steps = lookup(mine_effects, **where, quantity="mean_timesteps")
                accuracy = lookup(mine_effects, **where, quantity="accuracy")
                if steps is None or accuracy is None:
                    continue
                lines.append(
                    f"  - {protocol}: "
                    + effect_sentence(steps, accuracy, alpha, regulariser, policy)
                )
    optimism = protocol_sentence(speedups, policy)
    return lines + ([f"- {optimism}"] if optimism else [])
