import numpy as np
import pytest
from conftest import random_logits

from spikecut.cutoff import StepOutputs, fixed_steps_needed, make_policy, sweep, top2_gap


def brute_topk(test_logits, thresholds):
    """Step each sample forward until its gap beats that step's threshold."""
    n, n_steps, _ = test_logits.shape
    exits, preds = [], []
    for i in range(n):
        acc = np.zeros(test_logits.shape[2])
        for t in range(n_steps):
            acc = acc + test_logits[i, t]
            top = np.sort(acc)
            if top[-1] - top[-2] > thresholds[t] or t == n_steps - 1:
                exits.append(t + 1)
                preds.append(acc.argmax())
                break
    return np.array(exits), np.array(preds)


def test_topk_sweep_matches_per_sample_loop(rng):
    cal = StepOutputs(*random_logits(rng, n=400, n_steps=6))
    test_logits, test_labels = random_logits(rng, n=250, n_steps=6)
    test = StepOutputs(test_logits, test_labels)
    epsilons = [0.0, 0.05, 0.2]
    curve, exits = sweep(test, cal, ["topk"], epsilons)
    policy = make_policy("topk")
    for eps, row in zip(epsilons, curve.itertuples()):
        thr = policy.thresholds(cal, eps)
        steps, preds = brute_topk(test_logits, thr)
        assert row.mean_timesteps == pytest.approx(steps.mean())
        assert row.accuracy == pytest.approx((preds == test_labels).mean())
        hist = exits[exits["value"] == eps].sort_values("timestep")["count"].to_numpy()
        np.testing.assert_array_equal(hist, np.bincount(steps, minlength=7)[1:])


def test_timestep_and_oct_points(rng):
    logits, labels = random_logits(rng, n=100, n_steps=5)
    test = StepOutputs(logits, labels)
    curve, _ = sweep(test, None, ["timestep", "oct"], [])
    fixed = curve[curve["policy"] == "timestep"]
    assert fixed["value"].tolist() == [1, 2, 3, 4, 5]
    for row in fixed.itertuples():
        preds = np.cumsum(logits[:, : int(row.value)], axis=1)[:, -1].argmax(1)
        assert row.accuracy == pytest.approx((preds == labels).mean())
    oracle = curve[curve["policy"] == "oct"].iloc[0]
    assert oracle.accuracy == pytest.approx(fixed["accuracy"].iloc[-1])
    assert oracle.mean_timesteps <= 5


def test_fixed_steps_needed_and_speedup():
    fixed = np.array([0.5, 0.7, 0.9, 0.85])
    got = fixed_steps_needed(fixed, np.array([0.4, 0.7, 0.88, 0.95]))
    assert got.tolist() == [1, 2, 3, 4]  # 0.95 beats every fixed T: compare with T


def test_topk_fires_strictly_above_threshold():
    policy = make_policy("topk")
    logits = np.array([[[1.0, 0.0], [1.0, 0.0]]])  # gap 1 at t=1, 2 at t=2
    out = StepOutputs(logits, np.array([0]))
    assert policy.exit_steps(out, np.array([1.0, 0.0])).tolist() == [2]
    assert policy.exit_steps(out, np.array([0.5, 0.0])).tolist() == [1]
    assert top2_gap(out.accumulated).tolist() == [[1.0, 2.0]]


def test_calibrated_policy_needs_calibration(rng):
    test = StepOutputs(*random_logits(rng, n=10, n_steps=3))
    with pytest.raises(ValueError, match="calibration"):
        sweep(test, None, ["topk"], [0.0])


def test_unknown_policy():
    with pytest.raises(ValueError, match="unknown cutoff policy"):
        make_policy("magic")
