"""The confidence, entropy and SpikeCP policies, calibrated and raw, against per-sample
loops written from their definitions; conformal coverage on exchangeable data."""

import decimal
import math

import numpy as np
import pytest
from conftest import random_logits

from spikecut.cutoff import StepOutputs, make_policy, sweep
from spikecut.cutoff.policies import SpikeCP, exits_at_constant_thresholds, raw_grid

Dec = decimal.Decimal


def exact_softmax(acc):
    """softmax of a list of floats in decimal arithmetic with enough digits that
    1 - p1 survives: 1 - p1 is about exp(-gap)."""
    gap = max(acc) - sorted(acc)[-2]
    with decimal.localcontext(decimal.Context(prec=40 + int(gap / 2.3))):
        e = [(Dec(x) - Dec(max(acc))).exp() for x in acc]
        return [+(x / sum(e)) for x in e]


def confidence_score(acc):
    """log(p1 / (1 - p1)) of the largest probability, 1 - p1 summed from the others."""
    p = sorted(exact_softmax(acc))
    with decimal.localcontext(decimal.Context(prec=len(p[-1].as_tuple().digits))):
        return float((p[-1] / sum(p[:-1])).ln())


def neg_log_entropy_score(acc):
    p = exact_softmax(acc)
    with decimal.localcontext(decimal.Context(prec=max(len(x.as_tuple().digits) for x in p))):
        return float(-(-sum(x * x.ln() for x in p if x > 0)).ln())


def brute_exits(logits, score, thresholds, inclusive):
    """Step each sample forward until score(Y(t)) reaches (inclusive) or beats
    threshold(t)."""
    n, n_steps, _ = logits.shape
    exits = []
    for i in range(n):
        acc = np.zeros(logits.shape[2])
        for t in range(n_steps):
            acc = acc + logits[i, t]
            value = score(list(acc))
            if (value >= thresholds[t] if inclusive else value > thresholds[t]) or t == n_steps - 1:
                exits.append(t + 1)
                break
    return np.array(exits)


@pytest.fixture
def sets(rng):
    cal = StepOutputs(*random_logits(rng, n=300, n_steps=5, n_classes=4))
    test = StepOutputs(*random_logits(rng, n=120, n_steps=5, n_classes=4))
    return cal, test


@pytest.mark.parametrize(
    "name, score, reported",
    [
        ("confidence", confidence_score, lambda s: 1 / (1 + math.exp(-s))),  # theta = p1
        ("entropy", neg_log_entropy_score, lambda s: math.exp(-s)),  # h, in nats
    ],
)
def test_score_policies_match_per_sample_loops(sets, name, score, reported):
    cal, test = sets
    policy = make_policy(name)
    points = list(policy.operating_points(test, cal, [0.0, 0.1, 0.3], raw=7))
    calibrated = [p for p in points if p.parameter == "epsilon"]
    raw = [p for p in points if p.policy == f"{name}-raw"]
    assert len(calibrated) == 3 and 1 <= len(raw) <= 7
    for point in calibrated:
        thr = policy.thresholds(cal, point.value)
        np.testing.assert_array_equal(
            point.exit_steps, brute_exits(test.logits, score, thr, inclusive=True)
        )
    grid = raw_grid(policy.scores(cal), 7)
    for point, thr in zip(raw, grid):
        want = brute_exits(test.logits, score, np.full(test.n_steps, thr), inclusive=True)
        np.testing.assert_array_equal(point.exit_steps, want)
        assert point.value == pytest.approx(reported(thr))


