import numpy as np
import pandas as pd
import pytest
from conftest import random_logits

from spikecut.analysis import RunSweep, Split, summarise
from spikecut.cutoff import POLICIES, StepOutputs, sweep
from spikecut.plots import (
    plot_accuracy_vs_timestep,
    plot_dose_response,
    plot_exit_histograms,
    plot_model,
    plot_models,
    plot_pareto,
    plot_policy_comparison,
)
from spikecut.plots.common import error_bars


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
            c, e, per_test = sweep(test, cal, list(POLICIES), [0.0, 0.05], raw=4, per_sample=True)
            v, _, per_val = sweep(val, cal, list(POLICIES), [0.0, 0.05], raw=4, per_sample=True)
            key = dict(
                dataset="digits",
                method="bptt",
                alpha=alpha,
                seed=seed,
                config_id=f"id{alpha}{seed}",
            )
            curves.append(pd.concat([c.assign(split="test"), v.assign(split="val")]).assign(**key))
            exits.append(e.assign(**key))
            runs["digits", "bptt", alpha, seed] = RunSweep(
                c[["policy", "parameter", "value"]],
                Split(per_test, test.correct),
                Split(per_val, val.correct),
            )
    summary = summarise(runs, 0.5, n_boot=100)
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
        plot_exit_histograms(exits, 0.5, tmp_path / "c.png")  # the oracle's exits are there


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

    monkeypatch.setattr("spikecut.plots.policy_comparison.save", capture)
    plot_policy_comparison(curves, summary.points, tmp_path / "d.png")
    assert drawn["panels"] == 2  # one data set and track, two models
    # the held-out operating point of fixed T and of each calibrated policy, with its
    # intervals; the oracle's star is its only point
    assert drawn["bars"] == 2 * 5
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


def test_model_figures_share_their_axes_across_alpha(tmp_path, swept, monkeypatch):
    """One figure per model, each alpha on the axes of every alpha of its data set and
    method, so that the report's alpha toggle flips between comparable figures."""
    curves, exits, summary = swept
    drawn = {}

    def capture(fig, path, source):
        curve_ax, hist_ax = fig.axes
        drawn[path] = {
            "limits": (curve_ax.get_xlim(), curve_ax.get_ylim(), hist_ax.get_ylim()),
            "title": fig.get_suptitle(),
            "labels": {line.get_label() for line in curve_ax.get_lines()},
            "bars": len(curve_ax.containers),
            "alphas": set(source["alpha"]),
        }

    monkeypatch.setattr("spikecut.plots.model.save", capture)
    for alpha in ("0", "0.05"):
        plot_model(
            curves,
            summary.fixed,
            summary.points,
            exits,
            alpha,
            dataset="digits",
            method="bptt",
            alpha=alpha,
            epsilon=0.05,
        )
    assert drawn["0"]["limits"] == drawn["0.05"]["limits"]
    assert drawn["0"]["title"].startswith("digits · bptt · baseline (α = 0)")
    assert drawn["0.05"]["title"].startswith("digits · bptt · RCS (α = 0.05)")
    # its own runs only, in the curves and in the PNG's config ids
    assert drawn["0.05"]["alphas"] == {"0.05"}
    assert {"fixed T", "Top-K", "SpikeCP", "OCT (oracle)"} <= drawn["0"]["labels"]
    assert not any(label.endswith("(raw)") for label in drawn["0"]["labels"])
    # the held-out operating points of fixed T and the four calibrated policies
    assert drawn["0"]["bars"] == 5


def test_every_model_gets_a_figure_named_for_the_report(tmp_path, swept):
    curves, exits, summary = swept
    plot_models(curves, summary.fixed, summary.points, exits, tmp_path / "models", 0.05)
    names = sorted(p.name for p in (tmp_path / "models").iterdir())
    assert names == ["digits_bptt_alpha0.05.png", "digits_bptt_alpha0.png"]
    assert all(is_png(tmp_path / "models" / n) for n in names)


def test_model_figure_needs_its_runs(tmp_path, swept):
    curves, exits, summary = swept
    with pytest.raises(ValueError, match="no runs of digits bptt at alpha 0.2"):
        plot_model(
            curves,
            summary.fixed,
            summary.points,
            exits,
            tmp_path / "m.png",
            dataset="digits",
            method="bptt",
            alpha="0.2",
            epsilon=0.05,
        )


def test_the_dose_response_draws_every_alpha_and_off_centre_estimates(tmp_path, swept):
    """Each alpha > 0 on its own tick, both protocols; an estimate outside its interval
    (a percentile interval need not hold it) still draws; no effects, a clear error."""
    _, _, summary = swept
    effects = summary.effects
    second = effects.assign(alpha="0.3", estimate=effects["high"] + 0.01)  # off centre
    plot_dose_response(pd.concat([effects, second]), tmp_path / "dose.png")
    assert is_png(tmp_path / "dose.png")
    with pytest.raises(ValueError, match="needs an α = 0 run and at least one α > 0"):
        plot_dose_response(effects.iloc[:0], tmp_path / "none.png")
    assert error_bars([1.0, 2.0], [0.5, 2.1], [1.5, 2.5]).tolist() == [[0.5, 0.0], [0.5, 0.5]]
