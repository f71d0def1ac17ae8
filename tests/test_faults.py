"""Faults: a stage killed while writing leaves no output Snakemake would trust, and one
failing run of a sweep neither stops the others nor costs them a rerun."""

import os

import pandas as pd
import pytest
from conftest import DATA, RECORD, RUN, SWEEP, TRAIN, job_counts, snakemake

from spikecut import plots, stages
from spikecut.settings import EarlyExitPlan
from tests.test_stages import SUMMARY, summary_outputs

EARLY = EarlyExitPlan(policies={"topk": {}}, epsilon="0", device="cpu")


def killed_at_rename(*args, **kwargs):
    raise KeyboardInterrupt("killed between writing and renaming")


def stage_calls(src, out):
    """Each output-writing stage, as (call, its outputs)."""
    curves = pd.read_csv(src / "cutoff.csv", dtype={"alpha": str})
    exits = pd.read_csv(src / "exits.csv", dtype={"alpha": str})
    done = src / "summary"
    if not done.exists():  # the summary the figures read, made once
        done.mkdir()
        stages.summarise_runs([src / "sweep.npz"], summary_outputs(done), SUMMARY)
    fixed, summary = (
        pd.read_csv(summary_outputs(done)[k], dtype={"alpha": str}) for k in ("fixed", "points")
    )
    return {
        "prepare": (
            lambda: stages.prepare_dataset(
                out / "f.npz",
                out / "p.json",
                "digits",
                DATA.model_copy(update={"limit": 100}),
            ),
            ["f.npz", "p.json"],
        ),
        "train": (
            lambda: stages.train(
                src / "frames.npz",
                out / "m.pt",
                out / "m.csv",
                out / "s.json",
                RUN,
                TRAIN,
                progress=False,
                resume=out / "resume.pt",
            ),
            ["m.pt", "m.csv", "s.json"],
        ),
        "record": (
            lambda: stages.record(src / "model.pt", src / "frames.npz", out / "l.npz", RECORD),
            ["l.npz"],
        ),
        "early_exit": (
            lambda: stages.early_exit(
                src / "model.pt", src / "frames.npz", src / "logits.npz", out / "x.csv", EARLY
            ),
            ["x.csv"],
        ),
        "sweep": (
            lambda: stages.sweep_cutoff(
                src / "logits.npz", out / "c.csv", out / "e.csv", out / "p.npz", SWEEP
            ),
            ["c.csv", "e.csv", "p.npz"],
        ),
        "collect": (lambda: stages.concat_csv([src / "cutoff.csv"], out / "all.csv"), ["all.csv"]),
        "summarise": (
            lambda: stages.summarise_runs([src / "sweep.npz"], summary_outputs(out), SUMMARY),
            [p.name for p in summary_outputs(out).values()],
        ),
        "plot_accuracy": (lambda: plots.plot_accuracy_vs_timestep(fixed, out / "a.png"), ["a.png"]),
        "plot_pareto": (lambda: plots.plot_pareto(curves, summary, out / "p.png"), ["p.png"]),
        "plot_exits": (lambda: plots.plot_exit_histograms(exits, 0.0, out / "h.png"), ["h.png"]),
    }


@pytest.mark.parametrize(
    "stage",
    [
        "prepare",
        "train",
        "record",
        "early_exit",
        "sweep",
        "collect",
        "summarise",
        "plot_accuracy",
        "plot_pareto",
        "plot_exits",
    ],
)
def test_a_stage_killed_while_writing_leaves_no_output(chain, tmp_path, monkeypatch, stage):
    call, names = stage_calls(chain, tmp_path)[stage]
    # every writer goes through a temporary file renamed into place: dying at the rename,
    # the last moment before an output would appear, must leave none of them
    monkeypatch.setattr(os, "replace", killed_at_rename)
    with pytest.raises(KeyboardInterrupt):
        call()
    monkeypatch.undo()
    assert [n for n in names if (tmp_path / n).exists()] == []
    call()  # and the stage itself does write them all when not interrupted
    assert all((tmp_path / n).stat().st_size > 0 for n in names)


SWEEP_CONFIG = """
datasets:
  digits: {{T: 3, epochs: 1, limit: 150}}
methods: [bptt, unstable]
variants:
  unstable: {{method: bptt, training: {{lr: {lr}}}}}
alphas: ["0"]
seeds: [0]
model: {{name: convsnn, channels: [4]}}
data: {{test_fraction: 0.25, val_fraction: 0.2}}
cutoff: {{epsilons: ["0.0"]}}
summary: {{histogram_epsilon: "0.0"}}
"""


@pytest.mark.slow
def test_one_failing_run_does_not_stop_the_sweep(tmp_path):
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(SWEEP_CONFIG.format(lr=".inf"))  # this run's loss turns NaN
    args = ("--cores", "2", "--keep-going", "--configfile", str(cfg), "--directory", str(tmp_path))
    result = snakemake(*args)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "loss became nan at epoch 1, batch 2/" in log
    runs = tmp_path / "results" / "runs" / "digits"
    healthy = runs / "bptt" / "alpha0" / "seed0"
    assert (healthy / "cutoff.csv").exists()  # the other run went all the way
    assert not (runs / "unstable" / "alpha0" / "seed0" / "model.pt").exists()
    assert not (tmp_path / "results" / "summary" / "summary.csv").exists()
    before = {p: p.stat().st_mtime_ns for p in healthy.iterdir()}

    cfg.write_text(SWEEP_CONFIG.format(lr="0.05"))  # the fix
    plan = job_counts(snakemake("-n", *args).stdout)
    assert plan.get("prepare_dataset", 0) == 0
    assert plan["train"] == plan["record_outputs"] == plan["sweep_cutoff"] == 1
    assert plan["early_exit"] == 1
    result = snakemake(*args)
    assert result.returncode == 0, result.stderr[-4000:]
    assert {p: p.stat().st_mtime_ns for p in healthy.iterdir()} == before
    assert (tmp_path / "results" / "summary" / "summary.csv").exists()
