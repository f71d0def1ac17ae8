"""The headline's sentences follow the intervals: each side of the value of no effect,
and across it."""

import pandas as pd
import pytest

from spikecut.analysis.verdicts import (
    conclusions,
    cutoff_sentence,
    effect_sentence,
    optimism_sentence,
)


def ci(estimate, low, high):
    return {"estimate": estimate, "low": low, "high": high}


FULL = ci(3.0, 2.8, 3.2)


@pytest.mark.parametrize(
    "tolerance, opening",
    [
        (ci(1.5, 1.2, 1.8), "the cutoff saves time: topk needs 1.50 [1.20, 1.80]× fewer"),
        (ci(0.8, 0.7, 0.9), "the cutoff costs time: topk needs more timesteps than"),
        (ci(1.1, 0.9, 1.3), "no saving against the fixed T that stays within 0.5 pp"),
    ],
)
def test_the_cutoff_sentence_follows_the_interval_around_1(tolerance, opening):
    text = cutoff_sentence(tolerance, FULL, 8, "topk", 0.5)
    assert text.startswith(opening)
    assert "3.00 [2.80, 3.20]× fewer timesteps than all 8 (the paper's measure)" in text


@pytest.mark.parametrize(
    "steps, accuracy, opening",
    [
        (ci(-0.5, -0.8, -0.2), ci(0.0, -0.01, 0.01), "helps: topk stops earlier (-0.50 [-0.80"),
        (ci(-0.5, -0.8, -0.2), ci(-0.02, -0.03, -0.01), "trades accuracy for time: topk stops"),
        (ci(0.1, -0.2, 0.3), ci(0.02, 0.01, 0.03), "helps: no change in topk's mean timesteps"),
        (ci(0.1, -0.2, 0.3), ci(0.0, -0.01, 0.01), "has no effect that can be told from noise"),
        (ci(0.1, -0.2, 0.3), ci(-0.02, -0.03, -0.01), "hurts: no change in topk's mean"),
        (ci(0.4, 0.1, 0.7), ci(0.0, -0.01, 0.01), "hurts: topk stops later (0.40 [0.10, 0.70]"),
        (ci(0.4, 0.1, 0.7), ci(0.02, 0.01, 0.03), "trades time for accuracy: topk stops later"),
    ],
)
def test_the_effect_sentence_follows_both_intervals(steps, accuracy, opening):
    text = effect_sentence(steps, accuracy, "0.05", "RCS", "topk")
    assert text.startswith(f"RCS at α = 0.05 {opening}"), text
    accuracy_words = {-1: "less accurate (", 0: "no change in accuracy", 1: "more accurate ("}
    low, high = accuracy["low"], accuracy["high"]
    assert accuracy_words[(low > 0) - (high < 0)] in text


@pytest.mark.parametrize(
    "steps, accuracy, opening",
    [
        (ci(-0.5, -0.8, -0.2), ci(0.0, -0.01, 0.01), "the paper protocol is the more optimistic"),
        (ci(0.0, -0.2, 0.2), ci(0.01, 0.005, 0.02), "the paper protocol is the more optimistic"),
        (ci(0.5, 0.2, 0.8), ci(0.0, -0.01, 0.01), "the held-out protocol is the more optimistic"),
        (ci(-0.5, -0.8, -0.2), ci(-0.02, -0.03, -0.01), "each protocol promises more on one"),
        (ci(0.0, -0.2, 0.2), ci(0.0, -0.01, 0.01), "no difference between the protocols can"),
    ],
)
def test_the_optimism_sentence_follows_both_intervals(steps, accuracy, opening):
    text = optimism_sentence(steps, accuracy, "topk")
    assert text.startswith(opening), text
    assert " (paper minus held-out: " in text and text.endswith(" pp)).")


def test_conclusions_from_summary_tables():
    """One data set whose cutoff saves time, whose regulariser hurts under the held-out
    protocol and cannot be told from noise under the paper's, and whose paper protocol
    promises fewer steps."""
    where = {"dataset": "d", "method": "bptt", "alpha": "0", "policy": "topk"}
    rows = []
    for protocol, tolerance in (("held-out", ci(1.4, 1.2, 1.6)), ("paper", ci(2.0, 1.8, 2.2))):
        rows += [
            where | {"protocol": protocol, "quantity": "speedup_at_tolerance", **tolerance},
            where | {"protocol": protocol, "quantity": "speedup_vs_full_T", **FULL},
        ]
    points = pd.DataFrame(rows + [rows[0] | {"alpha": "0.05"}])
    effects = pd.DataFrame(
        [
            {"protocol": "held-out", "quantity": "mean_timesteps", **ci(0.3, 0.1, 0.5)},
            {"protocol": "held-out", "quantity": "accuracy", **ci(0.0, -0.01, 0.01)},
            {"protocol": "paper", "quantity": "mean_timesteps", **ci(0.1, -0.1, 0.3)},
            {"protocol": "paper", "quantity": "accuracy", **ci(0.0, -0.01, 0.01)},
        ]
    ).assign(dataset="d", method="bptt", alpha="0.05", policy="topk")
    gaps = pd.DataFrame(
        [
            where | {"quantity": "mean_timesteps", **ci(-0.4, -0.6, -0.2)},
            where | {"quantity": "accuracy", **ci(0.0, -0.01, 0.01)},
        ]
    )
    sizes = pd.DataFrame([{"dataset": "d", "method": "bptt", "T": 8}])
    lines = conclusions(points, effects, gaps, sizes, 0.5, "topk", "RCS")
    assert lines == [
        "- **d (bptt)**, held-out protocol: " + cutoff_sentence(rows[0], FULL, 8, "topk", 0.5),
        "- **d (bptt)**, held-out protocol: "
        + effect_sentence(effects.iloc[0], effects.iloc[1], "0.05", "RCS", "topk"),
        "- **d (bptt)**, paper protocol: "
        + effect_sentence(effects.iloc[2], effects.iloc[3], "0.05", "RCS", "topk"),
        "- **d (bptt)**, topk alone: " + optimism_sentence(gaps.iloc[0], gaps.iloc[1], "topk"),
    ]
    assert lines[1].startswith("- **d (bptt)**, held-out protocol: RCS at α = 0.05 hurts: ")
    assert "the paper protocol is the more optimistic" in lines[3]
    # no regularised run, no effects and no second protocol: the cutoff alone
    alone = conclusions(points.iloc[:2], pd.DataFrame(), pd.DataFrame(), sizes, 0.5, "topk", "RCS")
    assert len(alone) == 1 and "the cutoff saves time" in alone[0]
