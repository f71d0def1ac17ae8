"""The coverage simulation: its exact population curves against a large sample, its
truth against a loop over seeds, and the intervals' coverage on simulated runs."""

import numpy as np
import pytest

from spikecut.analysis.coverage import ExitModel, coverage, main, rates
from tests.test_protocols import loop_choice


def test_population_curves_equal_a_large_sample():
    model = ExitModel()
    accuracy, steps = model.population(np.array([0.2]), treated=True)
    u, v = np.random.default_rng(0).random((2, 400_000))
    split = model._split(u, v, 0.2, treated=True)
    # binomial noise of 400,000 samples: about 0.0005 in accuracy
    np.testing.assert_allclose(accuracy[0], split.right.mean(axis=1), atol=0.002)
    np.testing.assert_allclose(steps[0], split.exits.mean(axis=1), atol=0.01)
    # more steps, more accuracy; Top-K's higher levels wait longer and err less
    fixed = accuracy[0][: model.n_steps]
    assert (np.diff(fixed) > 0).all() and (np.diff(steps[0][model.n_steps :]) > 0).all()


def test_the_truth_is_the_mean_over_seeds_of_each_seeds_choice():
    model = ExitModel()
    z = model.seeds(np.random.default_rng(1), 3000)
    per_seed = []
    for base_z, treated_z in z:
        (base_acc,), (base_steps,) = model.population(np.array([base_z]), False)
        (acc,), (steps,) = model.population(np.array([treated_z]), True)
        # the rows of the policies in name order: timestep, then topk
        (base_fixed, base_topk) = loop_choice(base_acc, base_steps, model.knobs, 0.5)
        (_, topk) = loop_choice(acc, steps, model.knobs, 0.5)
        per_seed.append(
            (
                base_steps[base_fixed] / steps[topk],
                model.n_steps / steps[topk],
                steps[topk] - base_steps[base_topk],
            )
        )
    loop = np.mean(per_seed, axis=0)
    truth = model.truth(0.5)
    # a Monte Carlo mean of 3,000 seeds against one of 400,000
    assert truth["speedup_at_tolerance"] == pytest.approx(loop[0], rel=0.01)
    assert truth["speedup_vs_full_T"] == pytest.approx(loop[1], rel=0.01)
    assert truth["mean_timesteps"] == pytest.approx(loop[2], rel=0.05)
    # the seeds' choices differ: some jump at the tolerance's edge
    rows = []
    for one in z[:200, 1]:
        (acc,), (steps,) = model.population(np.array([one]), True)
        rows.append(tuple(loop_choice(acc, steps, model.knobs, 0.5)))
    assert len(set(rows)) > 2


def test_the_intervals_cover_on_simulated_runs():
    """40 simulated experiments of three seeds: each interval holds the truth in at
    least 34 (85 %). The same experiments with the seeds drawn by a percentile
    bootstrap, the design the t term replaced, cover less."""
    table = coverage(ExitModel(), 40, n_boot=400, progress=False)
    resampled = rates(coverage(ExitModel(), 40, n_boot=400, progress=False, resample_seeds=True))
    got = rates(table)
    assert (got["coverage"] > resampled["coverage"]).sum() >= 4, (got, resampled)
    assert len(got) == 6 and (got["experiments"] == 40).all()
    assert (got["coverage"] >= 0.85).all(), got
    assert set(got["quantity"]) == {
        "speedup_at_tolerance",
        "speedup_vs_full_T",
        "effect_on_timesteps",
    }


def test_the_command_writes_every_interval(tmp_path, capsys):
    out = tmp_path / "intervals.csv"
    main(["--experiments", "2", "--replicates", "50", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "coverage" in printed and "held-out" in printed
    assert len(out.read_text().splitlines()) == 1 + 2 * 6
