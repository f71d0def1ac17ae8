import numpy as np
import pytest
from conftest import random_logits

from spikecut.cutoff import StepOutputs, calibrate_exact, calibrate_grid, make_policy, top2_gap


def brute_threshold(gaps, reached, epsilon, candidates):
    """The paper's rule, literally: the smallest candidate whose selected set is at
    least 1 - epsilon reached."""
    for beta in sorted(candidates):
        selected = gaps > beta
        if selected.sum() and reached[selected].sum() >= (1 - epsilon) * selected.sum() - 1e-9:
            return beta
    return None


@pytest.mark.parametrize("epsilon", [0.0, 0.01, 0.05, 0.1, 0.3])
@pytest.mark.parametrize("seed", range(4))
def test_exact_calibration_matches_every_candidate_beta(epsilon, seed):
    rng = np.random.default_rng(seed)
    logits, labels = random_logits(rng, n=150, n_steps=5, signal=0.8)
    # quantise some logits so that ties between gaps occur
    logits[:40] = np.round(logits[:40])
    outputs = StepOutputs(logits, labels)
    gaps = top2_gap(outputs.accumulated)
    reached = outputs.oct[:, None] <= np.arange(1, 6)
    got = calibrate_exact(gaps, reached, epsilon)
    for t in range(5):
        g = gaps[:, t]
        candidates = [0.0] + [b for b in np.unique(g) if b < g.max()]
        want = brute_threshold(g, reached[:, t], epsilon, candidates)
        assert (np.isinf(got[t]) and want is None) or got[t] == want


def authors_grid(gaps, reached, epsilon, bins=100):
    """TopKCutoff.setup of github Dengyu-Wu/snncutoff, restated: beta_m = m G / bins for
    m = 0..bins-1 with G the largest gap of all samples and steps; conf = selected and
    reached / selected (NaN for an empty selection); conf of the last beta forced to 1;
    per step the first beta with conf >= 1 - epsilon."""
    step = gaps.max() / bins
    betas = [m * step for m in range(bins)]
    out = []
    for t in range(gaps.shape[1]):
        with np.errstate(invalid="ignore", divide="ignore"):
            conf = [
                (reached[:, t] & (gaps[:, t] > b)).sum() / (gaps[:, t] > b).sum() for b in betas
            ]
        conf[-1] = 1.0
        out.append(betas[next(m for m, c in enumerate(conf) if c >= 1 - epsilon)])
    return np.array(out)


@pytest.mark.parametrize("epsilon", [0.0, 0.02, 0.1])
def test_grid_calibration_is_the_authors(rng, epsilon):
    logits, labels = random_logits(rng, n=120, n_steps=4)
    outputs = StepOutputs(logits, labels)
    gaps = top2_gap(outputs.accumulated)
    reached = outputs.oct[:, None] <= np.arange(1, 5)
    got = calibrate_grid(gaps, reached, epsilon, n_candidates=100)
    np.testing.assert_allclose(got, authors_grid(gaps, reached, epsilon), rtol=1e-12)
    # one grid for every step: each threshold is a multiple of G / 100
    m = got / (gaps.max() / 100)
    np.testing.assert_allclose(m, np.round(m), atol=1e-9)


def test_grid_worked_example():
    """N = 1, T = 4, C = 2: Y(t) = [1, 0], [0, 2], [4, 0], [8, 0], label 0, so OCT = 3
    and G = 8. At t = 1, 2 no candidate of the grid 0, 0.08, ..., 7.92 qualifies and the
    forced last one, 7.92, is taken; per-step grids would give 0.99 and 1.98."""
    outputs = StepOutputs(
        np.array([[[1.0, 0.0], [-1.0, 2.0], [4.0, -2.0], [4.0, 0.0]]]), np.array([0])
    )
    assert outputs.oct.tolist() == [3]
    thresholds = make_policy("topk", {"grid": 100}).thresholds(outputs, 0.0)
    np.testing.assert_allclose(thresholds, [7.92, 7.92, 0.0, 0.0])
    assert make_policy("topk").thresholds(outputs, 0.0).tolist() == [np.inf, np.inf, 0.0, 0.0]


@pytest.mark.parametrize("epsilon", [0.0, 0.05, 0.2])
def test_inclusive_calibration_matches_every_candidate(rng, epsilon):
    scores = np.round(rng.normal(size=(150, 4)), 1)  # ties
    reached = rng.random((150, 4)) < np.linspace(0.5, 1.0, 4)
    got = calibrate_exact(scores, reached, epsilon, floor=-np.inf, inclusive=True)
    for t in range(4):
        s, r = scores[:, t], reached[:, t]
        want = None
        for theta in [-np.inf, *np.unique(s)]:
            chosen = s >= theta
            if chosen.sum() and r[chosen].sum() >= (1 - epsilon) * chosen.sum() - 1e-9:
                want = theta
                break
        assert (np.isposinf(got[t]) and want is None) or got[t] == want


def test_no_qualifying_candidate_never_fires():
    gaps = np.array([[1.0], [2.0], [3.0]])
    reached = np.zeros((3, 1), bool)  # nobody is ever final
    assert np.isinf(calibrate_exact(gaps, reached, 0.0)).all()


def test_threshold_is_smallest_qualifying():
    # gaps 1..4; only the two largest are reached: beta = 2 selects exactly them
    gaps = np.array([[1.0], [2.0], [3.0], [4.0]])
    reached = np.array([[False], [False], [True], [True]])
    assert calibrate_exact(gaps, reached, 0.0).tolist() == [2.0]
    # with epsilon 1/3 a set of 3 with 2 reached qualifies: beta = 1
    assert calibrate_exact(gaps, reached, 1 / 3).tolist() == [1.0]


@pytest.mark.parametrize("epsilon", [-0.1, 1.0])
def test_bad_epsilon(epsilon):
    with pytest.raises(ValueError, match="epsilon"):
        calibrate_exact(np.ones((3, 2)), np.ones((3, 2), bool), epsilon)
