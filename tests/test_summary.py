"""The summary's quantities by hand on a tiny example, its tables and the headline."""

import numpy as np
import pandas as pd
import pytest

from spikecut.analysis import RunPoints, evaluate, headline_markdown, summarise, summary_markdown
from spikecut.analysis.summary import early_exit_markdown
from spikecut.analysis.timing import wall_flagged

POINTS = pd.DataFrame(
    {
        "protocol": ["held-out", "held-out"],
        "policy": ["timestep", "topk"],
        "parameter": ["T_fixed", "epsilon"],
        "value": [2.0, 0.0],
        "within_tolerance": [True, True],
    }
)


def run(correct, timestep_exits, topk_exits, energy=None):
    exits = np.array([timestep_exits, topk_exits])
    return RunPoints(
        np.array(correct, bool), exits, POINTS, None if energy is None else np.array(energy, float)
    )


@pytest.fixture
def runs():
    # N = 4, T = 2. alpha 0: fixed-step accuracy 0.5 then 0.75; Top-K stops three
    # samples at t = 1 and is right on three. alpha 0.5: 0.75 at both steps.
    return {
        ("0", 0): run(
            [[0, 1], [1, 1], [0, 0], [1, 1]],
            [2, 2, 2, 2],
            [2, 1, 1, 1],
            energy=[[2.0] * 4, [2.0, 1.0, 1.0, 1.0]],
        ),
        ("0.5", 0): run(
            [[1, 1], [1, 1], [0, 0], [1, 1]],
            [1, 1, 1, 1],
            [1, 1, 2, 1],
            energy=[[1.0] * 4, [1.0, 1.0, 2.0, 1.0]],
        ),
    }


def estimate(table, **keys):
    rows = table
    for k, v in keys.items():
        rows = rows[rows[k] == v]
    (value,) = rows["estimate"]
    return value


def test_quantities_by_hand(runs):
    fixed, points, effects = evaluate(runs, n_boot=200)
    assert estimate(fixed, alpha="0", T=1) == 0.5
    assert estimate(fixed, alpha="0", T=2) == 0.75
    topk = dict(protocol="held-out", policy="topk")
    assert estimate(points, alpha="0", quantity="accuracy", **topk) == 0.75
    assert estimate(points, alpha="0", quantity="mean_timesteps", **topk) == 1.25
    assert estimate(points, alpha="0", quantity="accuracy_T", **topk) == 0.75
    assert estimate(points, alpha="0", quantity="mean_energy_uj", **topk) == 1.25
    # equal accuracy: the same run needs T = 2 for 0.75; at tolerance: the alpha = 0
    # model's fixed T at its operating point under the same protocol, here 2
    assert estimate(points, alpha="0", quantity="speedup_equal_accuracy", **topk) == 2 / 1.25
    assert estimate(points, alpha="0", quantity="speedup_at_tolerance", **topk) == 2 / 1.25
    # alpha 0.5 is already at 0.75 at t = 1; the tolerance still refers to alpha = 0
    assert estimate(points, alpha="0.5", quantity="speedup_equal_accuracy", **topk) == 1 / 1.25
    assert estimate(points, alpha="0.5", quantity="speedup_at_tolerance", **topk) == 2 / 1.25
    # the RCS effect: paired differences against alpha = 0
    assert estimate(effects, alpha="0.5", quantity="mean_timesteps", **topk) == 0.0
    timestep = dict(protocol="held-out", policy="timestep")
    assert estimate(effects, alpha="0.5", quantity="mean_timesteps", **timestep) == -1.0
    assert estimate(effects, alpha="0.5", quantity="accuracy", **timestep) == 0.0
    assert set(effects["alpha"]) == {"0.5"}  # no effect of the baseline on itself
    assert (points["low"] <= points["estimate"] + 1e-12).all()
    assert (points["estimate"] <= points["high"] + 1e-12).all()


def test_every_alpha_needs_every_seed(runs):
    runs[("0", 1)] = runs[("0", 0)]
    with pytest.raises(ValueError, match=r"\('0.5', 1\)"):
        evaluate(runs)


def test_held_out_speedup_uses_the_baseline_it_chose(runs):
    """Under a protocol, the speed-up at tolerance divides the alpha = 0 model's fixed T
    at that protocol's operating point, not the test curve's."""
    base = runs[("0", 0)]
    points = pd.concat([POINTS, POINTS.assign(protocol="paper")], ignore_index=True)
    exits = np.array([[1, 1, 1, 1], [2, 1, 1, 1], [2, 2, 2, 2], [2, 1, 1, 1]])
    runs[("0", 0)] = RunPoints(base.correct, exits, points)
    runs[("0.5", 0)] = RunPoints(runs[("0.5", 0)].correct, exits, points)
    _, table, _ = evaluate(runs, n_boot=100)
    held = dict(protocol="held-out", policy="topk", quantity="speedup_at_tolerance")
    assert estimate(table, alpha="0", **held) == 1 / 1.25  # validation chose T = 1
    paper = held | {"protocol": "paper"}
    assert estimate(table, alpha="0", **paper) == 2 / 1.25


