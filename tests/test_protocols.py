"""The choice of operating points against a loop over the points written out, and the
bootstrap that makes the choice again in every replicate against a replicate-by-
replicate loop over resampled runs."""

import numpy as np
import pandas as pd
import pytest

from spikecut.analysis import RunSweep, Split, evaluate
from spikecut.analysis.bootstrap import Resamples
from spikecut.analysis.evidence import measure
from spikecut.analysis.protocols import choose, choose_rows

KNOBS = pd.DataFrame(
    {
        "policy": ["timestep"] * 4 + ["topk"] * 5 + ["oct"] * 3,
        "parameter": ["T_fixed"] * 4 + ["epsilon"] * 5 + ["epsilon"] * 3,
        "value": [1.0, 2.0, 3.0, 4.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.0, 0.1, 0.2],
    }
)


def loop_choice(accuracy, steps, knobs, max_loss_pp):
    """One curve, point by point: the fewest steps within the tolerance of full T (ties:
    the more accurate, then the first), else the most accurate (ties: the first)."""
    full = max(
        (v, i) for i, (p, v) in enumerate(zip(knobs["policy"], knobs["value"])) if p == "timestep"
    )[1]
    floor = accuracy[full] - max_loss_pp / 100 - 1e-12
    rows = []
    for policy in sorted(set(knobs["policy"])):
        members = [i for i, p in enumerate(knobs["policy"]) if p == policy]
        within = [i for i in members if accuracy[i] >= floor]
        if within:
            rows.append(min(within, key=lambda i: (steps[i], -accuracy[i], i)))
        else:
            rows.append(min(members, key=lambda i: (-accuracy[i], i)))
    return rows


def test_the_choice_equals_a_loop_on_curves_full_of_ties():
    rng = np.random.default_rng(0)
    # coarse values: many equal accuracies and step counts, and curves where no point
    # of a policy comes within the tolerance
    accuracy = rng.integers(0, 6, (200, len(KNOBS))) / 5
    steps = rng.integers(1, 5, (200, len(KNOBS))).astype(float)
    rows, within = choose_rows(accuracy, steps, KNOBS, 10.0)
    assert rows.shape == within.shape == (200, 3)
    for a, s, got, ok in zip(accuracy, steps, rows, within):
        want = loop_choice(a, s, KNOBS, 10.0)
        assert got.tolist() == want
        floor = a[3] - 0.1 - 1e-12
        assert ok.tolist() == [a[i] >= floor for i in want]
    assert not within.all() and within.any()


def test_choose_names_the_points_of_both_protocols():
    test = KNOBS.assign(accuracy=0.9, mean_timesteps=KNOBS["value"] + 1)
    val = test.assign(accuracy=[0.5, 0.6, 0.9, 0.9] + [0.9] * 8)
    points = choose(val, test, 0.5)
    held = points[points["protocol"] == "held-out"].set_index("policy")
    paper = points[points["protocol"] == "paper"].set_index("policy")
    assert held.loc["timestep", "value"] == 3.0 and paper.loc["timestep", "value"] == 1.0
    assert held.loc["topk", "row"] == 4 and bool(held["within_tolerance"].all())
    with pytest.raises(ValueError, match="different knobs"):
        choose(val.iloc[::-1], test, 0.5)
    with pytest.raises(ValueError, match="no 'timestep' rows"):
        choose(None, test[test["policy"] != "timestep"], 0.5)


# a run whose raw thresholds coincided sweeps a point fewer (here, of oct)
FEWER = KNOBS.drop(index=11).reset_index(drop=True)


def random_split(rng, n, n_steps=4, skill=0.0, knobs=KNOBS):
    """A split whose samples become right at some step and stay right, exiting where
    the knob says: larger epsilons exit later."""
    right_from = rng.integers(1, n_steps + 2, n) - (rng.random(n) < skill)
    correct = np.arange(1, n_steps + 1)[None] >= right_from[:, None]
    exits = []
    for policy, value in zip(knobs["policy"], knobs["value"]):
        if policy == "timestep":
            exits.append(np.full(n, int(value)))
        else:
            exits.append(np.clip(rng.integers(1, 3, n) + int(10 * value), 1, n_steps))
    return Split(np.array(exits), correct)


def random_runs(rng, n=40, n_val=30, seeds=(0, 1, 2)):
    runs = {}
    for alpha, skill in (("0", 0.0), ("0.1", 0.3)):
        for s in seeds:
            energy = np.cumsum(rng.random((n, 4)), axis=1)
            knobs = FEWER if s == 1 else KNOBS
            runs[alpha, s] = RunSweep(
                knobs,
                random_split(rng, n, skill=skill, knobs=knobs),
                random_split(rng, n_val, knobs=knobs),
                energy,
            )
    return runs


def resampled(run, test_rows, val_rows):
    """The run as if its splits had held the drawn samples."""
    return RunSweep(
        run.knobs,
        Split(run.test.exits[:, test_rows], run.test.correct[test_rows]),
        Split(run.val.exits[:, val_rows], run.val.correct[val_rows]),
        run.energy_uj[test_rows],
    )


