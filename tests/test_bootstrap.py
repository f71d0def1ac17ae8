"""The bootstrap against a resampling loop written out, against answers known
in closed form, and against scipy's one-level bootstrap."""

import numpy as np
import pytest
from scipy import stats

from spikecut.analysis.bootstrap import Resamples, interval
from spikecut.cutoff.steps import first_reaching


def loop_replicates(resamples, per_seed_statistic, data):
    """Replicate by replicate: index the drawn samples, compute per seed, then the mean
    over seeds plus the replicate's t draw times its standard error."""
    out = []
    for t, samples in zip(resamples.seed_t, resamples.samples):
        values = [per_seed_statistic(seed_data[..., samples]) for seed_data in data]
        out.append(np.mean(values) + t * np.std(values, ddof=1) / np.sqrt(len(values)))
    return np.array(out)


def test_vectorised_replicates_equal_a_loop():
    rng = np.random.default_rng(0)
    exits = rng.integers(1, 6, (3, 80)).astype(float)  # [S, N]
    correct = rng.random((3, 5, 80)) < np.linspace(0.5, 0.9, 5)[None, :, None]  # [S, T, N]
    resamples = Resamples.draw(3, 80, n_boot=300, seed=1)

    def mean_steps(r):
        return r.over_seeds(r.sample_means(exits))

    np.testing.assert_allclose(
        mean_steps(resamples), loop_replicates(resamples, np.mean, exits), rtol=1e-12
    )

    def speedup(r):  # nonlinear: the first T within 5 pp of full T, over mean steps
        acc = r.sample_means(correct)  # [B, S, T]
        return r.over_seeds(first_reaching(acc, acc[..., -1] - 0.05) / r.sample_means(exits))

    def one_seed(both):
        acc, steps = both[:5].mean(axis=-1), both[5].mean()
        reach = np.flatnonzero(acc >= acc[-1] - 0.05 - 1e-12)
        return (reach[0] + 1) / steps

    joined = np.concatenate([correct, exits[:, None, :]], axis=1)  # [S, T + 1, N]
    np.testing.assert_allclose(
        speedup(resamples), loop_replicates(resamples, one_seed, joined), rtol=1e-12
    )


def test_estimate_is_the_statistic_on_the_data():
    x = np.array([[1.0, 2.0, 3.0, 6.0], [2.0, 2.0, 2.0, 2.0]])
    got = interval(
        lambda r: r.over_seeds(r.sample_means(x)),
        Resamples.identity(4),
        Resamples.draw(2, 4, 500, 0),
    )
    assert got.estimate == pytest.approx((3.0 + 2.0) / 2)
    assert got.low <= got.estimate <= got.high


def test_bernoulli_interval_has_the_binomial_width():
    p, n = 0.3, 20_000
    correct = (np.random.default_rng(2).random((1, n)) < p).astype(float)
    got = interval(
        lambda r: r.over_seeds(r.sample_means(correct)),
        Resamples.identity(n),
        Resamples.draw(1, n, 2000, 3),
    )
    half = 1.96 * np.sqrt(correct.mean() * (1 - correct.mean()) / n)
    assert got.high - got.low == pytest.approx(2 * half, rel=0.1)
    # the same mean, summed in another order: equal to the last few bits only
    assert got.estimate == pytest.approx(correct.mean(), rel=1e-12)


def test_seeds_whose_samples_agree_give_a_t_interval():
    """Constant samples: a point. Seeds that differ while their samples do not: the t
    interval of their mean, S - 1 degrees of freedom, which for three seeds reaches
    past every seed's own value."""
    flat = np.full((1, 50), 0.8)
    got = interval(
        lambda r: r.over_seeds(r.sample_means(flat)),
        Resamples.identity(50),
        Resamples.draw(1, 50, 200, 0),
    )
    assert got.low == pytest.approx(0.8) and got.high == pytest.approx(0.8)
    per_seed = np.repeat(np.array([[0.0], [1.0], [2.0]]), 50, axis=1)
    got = interval(
        lambda r: r.over_seeds(r.sample_means(per_seed)),
        Resamples.identity(50),
        Resamples.draw(3, 50, 20_000, 0),
    )
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)  # the seeds' sd is 1
    assert got.estimate == pytest.approx(1.0)
    assert got.low == pytest.approx(1 - half, abs=0.1) and got.high == pytest.approx(
        1 + half, abs=0.1
    )
    assert got.low < 0.0 and got.high > 2.0


