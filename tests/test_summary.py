"""The summary's quantities by hand on a tiny example, its tables and the headline."""

import numpy as np
import pandas as pd
import pytest

from spikecut.analysis import (
    RunSweep,
    Split,
    evaluate,
    headline_markdown,
    summarise,
    summary_markdown,
)
from spikecut.analysis.summary import early_exit_markdown
from spikecut.analysis.timing import wall_flagged

# fixed T = 1 and 2, and Top-K at one epsilon
KNOBS = pd.DataFrame(
    {
        "policy": ["timestep", "timestep", "topk"],
        "parameter": ["T_fixed", "T_fixed", "epsilon"],
        "value": [1.0, 2.0, 0.0],
    }
)


def split(correct, topk_exits):
    exits = np.array([[1] * len(topk_exits), [2] * len(topk_exits), topk_exits])
    return Split(exits, np.array(correct, bool))


def run(correct, topk_exits, val=None):
    """A run whose validation split is its test split unless given; the energy spent
    up to step t is t."""
    test = split(correct, topk_exits)
    energy = np.tile([1.0, 2.0], (len(topk_exits), 1))
    return RunSweep(KNOBS, test, test if val is None else split(*val), energy)


@pytest.fixture
def runs():
    # N = 4, T = 2. alpha 0: fixed-step accuracy 0.5 then 0.75, so within 0.5 pp of
    # full T only at T = 2; Top-K stops three samples at t = 1 and is right on three.
    # alpha 0.5: 0.75 at both steps, so its fixed T is 1.
    return {
        ("0", 0): run([[0, 1], [1, 1], [0, 0], [1, 1]], [2, 1, 1, 1]),
        ("0.5", 0): run([[1, 1], [1, 1], [0, 0], [1, 1]], [1, 1, 2, 1]),
    }


def estimate(table, **keys):
    rows = table
    for k, v in keys.items():
        rows = rows[rows[k] == v]
    (value,) = rows["estimate"]
    return value


def test_quantities_by_hand(runs):
    fixed, points, effects, _ = evaluate(runs, 0.5, n_boot=200)
    assert estimate(fixed, alpha="0", T=1) == 0.5
    assert estimate(fixed, alpha="0", T=2) == 0.75
    topk = dict(protocol="held-out", policy="topk")
    assert estimate(points, alpha="0", quantity="accuracy", **topk) == 0.75
    assert estimate(points, alpha="0", quantity="mean_timesteps", **topk) == 1.25
    assert estimate(points, alpha="0", quantity="accuracy_T", **topk) == 0.75
    assert estimate(points, alpha="0", quantity="mean_energy_uj", **topk) == 1.25
    # equal accuracy: the same run needs T = 2 for 0.75; at tolerance: the alpha = 0
    # model's fixed T at its operating point under the same protocol, here 2; the
    # paper's: the full T = 2
    assert estimate(points, alpha="0", quantity="speedup_equal_accuracy", **topk) == 2 / 1.25
    assert estimate(points, alpha="0", quantity="speedup_at_tolerance", **topk) == 2 / 1.25
    assert estimate(points, alpha="0", quantity="speedup_vs_full_T", **topk) == 2 / 1.25
    # alpha 0.5 is already at 0.75 at t = 1; the tolerance still refers to alpha = 0
    assert estimate(points, alpha="0.5", quantity="speedup_equal_accuracy", **topk) == 1 / 1.25
    assert estimate(points, alpha="0.5", quantity="speedup_at_tolerance", **topk) == 2 / 1.25
    # the RCS effect: paired differences against alpha = 0, each at its own point
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
        evaluate(runs, 0.5)


def test_held_out_speedup_uses_the_baseline_it_chose(runs):
    """Under a protocol, the speed-up at tolerance divides the alpha = 0 model's fixed T
    at that protocol's operating point, not the test curve's."""
    # on validation, alpha 0 is at its full-T accuracy from t = 1
    runs[("0", 0)] = run(
        [[0, 1], [1, 1], [0, 0], [1, 1]], [2, 1, 1, 1], val=([[1, 1]] * 4, [1, 1, 1, 1])
    )
    _, table, _, _ = evaluate(runs, 0.5, n_boot=100)
    held = dict(protocol="held-out", policy="topk", quantity="speedup_at_tolerance")
    assert estimate(table, alpha="0", **held) == 1 / 1.25  # validation chose T = 1
    paper = held | {"protocol": "paper"}
    assert estimate(table, alpha="0", **paper) == 2 / 1.25


@pytest.fixture
def summary(runs):
    keyed = {("d", "bptt", a, s): p for (a, s), p in runs.items()}
    return summarise(keyed, 0.5, n_boot=200)


def test_summary_tables_and_markdown(summary):
    assert set(summary.points["protocol"]) == {"held-out", "paper"}
    assert summary.sizes.to_dict("records") == [
        {"dataset": "d", "method": "bptt", "T": 2, "n_test": 4, "n_val": 4, "n_seeds": 1}
    ]
    per_run = summary.per_run[summary.per_run["protocol"] == "held-out"]
    per_run = per_run.set_index(["alpha", "policy"])
    assert per_run.loc[("0", "topk"), "mean_timesteps"] == 1.25
    assert per_run.loc[("0.5", "topk"), "accuracy"] == 0.75
    assert per_run.loc[("0.5", "timestep"), "value"] == 1.0
    text = summary_markdown(summary, 0.5, {"seeds": [0]}, ["a test machine"])
    assert "## d (bptt)" in text and "### held-out protocol" in text
    assert "| 0 | topk | 75.00 [" in text and "| speed-up at tolerance |" in text
    assert "| speed-up vs full T (the paper's) |" in text
    assert "RCS effect (α > 0 minus α = 0" in text and "Produced on a test machine." in text
    assert "4 test samples and 4 validation samples, 1 seed. " in text and "seeds:" in text
    assert "chooses each policy's knob and the baseline's fixed T anew on each seed's" in text


def test_headline_names_protocol_machine_and_effect(summary):
    text = headline_markdown(summary, 0.5, ["machine A", "machine B"])
    assert "no α = 0 run" not in text
    assert text.startswith("<!-- generated by spikecut")
    assert "Produced on machine A; machine B." in text
    (row, _) = [line for line in text.splitlines() if line.startswith("| d, bptt |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "2"  # T
    assert cells[2].startswith("50.00 [") and cells[3].startswith("75.00 [")
    assert cells[4].startswith("2.00 [")  # the baseline's fixed T
    assert cells[5].startswith("1.25 [") and cells[6].startswith("1.60 [")  # Top-K alone
    assert cells[7].startswith("1.60 [")  # the paper's: 2 / 1.25
    assert cells[8].startswith("0.5: 1.25 [") and cells[9].startswith("0.00 [")
    assert "(includes 0)" in cells[9]
    assert "**What the intervals say**" in text
    assert "- **d (bptt)**, held-out protocol: " in text


def test_headline_without_a_baseline_says_so(runs):
    keyed = {("d", "bptt", "0.5", 0): runs[("0.5", 0)]}
    text = headline_markdown(summarise(keyed, 0.5, n_boot=100), 0.5, ["m"])
    assert "| d, bptt | no α = 0 run to compare with |" in text
    assert "What the intervals say" not in text


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