@pytest.mark.parametrize(
    "name, score", [("confidence", confidence_score), ("entropy", neg_log_entropy_score)]
)
def test_scores_equal_exact_arithmetic_and_keep_their_ranks(rng, name, score):
    # gaps from 0 to ~2000 nats: float32 softmax is exactly 1.0 for most of these, and
    # float64 for the largest
    logits = rng.normal(size=(150, 3, 6)) * np.geomspace(0.1, 300, 150)[:, None, None]
    outputs = StepOutputs(logits, rng.integers(0, 6, 150))
    got = make_policy(name).scores(outputs)
    want = np.array(
        [[score(list(outputs.accumulated[i, t])) for t in range(3)] for i in range(150)]
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.isfinite(got).all()
    # no two samples tie unless they tie exactly
    assert len(np.unique(got)) == len(np.unique(want)) == got.size


def test_confident_samples_do_not_saturate_calibration(rng):
    """Where max softmax rounds to 1, thresholds became +inf and exits came late. The
    log-odds score keeps the calibrated exits equal to those in exact arithmetic."""
    logits, labels = random_logits(rng, n=400, n_steps=6, n_classes=5, signal=1.0)
    cal = StepOutputs(logits * 25, labels)
    assert (cal.max_probability.astype(np.float32) == 1.0).mean() > 0.3
    logits, labels = random_logits(rng, n=150, n_steps=6, n_classes=5, signal=1.0)
    test = StepOutputs(logits * 25, labels)
    policy = make_policy("confidence")
    for eps in (0.0, 0.02, 0.05):
        thr = policy.thresholds(cal, eps)
        assert not np.isposinf(thr[1:]).any()
        (point,) = policy.operating_points(test, cal, [eps])
        np.testing.assert_array_equal(
            point.exit_steps, brute_exits(test.logits, confidence_score, thr, inclusive=True)
        )


def test_comparisons_at_the_boundary():
    """Top-K fires at gap > beta, confidence at p1 >= theta, entropy at H <= h (docs/method.md §2).
    Calibrated on two samples, only the more confident of which is final at t = 1, the
    threshold is that sample's own score: an identical test sample stops at t = 1 under
    confidence and entropy. Under Top-K the threshold is the other sample's gap, and a
    test sample with exactly that gap does not stop."""
    cal = StepOutputs(
        np.array(
            [
                [[4.0, 0.0, 0.0], [1.0, 0.0, 0.0]],  # right at once
                [[0.0, 1.0, 0.0], [5.0, 0.0, 0.0]],
            ]
        ),  # wrong, then right
        np.array([0, 0]),
    )
    assert cal.oct.tolist() == [1, 2]
    confident = StepOutputs(cal.logits[:1].copy(), cal.labels[:1])
    doubtful = StepOutputs(cal.logits[1:].copy(), cal.labels[1:])
    for name in ("confidence", "entropy"):
        policy = make_policy(name)
        thr = policy.thresholds(cal, 0.0)
        assert thr[0] == policy.scores(confident)[0, 0]  # no lower candidate qualifies
        assert policy.exit_steps(confident, thr).tolist() == [1]  # score == threshold
        assert policy.exit_steps(doubtful, thr).tolist() == [2]
    topk = make_policy("topk")
    beta = topk.thresholds(cal, 0.0)
    assert beta[0] == 1.0  # the doubtful sample's gap: above it only the final one
    assert topk.exit_steps(confident, beta).tolist() == [1]
    assert topk.exit_steps(doubtful, beta).tolist() == [2]  # gap 1 is not > 1
    # raw thresholds compare the same way
    conf = make_policy("confidence")
    at = conf.scores(confident)
    assert exits_at_constant_thresholds(at, at[:, 0], True).tolist() == [[1]]
    gap = topk.scores(doubtful)  # 1, then 5
    assert exits_at_constant_thresholds(gap, gap[:, 0], False).tolist() == [[2]]


def test_spikecp_with_sets_as_large_as_the_classes_stops_at_once():
    cal = StepOutputs(np.array([[[0.0, 2.0], [3.0, 0.0]]]), np.array([0]))
    (point,) = SpikeCP({"max_set_size": 2}).operating_points(cal, cal, [0.0])  # q = +inf
    assert point.exit_steps.tolist() == [1]


@pytest.mark.parametrize("inclusive", [False, True])
def test_constant_threshold_exits_equal_a_loop(rng, inclusive):
    scores = np.round(rng.normal(size=(200, 6)), 1)  # ties with the thresholds occur
    thresholds = np.array([-1.0, 0.0, 0.3, 2.5])
    got = exits_at_constant_thresholds(scores, thresholds, inclusive)
    for r, thr in enumerate(thresholds):
        for i in range(200):
            fired = np.flatnonzero(scores[i] >= thr if inclusive else scores[i] > thr)
            assert got[r, i] == (fired[0] + 1 if len(fired) else 6)


def brute_spikecp(cal, test, alpha_per_step, k):
    """Sets built class by class from a sorted list of calibration scores 1 - p_y, in
    exact arithmetic."""
    n = len(cal.labels)
    rank = math.ceil((n + 1) * (1 - alpha_per_step) - 1e-9)
    exits = []
    for i in range(len(test.labels)):
        acc = np.zeros(test.logits.shape[2])
        for t in range(test.n_steps):
            cal_scores = sorted(
                1 - exact_softmax(list(cal.accumulated[j, t]))[cal.labels[j]] for j in range(n)
            )
            q = cal_scores[rank - 1] if rank <= n else Dec("Infinity")
            acc = acc + test.logits[i, t]
            size = sum(1 - p <= q for p in exact_softmax(list(acc)))
            if 1 <= size <= k or t == test.n_steps - 1:
                exits.append(t + 1)
                break
    return np.array(exits)


@pytest.mark.parametrize("k", [1, 2])
def test_spikecp_matches_sets_built_by_hand(rng, k):
    cal = StepOutputs(*random_logits(rng, n=60, n_steps=4, n_classes=4))
    test = StepOutputs(*random_logits(rng, n=40, n_steps=4, n_classes=4))
    policy = SpikeCP({"max_set_size": k})
    points = list(policy.operating_points(test, cal, [0.2, 0.5], raw=3))
    for point in points:
        per_step = point.value / 4 if point.parameter == "epsilon" else point.value
        want = brute_spikecp(cal, test, per_step, k)
        np.testing.assert_array_equal(point.exit_steps, want, err_msg=str(point))


def exchangeable(rng, n, n_steps=4, n_classes=5):
    """Samples drawn i.i.d. from one distribution: calibration and test exchangeable."""
    return StepOutputs(*random_logits(rng, n=n, n_steps=n_steps, n_classes=n_classes, signal=0.6))


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
        policy = SpikeCP({"max_set_size": 2})
        (point,) = policy.operating_points(test, cal, [epsilon])
        q = SpikeCP.quantiles(np.sort(SpikeCP.nonconformity(cal), axis=0), epsilon / test.n_steps)
        at_exit = SpikeCP.nonconformity(test)[np.arange(200), point.exit_steps - 1]
        hits += int((at_exit <= q[point.exit_steps - 1]).sum())
        total += 200
    assert hits / total >= 1 - epsilon - 0.01  # Bonferroni: at least 1 - epsilon


def test_sweep_reports_calibrated_and_raw_points(sets):
    cal, test = sets
    curve, exits = sweep(
        test,
        cal,
        ["timestep", "topk", "confidence", "entropy", "spikecp", "oct"],
        [0.05, 0.1],
        raw=5,
    )
    assert set(curve["policy"]) == {
        "timestep",
        "topk",
        "confidence",
        "entropy",
        "spikecp",
        "oct",
        "topk-raw",
        "confidence-raw",
        "entropy-raw",
        "spikecp-raw",
    }
    assert (curve.loc[curve["policy"] == "spikecp-raw", "parameter"] == "alpha").all()
    assert exits.groupby(["policy", "value"])["count"].sum().eq(len(test.labels)).all()


def test_spikecp_uses_one_expression_on_both_sides():
    """A test sample identical to the calibration sample: at alpha = 0.5, q is that
    sample's own nonconformity, so its set at t = 1 holds both classes and, with
    max_set_size 1, it must not stop there."""
    cal = StepOutputs(np.array([[[0.0, 2.0], [3.0, 0.0]]]), np.array([0]))
    test = StepOutputs(cal.logits.copy(), cal.labels)
    (point,) = SpikeCP({"max_set_size": 1}).operating_points(test, cal, [], raw=1)
    assert point.value == 0.5 and point.exit_steps.tolist() == [2]
    q = SpikeCP.quantiles(np.sort(SpikeCP.nonconformity(cal), axis=0), 0.5)
    top, nxt = SpikeCP().bounds(test)
    assert top[0, 0] < q[0] and nxt[0, 0] == q[0]  # the second class ties: it is in
    # the online rule decides from Y(t) alone, with the same expression: two copies of
    # the calibration sample and epsilon = 2/3 give alpha = 1/3 per step and q = their
    # nonconformity again
    twice = StepOutputs(np.repeat(cal.logits, 2, axis=0), np.array([0, 0]))
    rule = SpikeCP().stopping_rule(twice, 2 / 3)
    assert rule(test.accumulated[:, 0], 1).tolist() == [False]
    assert rule(test.accumulated[:, 1], 2).tolist() == [True]


def test_bad_knobs():
    with pytest.raises(ValueError, match="max_set_size"):
        SpikeCP({"max_set_size": 0})
    with pytest.raises(ValueError, match="alpha"):
        SpikeCP.quantiles(np.zeros((3, 2)), 1.0)
