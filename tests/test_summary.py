import pandas as pd
import pytest

from spikecut.analysis import operating_points, summarise, summary_markdown
from spikecut.cutoff import fixed_steps_needed


def curve_rows(alpha, seed, fixed, topk):
    """Rows as sweep_cutoff writes them: fixed-T accuracies for t = 1..T, and Top-K
    (epsilon, accuracy, mean timesteps) points."""
    n_steps = len(fixed)
    rows = [dict(policy="timestep", parameter="T_fixed", value=t + 1, accuracy=a,
                 mean_timesteps=t + 1) for t, a in enumerate(fixed)]
    rows += [dict(policy="topk", parameter="epsilon", value=e, accuracy=a, mean_timesteps=m)
             for e, a, m in topk]
    rows.append(dict(policy="oct", parameter="oracle", value=float("nan"),
                     accuracy=fixed[-1], mean_timesteps=1.5))
    frame = pd.DataFrame(rows)
    frame["fixed_T_equal_accuracy"] = fixed_steps_needed(fixed, frame["accuracy"])
    frame["speedup_equal_accuracy"] = frame["fixed_T_equal_accuracy"] / frame["mean_timesteps"]
    return frame.assign(dataset="d", method="bptt", alpha=alpha, seed=seed, n_steps=n_steps)


@pytest.fixture
def curves():
    return pd.concat([
        # baseline: full-T accuracy 0.900; within 0.5 pp needs T = 3 (0.897)
        curve_rows("0", 0, [0.80, 0.88, 0.897, 0.90], [(0.0, 0.90, 3.5), (0.05, 0.894, 2.0)]),
        curve_rows("0", 1, [0.82, 0.89, 0.90, 0.90], [(0.0, 0.90, 3.0), (0.05, 0.896, 2.2)]),
        # RCS: Top-K at eps 0.05 stays within 0.5 pp with 1.6 steps
        curve_rows("0.05", 0, [0.86, 0.90, 0.90, 0.90], [(0.0, 0.90, 2.0), (0.05, 0.896, 1.6)]),
        curve_rows("0.05", 1, [0.85, 0.89, 0.90, 0.90], [(0.0, 0.90, 2.5), (0.05, 0.899, 2.0)]),
    ], ignore_index=True)


def test_operating_points_by_hand(curves):
    per_run = operating_points(curves, max_loss_pp=0.5).set_index(["alpha", "seed", "policy"])
    assert per_run.loc[("0", 0, "timestep"), "mean_timesteps"] == 3
    assert per_run.loc[("0", 1, "timestep"), "mean_timesteps"] == 3
    assert per_run.loc[("0", 0, "topk"), "mean_timesteps"] == 3.5  # 0.894 is 0.6 pp off
    assert per_run.loc[("0", 1, "topk"), "mean_timesteps"] == 2.2
    assert per_run.loc[("0.05", 0, "topk"), "mean_timesteps"] == 1.6
    assert per_run.loc[("0.05", 0, "timestep"), "mean_timesteps"] == 2
    assert per_run.loc[("0.05", 0, "topk"), "reduction"] == pytest.approx(4 / 1.6)
    # at tolerance: the alpha = 0 model needs a fixed T = 3 within 0.5 pp
    assert per_run.loc[("0.05", 0, "topk"), "fixed_T_at_tolerance"] == 3
    assert per_run.loc[("0.05", 0, "topk"), "speedup_at_tolerance"] == pytest.approx(3 / 1.6)
    # at equal accuracy: the same run's fixed T = 2 already reaches 0.896
    assert per_run.loc[("0.05", 0, "topk"), "fixed_T_equal_accuracy"] == 2
    assert per_run.loc[("0.05", 0, "topk"), "speedup_equal_accuracy"] == pytest.approx(2 / 1.6)
    assert per_run.loc[("0.05", 1, "oct"), "mean_timesteps"] == 1.5


def test_summary_table_and_markdown(curves):
    per_run, table = summarise(curves, 0.5)
    assert len(per_run) == 4 * 3  # runs x policies
    row = table[(table["alpha"] == "0.05") & (table["policy"] == "topk")].iloc[0]
    assert row["mean_timesteps_mean"] == pytest.approx(1.8)
    assert row["mean_timesteps_std"] == pytest.approx(pd.Series([1.6, 2.0]).std())
    assert row["n_seeds"] == 2 and row["n_steps"] == 4
    text = summary_markdown(table, 0.5, {"seeds": [0, 1]})
    assert "## d (bptt)" in text
    assert "RCS (α = 0.05) + Top-K needs 1.80 mean timesteps" in text
    assert "fixed T needs 3.00" in text and "(speed-up at tolerance)" in text
    assert "| speed-up at tolerance | speed-up at equal accuracy |" in text
    assert "seeds:" in text


def test_early_exit_table_means_over_seeds():
    from spikecut.analysis.summary import early_exit_markdown

    timings = pd.DataFrame({
        "dataset": "digits", "method": "bptt", "alpha": "0.05", "policy": "topk",
        "epsilon": 0.02, "seed": [0, 1], "mean_timesteps": [1.5, 2.5], "n_steps": 4,
        "accuracy": [0.9, 0.8], "wall_speedup": [1.8, 1.4],
        "matches_simulation": [True, True]})
    (row,) = [line for line in early_exit_markdown(timings) if line.startswith("| digits")]
    assert row == ("| digits | bptt | 0.05 | topk | 0.02 | 2.00 of 4 | 2.00× | 1.60× "
                   "| 85.00 | yes |")
