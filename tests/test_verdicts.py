"""The headline's sentences follow the intervals: each side of the value of no effect,
and across it."""

import pandas as pd
import pytest

from spikecut.analysis.verdicts import (
    conclusions,
    cutoff_sentence,
    effect_sentence,
    protocol_sentence,
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
    assert "3.00 [2.80, 3.20]× fewer than all 8 (the paper's measure)" in text


@pytest.mark.parametrize(
    "steps, accuracy, words",
    [
        (
            ci(-0.5, -0.8, -0.2),
            ci(0.0, -0.01, 0.01),
            ["helps: topk's mean timesteps change by -0.50", "no change"],
        ),
        (
            ci(0.4, 0.1, 0.7),
            ci(-0.02, -0.03, -0.01),
            ["hurts: topk's mean timesteps change by 0.40", "costs accuracy"],
        ),
        (
            ci(0.1, -0.2, 0.3),
            ci(0.02, 0.01, 0.03),
            ["has no effect on topk's mean timesteps that", "gains accuracy"],
        ),
    ],
)
def test_the_effect_sentence_follows_the_interval_around_0(steps, accuracy, words):
    text = effect_sentence(steps, accuracy, "0.05", "RCS", "topk")
    assert text.startswith("RCS at α = 0.05 ")
    assert all(w in text for w in words), text


def test_the_protocol_sentence_counts_the_data_sets():
    paper_higher = {"a": {"paper": 2.0, "held-out": 1.5}, "b": {"paper": 1.3, "held-out": 1.2}}
    assert protocol_sentence(paper_higher, "topk").startswith(
        "The paper protocol is the more optimistic: it reports the larger speed-up at "
        "tolerance of topk alone on 2 of 2 data sets (paper against held-out, a: 2.00× "
        "against 1.50×; b: 1.30× against 1.20×)."
    )
    mixed = {"a": {"paper": 2.0, "held-out": 1.5}, "b": {"paper": 1.0, "held-out": 1.2}}
    assert protocol_sentence(mixed, "topk").startswith("Neither protocol is consistently")
    held_higher = {"a": {"paper": 1.0, "held-out": 1.5}}
    assert protocol_sentence(held_higher, "topk").startswith("The held-out protocol is")
    assert protocol_sentence({"a": {"paper": 1.0}}, "topk") == ""


def test_conclusions_from_summary_tables():
    """One data set whose cutoff saves time and whose regulariser hurts under the
    held-out protocol and cannot be told from noise under the paper's."""
    rows = []
    for protocol, tolerance in (("held-out", ci(1.4, 1.2, 1.6)), ("paper", ci(2.0, 1.8, 2.2))):
        where = {"dataset": "d", "method": "bptt", "alpha": "0", "policy": "topk"}
        rows += [
            where | {"protocol": protocol, "quantity": "speedup_at_tolerance", **tolerance},
            where | {"protocol": protocol, "quantity": "speedup_vs_full_T", **FULL},
        ]
    effects = pd.DataFrame(
        [
            {"protocol": "held-out", "quantity": "mean_timesteps", **ci(0.3, 0.1, 0.5)},
            {"protocol": "held-out", "quantity": "accuracy", **ci(0.0, -0.01, 0.01)},
            {"protocol": "paper", "quantity": "mean_timesteps", **ci(0.1, -0.1, 0.3)},
            {"protocol": "paper", "quantity": "accuracy", **ci(0.0, -0.01, 0.01)},
        ]
    ).assign(dataset="d", method="bptt", alpha="0.05", policy="topk")
    points = pd.DataFrame(rows + [rows[0] | {"alpha": "0.05"}])
    sizes = pd.DataFrame([{"dataset": "d", "method": "bptt", "T": 8}])
    lines = conclusions(points, effects, sizes, 0.5, "topk", "RCS")
    assert lines[0].startswith("- **d (bptt)**, held-out protocol: the cutoff saves time: ")
    assert lines[1].startswith(
        "  - held-out: RCS at α = 0.05 hurts: topk's mean timesteps change by 0.30"
    )
    assert lines[2].startswith(
        "  - paper: RCS at α = 0.05 has no effect on topk's mean timesteps that can be"
    )
    assert lines[3].startswith("- The paper protocol is the more optimistic: ")
    assert len(lines) == 4
