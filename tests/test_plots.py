import numpy as np
import pandas as pd
import pytest
from conftest import random_logits

from spikecut.analysis import RunPoints, summarise
from spikecut.analysis.protocols import choose
from spikecut.cutoff import POLICIES, StepOutputs, sweep
from spikecut.plots import (
    plot_accuracy_vs_timestep,
    plot_exit_histograms,
    plot_pareto,
    plot_policy_comparison,
)


@pytest.fixture(scope="module")
def swept():
    """Curves, exit histograms and the summary of two alphas x two seeds sharing one
    test set, as the workflow makes them."""
    rng = np.random.default_rng(0)
    curves, exits, runs = [], [], {}
    labels = rng.integers(0, 5, 100)
    for alpha in ("0", "0.05"):
        for seed in (0, 1):
            cal = StepOutputs(*random_logits(rng, n=200, n_steps=5))
            val = StepOutputs(*random_logits(rng, n=80, n_steps=5))
            logits, _ = random_logits(rng, n=100, n_steps=5)
            test = StepOutputs(logits, labels)
            c, e, per_sample = sweep(test, cal, list(POLICIES), [0.0, 0.05], raw=4, per_sample=True)
            v, _ = sweep(val, cal, list(POLICIES), [0.0, 0.05], raw=4)
            key = dict(
                dataset="digits",
                method="bptt",
                alpha=alpha,
                seed=seed,
                config_id=f"id{alpha}{seed}",
            )
            curves.append(pd.concat([c.assign(split="test"), v.assign(split="val")]).assign(**key))
            exits.append(e.assign(**key))
            points = choose(v, c, 0.5)
            runs["digits", "bptt", alpha, seed] = RunPoints(
                test.correct, per_sample[points["row"].to_numpy()], points
            )
    summary = summarise(runs, n_boot=100)
    return pd.concat(curves), pd.concat(exits), summary


def is_png(path):
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_figures_are_written(tmp_path, swept):
    curves, exits, summary = swept
    plot_accuracy_vs_timestep(summary.fixed, tmp_path / "a.png")
    plot_pareto(curves, summary.points, tmp_path / "b.png")
    plot_exit_histograms(exits, 0.05, tmp_path / "c.png")
    plot_policy_comparison(curves, summary.points, tmp_path / "d.png")
    assert all(is_png(tmp_path / f"{n}.png") for n in "abcd")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png", "c.png", "d.png"]
    from PIL import Image

    assert "id0.051" in Image.open(tmp_path / "b.png").text["Description"]


def test_histogram_needs_a_swept_epsilon(tmp_path, swept):
    _, exits, _ = swept
    with pytest.raises(ValueError, match="histogram_epsilon"):
        plot_exit_histograms(exits[exits["policy"] != "oct"], 0.5, tmp_path / "c.png")


def test_policy_comparison_draws_every_policy(tmp_path, swept, monkeypatch):
    curves, _, summary = swept
    drawn = {}

    def capture(fig, path, source):
        drawn["panels"] = len(fig.axes)
        drawn["labels"] = {
            line.get_label()
            for ax in fig.axes
            for line in ax.get_lines()
            if not line.get_label().startswith("_")
        }
        drawn["bars"] = sum(len(ax.containers) for ax in fig.axes)
        drawn["limits"] = [ax.get_ylim() for ax in fig.axes]
        drawn["y"] = [
            np.concatenate(
                [
                    line.get_ydata()
                    for line in ax.get_lines()
                    if not line.get_label().startswith("_")
                ]
            )
            for ax in fig.axes
        ]

    monkeypatch.setattr("spikecut.plots.figures._save", capture)
    plot_policy_comparison(curves, summary.points, tmp_path / "d.png")
    assert drawn["panels"] == 2  # one data set and track, two models
    # the held-out operating point of each calibrated policy, with its intervals
    assert drawn["bars"] == 2 * 4
    # the axes hold what is drawn, not only the raw points
    for (low, high), y in zip(drawn["limits"], drawn["y"]):
        assert low <= y.max() <= high
    assert drawn["labels"] == {
        "fixed T",
        "Top-K",
        "Top-K (raw)",
        "confidence (SEENN-I)",
        "confidence (SEENN-I) (raw)",
        "entropy (DT-SNN)",
        "entropy (DT-SNN) (raw)",
        "SpikeCP",
        "SpikeCP (raw)",
        "OCT (oracle)",
    }