def test_one_seed_agrees_with_scipy():
    x = np.random.default_rng(4).exponential(size=400)
    ours = interval(
        lambda r: r.over_seeds(r.sample_means(x[None])),
        Resamples.identity(400),
        Resamples.draw(1, 400, 4000, 5),
    )
    theirs = stats.bootstrap(
        (x,), np.mean, n_resamples=4000, method="percentile", random_state=np.random.default_rng(6)
    ).confidence_interval
    # independent Monte Carlo draws: the ends agree to within their own noise
    width = theirs.high - theirs.low
    assert ours.low == pytest.approx(theirs.low, abs=0.05 * width)
    assert ours.high == pytest.approx(theirs.high, abs=0.05 * width)


def test_first_reaching():
    curves = np.array([[0.1, 0.5, 0.9], [0.2, 0.2, 0.2], [0.9, 0.1, 0.95]])
    assert first_reaching(curves, np.array([0.5, 0.3, 0.85])).tolist() == [2, 3, 1]


def test_bad_inputs():
    with pytest.raises(ValueError, match="at least one"):
        Resamples.draw(0, 10)
    with pytest.raises(ValueError, match="end in N = 10"):
        Resamples.draw(2, 10, 5).sample_means(np.ones((2, 9)))


def test_validation_draws_come_after_the_test_draws_and_average_like_a_loop():
    """Drawing validation samples too leaves the seed draws and test samples of a
    seed's replicates as they were; their means are those of the drawn samples."""
    with_val = Resamples.draw(3, 50, n_boot=40, seed=7, n_val=20)
    without = Resamples.draw(3, 50, n_boot=40, seed=7)
    assert np.array_equal(with_val.seed_t, without.seed_t)
    assert np.array_equal(with_val.samples, without.samples)
    x = np.random.default_rng(8).integers(0, 5, (3, 6, 20))  # [S, P, N_val]
    loop = np.stack([x[..., rows].mean(axis=-1) for rows in with_val.val_samples])
    np.testing.assert_allclose(with_val.val_means(x), loop, rtol=1e-12)
    # a per-seed array with trailing axes: reduced axis by axis
    per_seed = with_val.val_means(x)  # [B, S, P]
    loop = [
        per_seed[b].mean(axis=0) + t * per_seed[b].std(axis=0, ddof=1) / np.sqrt(3)
        for b, t in enumerate(with_val.seed_t)
    ]
    np.testing.assert_allclose(with_val.over_seeds(per_seed), np.stack(loop), rtol=1e-12)
    with pytest.raises(ValueError, match="no validation samples"):
        without.val_means(x)


def test_an_interval_stays_within_what_the_statistic_can_be():
    """Two seeds far apart: the t draws (one degree of freedom) reach below 0 and above
    1; an accuracy's interval stops at its bounds."""
    per_seed = np.repeat(np.array([[0.1], [0.9]]), 30, axis=1)

    def stat(r):
        return r.over_seeds(r.sample_means(per_seed))

    data, draws = Resamples.identity(30), Resamples.draw(2, 30, 2000, 0)
    free = interval(stat, data, draws)
    assert free.low < 0.0 and free.high > 1.0
    bounded = interval(stat, data, draws, bounds=(0.0, 1.0))
    assert (bounded.low, bounded.high) == (0.0, 1.0) and bounded.estimate == free.estimate


def test_the_percentile_design_draws_seeds_instead():
    """With ``resample_seeds`` a replicate is the mean over seeds drawn with
    replacement, and no t term: the design kept to measure its coverage against."""
    draws = Resamples.draw(3, 20, n_boot=50, seed=4, resample_seeds=True)
    assert draws.seeds.shape == (50, 3) and not draws.seed_t.any()
    per_seed = np.random.default_rng(5).random((50, 3, 2))
    loop = np.stack([per_seed[b][seeds].mean(axis=0) for b, seeds in enumerate(draws.seeds)])
    np.testing.assert_allclose(draws.over_seeds(per_seed), loop, rtol=1e-12)