def test_each_replicate_chooses_again_as_a_loop_over_resampled_runs_would():
    """In every replicate and seed the operating points are chosen anew on the drawn
    validation samples (held-out) or test samples (paper) and read on the drawn test
    samples, exactly as the run's own choice would be made on those samples."""
    rng = np.random.default_rng(1)
    runs = random_runs(rng)
    r = Resamples.draw(3, 40, n_boot=25, seed=2, n_val=30)
    sweeps = [runs["0.1", s] for s in (0, 1, 2)]
    got = measure(sweeps, r, 2.0, ["held-out", "paper"])
    for b in range(25):
        for s, run in enumerate(sweeps):
            again = resampled(run, r.samples[b], r.val_samples[b]).operating_points(2.0)
            for protocol, rows in again.groupby("protocol"):
                for quantity in ("accuracy", "mean_timesteps", "mean_energy_uj"):
                    np.testing.assert_allclose(
                        got.at[protocol][quantity][b, s], rows[quantity], rtol=1e-12
                    )
    # the choice moves between replicates: the interval has that randomness in it
    chosen = [
        resampled(sweeps[0], r.samples[b], r.val_samples[b]).operating_points(2.0)["row"]
        for b in range(25)
    ]
    assert len({tuple(c) for c in chosen}) > 1


def test_the_intervals_are_percentiles_of_the_loop_replicates():
    """The speed-up at tolerance, the paper's speed-up and the RCS effect of the held-out
    protocol, and the paper protocol's gap to it, replicate by replicate: resample both
    splits, choose every run's points again, and take the per-seed values' mean plus the
    replicate's t draw times its standard error."""
    rng = np.random.default_rng(3)
    runs = random_runs(rng)
    fixed, points, effects, gaps = evaluate(runs, 2.0, n_boot=40, seed=5)
    r = Resamples.draw(3, 40, n_boot=40, seed=5, n_val=30)
    loops = {"tolerance": [], "full_T": [], "effect": [], "gap": []}
    for b in range(40):
        per_seed = {k: [] for k in loops}
        for s in range(3):
            chosen = resampled(runs["0.1", s], r.samples[b], r.val_samples[b]).operating_points(2.0)
            paper = chosen.query("protocol == 'paper'").set_index("policy")
            base, mine = (
                resampled(runs[a, s], r.samples[b], r.val_samples[b])
                .operating_points(2.0)
                .query("protocol == 'held-out'")
                .set_index("policy")
                for a in ("0", "0.1")
            )
            t = mine.loc["topk", "mean_timesteps"]
            per_seed["gap"].append(paper.loc["topk", "mean_timesteps"] - t)
            per_seed["tolerance"].append(base.loc["timestep", "mean_timesteps"] / t)
            per_seed["full_T"].append(4 / t)
            per_seed["effect"].append(t - base.loc["topk", "mean_timesteps"])
        for k, values in per_seed.items():
            error = np.std(values, ddof=1) / np.sqrt(3)
            loops[k].append(np.mean(values) + r.seed_t[b] * error)
    held = points[
        (points["alpha"] == "0.1")
        & (points["protocol"] == "held-out")
        & (points["policy"] == "topk")
    ].set_index("quantity")
    effect = effects[
        (effects["protocol"] == "held-out")
        & (effects["policy"] == "topk")
        & (effects["quantity"] == "mean_timesteps")
    ].iloc[0]
    gap = gaps.set_index(["alpha", "policy", "quantity"]).loc[("0.1", "topk", "mean_timesteps")]
    # each cut to what it can be, T = 4: a speed-up within [1/T, T], and vs full T within
    # [1, T] (T over at most T steps); a difference in steps within [1 - T, T - 1]
    for got, loop, bounds in (
        (held.loc["speedup_at_tolerance"], loops["tolerance"], (0.25, 4.0)),
        (held.loc["speedup_vs_full_T"], loops["full_T"], (1.0, 4.0)),
        (effect, loops["effect"], (-3.0, 3.0)),
        (gap, loops["gap"], (-3.0, 3.0)),
    ):
        want = np.clip(np.percentile(loop, [2.5, 97.5]), *bounds)
        np.testing.assert_allclose([got["low"], got["high"]], want, rtol=1e-12)
    assert set(fixed["alpha"]) == {"0", "0.1"}


def test_without_validation_only_the_paper_protocol_is_measured():
    rng = np.random.default_rng(4)
    runs = {k: RunSweep(v.knobs, v.test) for k, v in random_runs(rng).items()}
    _, points, effects, gaps = evaluate(runs, 2.0, n_boot=20)
    assert set(points["protocol"]) == set(effects["protocol"]) == {"paper"} and gaps.empty
    assert "mean_energy_uj" not in set(points["quantity"])


def test_bad_sweeps():
    rng = np.random.default_rng(5)
    split = random_split(rng, 10)
    with pytest.raises(ValueError, match="exits must be"):
        Split(split.exits[:, :9], split.correct)
    with pytest.raises(ValueError, match="test split holds 12 swept points, the knobs 11"):
        RunSweep(KNOBS.iloc[:11], split)
    with pytest.raises(ValueError, match=r"energy_uj must be \[N, T\] = \[10, 4\]"):
        RunSweep(KNOBS, split, energy_uj=np.ones((10, 3)))
    runs = random_runs(rng)
    run = runs["0", 1]
    runs["0", 1] = RunSweep(
        FEWER.assign(value=FEWER["value"] * 2), run.test, run.val, run.energy_uj
    )
    evaluate(runs, 2.0, n_boot=5)  # values and counts of points may differ per run
    runs["0", 1] = RunSweep(FEWER, run.test, run.val)
    with pytest.raises(
        ValueError, match=r"run \('0', 1\) holds splits of other sizes or no energy"
    ):
        evaluate(runs, 2.0, n_boot=5)
    no_oct = FEWER[FEWER["policy"] != "oct"]
    runs["0", 1] = RunSweep(no_oct, Split(run.test.exits[: len(no_oct)], run.test.correct))
    with pytest.raises(ValueError, match=r"run \('0', 1\) swept the policies \['timestep', "):
        evaluate(runs, 2.0, n_boot=5)
