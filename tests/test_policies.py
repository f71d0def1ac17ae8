"""The confidence, entropy and SpikeCP policies, calibrated and raw, against per-sample
loops written from their definitions; conformal coverage on exchangeable data."""

import math

import numpy as np
import pytest
from conftest import random_logits

from spikecut.cutoff import StepOutputs, make_policy, sweep
from spikecut.cutoff.policies import SpikeCP, exits_at_constant_thresholds, raw_grid


def softmax(v):
    e = [math.exp(x - max(v)) for x in v]
    return [x / sum(e) for x in e]


def confidence_score(acc):
    return max(softmax(acc))


def neg_entropy_score(acc):
    return sum(p * math.log(p) for p in softmax(acc) if p > 0)


def brute_exits(logits, score, thresholds):
    """Step each sample forward until score(Y(t)) beats threshold(t)."""
    n, n_steps, _ = logits.shape
    exits = []
    for i in range(n):
        acc = np.zeros(logits.shape[2])
        for t in range(n_steps):
            acc = acc + logits[i, t]
            if score(list(acc)) > thresholds[t] or t == n_steps - 1:
                exits.append(t + 1)
                break
    return np.array(exits)


@pytest.fixture
def sets(rng):
    cal = StepOutputs(*random_logits(rng, n=300, n_steps=5, n_classes=4))
    test = StepOutputs(*random_logits(rng, n=120, n_steps=5, n_classes=4))
    return cal, test


@pytest.mark.parametrize("name, score", [("confidence", confidence_score),
                                         ("entropy", neg_entropy_score)])
def test_score_policies_match_per_sample_loops(sets, name, score):
    cal, test = sets
    policy = make_policy(name)
    points = list(policy.operating_points(test, cal, [0.0, 0.1, 0.3], raw=7))
    calibrated = [p for p in points if p.parameter == "epsilon"]
    raw = [p for p in points if p.policy == f"{name}-raw"]
    assert len(calibrated) == 3 and 1 <= len(raw) <= 7
    for point in calibrated:
        thr = policy.thresholds(cal, point.value)
        np.testing.assert_array_equal(point.exit_steps, brute_exits(test.logits, score, thr))
    grid = raw_grid(policy.scores(cal), 7)
    for point, thr in zip(raw, grid):
        want = brute_exits(test.logits, score, np.full(test.n_steps, thr))
        np.testing.assert_array_equal(point.exit_steps, want)
        expected = -thr if name == "entropy" else thr  # entropy reports h itself
        assert point.value == pytest.approx(expected)


def test_constant_threshold_exits_equal_a_loop(rng):
    scores = rng.normal(size=(200, 6))
    thresholds = np.array([-1.0, 0.0, 0.3, 2.5])
    got = exits_at_constant_thresholds(scores, thresholds)
    for r, thr in enumerate(thresholds):
        for i in range(200):
            fired = np.flatnonzero(scores[i] > thr)
            assert got[r, i] == (fired[0] + 1 if len(fired) else 6)


def brute_spikecp(cal, test, alpha_per_step, k):
    """Sets built class by class from a sorted list of calibration scores."""
    n = len(cal.labels)
    rank = math.ceil((n + 1) * (1 - alpha_per_step) - 1e-9)
    exits = []
    for i in range(len(test.labels)):
        acc = np.zeros(test.logits.shape[2])
        for t in range(test.n_steps):
            cal_scores = sorted(1 - float(softmax(list(cal.accumulated[j, t]))[cal.labels[j]])
                                for j in range(n))
            q = cal_scores[rank - 1] if rank <= n else math.inf
            acc = acc + test.logits[i, t]
            size = sum(1 - p <= q for p in softmax(list(acc)))
            if 1 <= size <= k or t == test.n_steps - 1:
                exits.append(t + 1)
                break
    return np.array(exits)


@pytest.mark.parametrize("k", [1, 2])
def test_spikecp_matches_sets_built_by_hand(rng, k):
    cal = StepOutputs(*random_logits(rng, n=60, n_steps=4, n_classes=4))
    test = StepOutputs(*random_logits(rng, n=40, n_steps=4, n_classes=4))
    policy = SpikeCP(max_set_size=k)
    points = list(policy.operating_points(test, cal, [0.2, 0.5], raw=3))
    for point in points:
        per_step = point.value / 4 if point.parameter == "epsilon" else point.value
        want = brute_spikecp(cal, test, per_step, k)
        np.testing.assert_array_equal(point.exit_steps, want, err_msg=str(point))


def exchangeable(rng, n, n_steps=4, n_classes=5):
    """Samples drawn i.i.d. from one distribution: calibration and test exchangeable."""
    return StepOutputs(*random_logits(rng, n=n, n_steps=n_steps, n_classes=n_classes,
                                      signal=0.6))


def test_conformal_sets_cover_within_the_finite_sample_bound(rng):
    n, alpha, reps = 99, 0.2, 300
    coverage = []
    for _ in range(reps):
        cal, test = exchangeable(rng, n), exchangeable(rng, 200)
        q = SpikeCP.quantiles(np.sort(SpikeCP.nonconformity(cal), axis=0), alpha)
        covered = SpikeCP.nonconformity(test) <= q[None, :]  # y in C_t
        coverage.append(covered.mean(axis=0))
    mean = np.mean(coverage, axis=0)  # per step
    # 1 - alpha <= E[coverage] <= 1 - alpha + 1/(n + 1); Monte Carlo error ~0.003
    assert (mean >= 1 - alpha - 0.01).all()
    assert (mean <= 1 - alpha + 1 / (n + 1) + 0.01).all()


def test_spikecp_covers_at_its_stopping_step(rng):
    epsilon, hits, total = 0.2, 0, 0
    for _ in range(100):
        cal, test = exchangeable(rng, 150), exchangeable(rng, 200)
        policy = SpikeCP(max_set_size=2)
        (point,) = policy.operating_points(test, cal, [epsilon])
        q = SpikeCP.quantiles(np.sort(SpikeCP.nonconformity(cal), axis=0),
                              epsilon / test.n_steps)
        at_exit = SpikeCP.nonconformity(test)[np.arange(200), point.exit_steps - 1]
        hits += int((at_exit <= q[point.exit_steps - 1]).sum())
        total += 200
    assert hits / total >= 1 - epsilon - 0.01  # Bonferroni: at least 1 - epsilon


def test_sweep_reports_calibrated_and_raw_points(sets):
    cal, test = sets
    curve, exits = sweep(test, cal, ["timestep", "topk", "confidence", "entropy", "spikecp",
                                     "oct"], [0.05, 0.1], raw=5)
    assert set(curve["policy"]) == {"timestep", "topk", "confidence", "entropy", "spikecp",
                                    "oct", "topk-raw", "confidence-raw", "entropy-raw",
                                    "spikecp-raw"}
    assert (curve.loc[curve["policy"] == "spikecp-raw", "parameter"] == "alpha").all()
    assert exits.groupby(["policy", "value"])["count"].sum().eq(len(test.labels)).all()


def test_bad_knobs():
    with pytest.raises(ValueError, match="max_set_size"):
        SpikeCP(max_set_size=0)
    with pytest.raises(ValueError, match="alpha"):
        SpikeCP.quantiles(np.zeros((3, 2)), 1.0)