def test_bad_points():
    with pytest.raises(ValueError, match="exits must be"):
        RunPoints(np.ones((4, 2), bool), np.ones((2, 3), int), POINTS)


@pytest.fixture
def summary(runs):
    keyed = {("d", "bptt", a, s): p for (a, s), p in runs.items()}
    return summarise(keyed, n_boot=200)


def test_summary_tables_and_markdown(summary):
    assert set(summary.points["protocol"]) == {"held-out"}
    assert summary.sizes.to_dict("records") == [
        {"dataset": "d", "method": "bptt", "T": 2, "n_test": 4, "n_seeds": 1}
    ]
    per_run = summary.per_run.set_index(["alpha", "policy"])
    assert per_run.loc[("0", "topk"), "mean_timesteps"] == 1.25
    assert per_run.loc[("0.5", "topk"), "accuracy"] == 0.75
    text = summary_markdown(summary, 0.5, {"seeds": [0]}, ["a test machine"])
    assert "## d (bptt)" in text and "### held-out protocol" in text
    assert "| 0 | topk | 75.00 [" in text and "| speed-up at tolerance |" in text
    assert "RCS effect (α > 0 minus α = 0" in text and "Produced on a test machine." in text
    assert "4 test samples, 1 seed. " in text and "seeds:" in text


def test_headline_names_protocol_machine_and_effect(summary):
    text = headline_markdown(summary, 0.5, ["machine A", "machine B"])
    assert "no α = 0 run" not in text
    assert text.startswith("<!-- generated by spikecut")
    assert "Produced on machine A; machine B." in text
    (row,) = [line for line in text.splitlines() if line.startswith("| d, bptt |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "2"  # T
    assert cells[2].startswith("50.00 [") and cells[3].startswith("75.00 [")
    assert cells[5].startswith("1.25 [") and cells[6].startswith("0.5: 1.25 [")
    assert cells[7].startswith("1.60 [") and cells[8].startswith("0.00 [")
    assert "(includes 0)" in cells[8]


def test_headline_without_a_baseline_says_so(runs):
    keyed = {("d", "bptt", "0.5", 0): runs[("0.5", 0)]}
    text = headline_markdown(summarise(keyed, n_boot=100), 0.5, ["m"])
    assert "| d, bptt | no α = 0 run to compare with |" in text


def test_early_exit_table_means_over_seeds():
    timings = pd.DataFrame(
        {
            "dataset": "digits",
            "method": "bptt",
            "alpha": "0.05",
            "policy": "topk",
            "epsilon": 0.02,
            "seed": [0, 1],
            "mean_timesteps": [1.5, 2.5],
            "n_steps": 4,
            "samples": 100,
            "accuracy": [0.9, 0.8],
            "step_ratio": [8 / 3, 1.6],
            "wall_speedup": [1.8, 1.4],
            "timing_noise": [0.01, 0.02],
            "matches_simulation": [True, True],
        }
    )
    lines = early_exit_markdown(timings)
    (row,) = [line for line in lines if line.startswith("| digits")]
    assert row == (
        "| digits | bptt | 0.05 | topk | 0.02 | 100 | 2.00 of 4 | 2.00× | 1.60× | 85.00 | yes |"
    )
    assert not any("*Flagged*" in line for line in lines)
    timings.loc[1, "wall_speedup"] = 5.6  # for 1.6x fewer steps: a busy machine
    lines = early_exit_markdown(timings)
    (row,) = [line for line in lines if line.startswith("| digits")]
    # the mean over seeds (3.70×) would be a number no result supports
    assert "| 2.00× | flagged in 1 of 2 seeds |" in row and "3.70" not in row
    assert any(line.startswith("*Flagged*: the wall-time speed-up exceeded") for line in lines)


@pytest.mark.parametrize(
    "speedup, step_ratio, noise, flagged",
    [
        (2.0, 2.5, 0.0, False),
        (3.1, 2.5, 0.0, False),
        (3.2, 2.5, 0.0, True),
        (3.2, 2.5, 0.05, False),
    ],
)
def test_a_wall_speedup_beyond_the_step_ratio_and_its_noise_is_flagged(
    speedup, step_ratio, noise, flagged
):
    # the margin is 25 %: 2.5 x 1.25 = 3.125, and 2.5 x 1.30 = 3.25 with 5 % noise
    assert wall_flagged(speedup, step_ratio, noise) is flagged
