import numpy as np
import pytest
from conftest import random_logits

from spikecut.cutoff import StepOutputs, calibrate_exact, calibrate_grid, top2_gap


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


def test_grid_calibration_matches_brute_force_and_falls_back(rng):
    logits, labels = random_logits(rng, n=120, n_steps=4)
    outputs = StepOutputs(logits, labels)
    gaps = top2_gap(outputs.accumulated)
    reached = outputs.oct[:, None] <= np.arange(1, 5)
    got = calibrate_grid(gaps, reached, 0.02, n_candidates=100)
    for t in range(4):
        candidates = np.linspace(0, gaps[:, t].max(), 100, endpoint=False)
        want = brute_threshold(gaps[:, t], reached[:, t], 0.02, candidates)
        assert got[t] == (candidates[-1] if want is None else want)


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
