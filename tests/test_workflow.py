"""The Snakemake workflow itself: lint, DAG, bad config, and a tiny end-to-end run."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import ROOT, TINY, TINY_ROOT, assert_figures, job_counts, snakemake

# the jobs that run once per workflow: collecting the runs, and what follows the summary
DOWNSTREAM_OF_SUMMARY = {
    "summarise",
    "plot_accuracy_vs_timestep",
    "plot_pareto",
    "plot_policy_comparison",
    "plot_accuracy_vs_energy",
    "plot_models",
    "plot_dose_response",
    "render_headline",
}
SUMMARY = dict.fromkeys(DOWNSTREAM_OF_SUMMARY, 1)
COLLECTED = {"collect_sweeps": 1, "plot_exit_histograms": 1, "collect_early_exit": 1}


def test_lint_is_clean():
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_default_dag(tmp_path):
    # no --configfile: the default config is found beside the Snakefile, from anywhere
    result = snakemake("-n", "--directory", str(tmp_path))
    assert result.returncode == 0, result.stderr
    counts = job_counts(result.stdout)
    # (digits-dvs, gestures-dvs: bptt; digits: qcfs) x 2 alphas x 3 seeds = 18 runs
    assert counts == {
        "prepare_dataset": 3,
        "train": 18,
        "record_outputs": 18,
        "early_exit": 18,
        "sweep_cutoff": 18,
        **COLLECTED,
        **SUMMARY,
        "all": 1,
        "total": 87,
    }


def test_bad_config_fails_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("channels: [4]", "channels: [4]\n  depth: 3"))
    result = snakemake("-n", "--configfile", str(bad), "--directory", str(tmp_path))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "config key model.depth: unknown key (a typo?); allowed keys: [" in output
    assert "Job stats" not in output  # nothing was planned, let alone run


def test_overrides_on_the_command_line_are_read_as_numbers(tmp_path):
    # the README's own example: nested values arrive from --config as strings
    result = snakemake(
        "-n",
        "--configfile",
        str(TINY),
        "--directory",
        str(tmp_path),
        "--config",
        "seeds=[0]",
        "alphas=[0]",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert job_counts(result.stdout)["train"] == 3  # three data sets, one alpha and seed


def test_two_configs_keep_their_results_apart(tmp_path):
    other = yaml.safe_load(TINY.read_text()) | {"results": "results-other"}
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other))
    result = snakemake(
        "-n", "--configfile", str(tmp_path / "other.yaml"), "--directory", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "results-other/runs/digits-dvs/bptt/alpha0/seed0/model.pt" in result.stdout
    assert "results/runs" not in result.stdout.replace("results-other/runs", "")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tiny")
    result = snakemake("--cores", "2", "--configfile", str(TINY), "--directory", str(workdir))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return workdir


def job_intervals(log: str) -> list[tuple[str, datetime, datetime]]:
    """(rule, start, end) of every job in a Snakemake log, to the second."""
    now, rule, started, jobs = None, None, {}, []
    for line in log.splitlines():
        if stamp := re.fullmatch(r"\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]", line):
            now = datetime.strptime(stamp[1], "%a %b %d %H:%M:%S %Y")
        elif found := re.fullmatch(r"(?:local)?rule (\w+):", line):
            rule = found[1]
        elif found := re.fullmatch(r"    jobid: (\d+)", line):
            started[found[1]] = (rule, now)
        elif found := re.match(r"Finished jobid: (\d+)", line):
            rule, start = started.pop(found[1])
            jobs.append((rule, start, now))
    assert not started, f"jobs that never finished: {started}"
    return jobs


@pytest.mark.slow
def test_timing_jobs_run_alone(tiny_run):
    """While an early-exit job times itself, no other job runs: its wall times are
    its own."""
    (log,) = (tiny_run / ".snakemake" / "log").glob("*.snakemake.log")
    jobs = job_intervals(log.read_text())
    timing = [j for j in jobs if j[0] == "early_exit"]
    assert len(timing) == 12 and len(jobs) > 40
    for rule, start, end in timing:
        beside = [j for j in jobs if j[1] < end and start < j[2] and j[1:] != (start, end)]
        assert not beside, f"{rule} from {start} to {end} shared the machine with {beside}"


@pytest.mark.slow
def test_tiny_workflow_outputs(tiny_run):
    results = tiny_run / TINY_ROOT
    models = [
        (d, m, a)
        for d, m in (("digits", "qcfs-l2"), ("digits-dvs", "bptt"), ("gestures-dvs", "bptt"))
        for a in ("0", "0.005")
    ]
    runs = [f"{d}/{m}/alpha{a}/seed{s}" for d, m, a in models for s in (0, 1)]
    for run in runs:
        for name in (
            "model.pt",
            "metrics.csv",
            "settings.json",
            "logits.npz",
            "early_exit.csv",
            "cutoff.csv",
            "exits.csv",
            "sweep.npz",
        ):
            assert (results / "runs" / run / name).stat().st_size > 0, (run, name)
    assert_figures(results, models)

    curves = pd.read_csv(results / "cutoff" / "curves.csv", dtype={"alpha": str})
    assert len(curves.groupby(["dataset", "method", "alpha", "seed"])) == 12
    assert set(curves["split"]) == {"test", "val"}
    curves = curves[curves["split"] == "test"]
    per_run = curves.groupby(["dataset", "method", "alpha", "seed", "policy"]).size().unstack()
    assert (per_run["oct"] == 1).all() and (per_run["topk"] == 2).all()
    for policy in ("confidence", "entropy", "spikecp"):
        assert (per_run[policy] == 2).all() and (per_run[f"{policy}-raw"] >= 1).all()
    assert set(per_run.xs("digits-dvs")["timestep"]) == {4}
    assert set(per_run.xs(("digits", "qcfs-l2"))["timestep"]) == {8}  # qcfs.T, not data T
    ckpt = torch.load(
        results / "runs" / "digits" / "qcfs-l2" / "alpha0" / "seed0" / "model.pt",
        weights_only=False,
    )
    assert ckpt["model_spec"]["role"] == {"kind": "qcfs", "levels": 2, "theta": 8.0}
    assert "params" not in ckpt  # the model and its architecture, no settings to read back
    assert curves["accuracy"].between(0, 1).all() and curves["config_id"].notna().all()
    # compute up to the exit: fixed T costs grow with T, and every point has an energy
    assert (curves["mean_energy_uj"] > 0).all() and (curves["mean_sops"] >= 0).all()
    fixed = curves[curves["policy"] == "timestep"].sort_values("value")
    assert (
        fixed.groupby(["dataset", "method", "alpha", "seed"])["mean_energy_uj"]
        .apply(lambda e: e.is_monotonic_increasing)
        .all()
    )
    assert (curves["mean_timesteps"] <= curves["n_steps"]).all()

    calibrated = ["timestep", "topk", "confidence", "entropy", "spikecp", "oct"]
    summary = pd.read_csv(results / "summary" / "summary.csv", dtype={"alpha": str})
    assert set(summary["protocol"]) == {"held-out", "paper"}
    assert set(calibrated) <= set(summary["policy"])
    per_quantity = summary.groupby(["dataset", "method", "alpha", "protocol", "quantity"])
    assert per_quantity.size().eq(per_quantity.size().max()).all()  # every policy
    assert set(summary["quantity"]) == {
        "accuracy_T",
        "accuracy",
        "mean_timesteps",
        "speedup_at_tolerance",
        "speedup_equal_accuracy",
        "speedup_vs_full_T",
        "mean_energy_uj",
    }
    assert (
        (summary["low"] <= summary["estimate"] + 1e-9)
        & (summary["estimate"] <= summary["high"] + 1e-9)
    ).all()
    effects = pd.read_csv(results / "summary" / "rcs_effect.csv", dtype={"alpha": str})
    assert set(effects["alpha"]) == {"0.005"} and effects["excludes_zero"].dtype == bool
    fixed = pd.read_csv(results / "summary" / "fixed_T.csv", dtype={"alpha": str})
    assert len(fixed) == 2 * (8 + 4 + 4)  # alphas x T of each data set and method
    points = pd.read_csv(results / "summary" / "operating_points.csv")
    assert len(points[points["policy"].isin(calibrated)]) == 12 * 2 * 6  # runs x protocols
    text = (results / "summary" / "summary.md").read_text()
    assert "## digits-dvs (bptt)" in text and "## digits (qcfs-l2)" in text
    assert text.count("### held-out protocol") == 3
    headline = (results / "summary" / "headline.md").read_text()
    assert "| gestures-dvs, bptt | 4 |" in headline and "Produced on" in headline
    timings = pd.read_csv(results / "cutoff" / "early_exit.csv")
    assert len(timings) == 12 * 4  # topk, confidence, entropy, spikecp per run
    assert timings["matches_simulation"].all() and "## Real early exit" in text

    metrics = pd.read_csv(results / "cutoff" / "training_metrics.csv")
    keys = ["dataset", "method", "alpha", "seed"]
    assert metrics.groupby(keys)["selected"].sum().eq(1).all()
    for rule in ("train", "record_outputs", "early_exit"):
        assert len(list((results / "benchmarks" / rule).rglob("*.tsv"))) == 12
    assert not list(tiny_run.rglob(".*.partial-*"))
    assert not list(tiny_run.rglob("resume.pt"))  # the recordings used them up


@pytest.mark.slow
def test_two_configs_run_in_one_folder_without_touching_each_other(tiny_run, tmp_path):
    """A second config run where the tiny one ran writes under its own root and leaves
    every file of the first as it was; the first then still has nothing to do."""
    work = shutil.copytree(tiny_run, tmp_path / "work", symlinks=True)
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in work.rglob("*") if p.is_file()}
    other = tmp_path / "other.yaml"
    other.write_text(
        "datasets:\n  digits: {epochs: 1, limit: 150, methods: [qcfs]}\nalphas: ['0']\nseeds: [0]\n"
    )  # no results key: the default root
    result = snakemake("--cores", "2", "--configfile", str(other), "--directory", str(work))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (work / "results" / "summary" / "headline.md").exists()
    changed = [p for p, seen in before.items() if (p.stat().st_mtime_ns, p.stat().st_size) != seen]
    ours = [p for p in changed if TINY_ROOT in p.relative_to(work).parts]
    assert ours == [], ours
    again = snakemake("-n", "--configfile", str(TINY), "--directory", str(work))
    assert "Nothing to be done" in again.stdout + again.stderr


def test_rerun_does_nothing(tiny_run):
    result = snakemake("-n", "--configfile", str(TINY), "--directory", str(tiny_run))
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def from_recording(runs):
    """What a new recording of ``runs`` runs brings about."""
    return {
        "record_outputs": runs,
        "early_exit": runs,
        "sweep_cutoff": runs,
        **COLLECTED,
        **SUMMARY,
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "key, value, reruns",
    [
        # speed only, or settings nothing reads here: nothing
        ("record.batch_size", 7, {}),
        ("early_exit.batch_size", 5, {}),
        ("neuron.backend", "torch", {}),
        ("training.momentum", 0.5, {}),  # adam ignores it
        ("training.tet_lambda", 0.5, {}),  # so does the mean-output loss
        ("data.raw_root", "elsewhere", {}),  # the embedded data sets read no raw files
        ("training.fail_on_divergence", False, {}),  # what becomes of a diverged run only
        # the summary's settings: the summary and the figures that read it
        ("summary.max_accuracy_loss_pp", 1.0, SUMMARY),
        ("summary.bootstrap.replicates", 300, SUMMARY),
        ("summary.histogram_epsilon", "0.0", {"plot_exit_histograms": 1, "plot_models": 1}),
        # training: the 12 runs train again, and everything after
        ("training.lr", 0.01, {"train": 12, **from_recording(12)}),
        # the converted SNN's T: recorded again (4 conversion runs), not trained again
        ("qcfs.T", 6, from_recording(4)),
        # the ANN form of RCS: only the conversion runs train again
        ("regularisers.rcs.ann_peak", "sample", {"train": 4, **from_recording(4)}),
        ("record.dropout_seed", 1, from_recording(12)),
        # the cutoff: every sweep, nothing trained or recorded
        (
            "cutoff.raw_thresholds",
            4,
            {"sweep_cutoff": 12, "collect_sweeps": 1, "plot_exit_histograms": 1, **SUMMARY},
        ),
        # ... and the live early exits too, where they calibrate the same way
        (
            "cutoff.options.topk.grid",
            10,
            {"sweep_cutoff": 12, "early_exit": 12, **COLLECTED, **SUMMARY},
        ),
        ("early_exit.epsilon", "0", {"early_exit": 12, "collect_early_exit": 1, **SUMMARY}),
    ],
)
def test_a_changed_setting_reruns_exactly_the_stages_that_read_it(
    tiny_run, tmp_path, key, value, reruns
):
    cfg = yaml.safe_load(TINY.read_text())
    *parents, last = key.split(".")
    node = cfg
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    (tmp_path / "changed.yaml").write_text(yaml.safe_dump(cfg))
    result = snakemake(
        "-n", "--configfile", str(tmp_path / "changed.yaml"), "--directory", str(tiny_run)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    counts = {k: v for k, v in job_counts(result.stdout).items() if k not in ("all", "total")}
    assert counts == reruns


RUN0 = f"{TINY_ROOT}/runs/digits-dvs/bptt/alpha0/seed0"


def follow_advice(work, failed, log):
    """Do, exactly as written, what a failed job's log advises: delete the files it
    names, then run the command it gives."""
    assert failed.returncode != 0
    text = (work / log).read_text()
    found = re.search(
        r"^spikecut: .*delete (.+?), then make it again with `(.+?)`, then", text, re.M
    )
    assert found, text[-2000:]
    # the advice comes before the traceback, and the failed run's output shows it
    assert text.index(found[0]) < text.index("Traceback")
    assert found[0] in failed.stdout + failed.stderr
    # the paths are as the log shows them, relative to where the workflow was run
    for doomed in found[1].split(" and "):
        (work / doomed).unlink()
    return run_as_user(found[2], work)


def run_as_user(command, cwd):
    """Run a shell command line in ``cwd`` as a user would paste it, with no
    environment active: neither the project's Python nor its snakemake on PATH."""
    venv = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != venv)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | {"PATH": path}
    return subprocess.run(shlex.split(command), capture_output=True, text=True, cwd=cwd, env=env)


def truncate(path):
    path.write_bytes(path.read_bytes()[:300])


def as_if_older(path):
    """An intact archive of another version's arrays."""
    np.savez(path, meta=np.array("{}"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "victim, damage, reader, target, log",
    [
        (
            f"{RUN0}/logits.npz",
            truncate,
            "sweep_cutoff",
            f"{RUN0}/cutoff.csv",
            f"{TINY_ROOT}/logs/sweep_cutoff/digits-dvs/bptt/alpha0/seed0.log",
        ),
        (
            f"{RUN0}/logits.npz",
            as_if_older,
            "sweep_cutoff",
            f"{RUN0}/cutoff.csv",
            f"{TINY_ROOT}/logs/sweep_cutoff/digits-dvs/bptt/alpha0/seed0.log",
        ),
        (
            f"{RUN0}/model.pt",
            truncate,
            "record_outputs",
            f"{RUN0}/logits.npz",
            f"{TINY_ROOT}/logs/record_outputs/digits-dvs/bptt/alpha0/seed0.log",
        ),
    ],
    ids=["truncated-logits", "old-logits", "truncated-model"],
)
def test_advice_for_a_corrupt_file_works_as_written(
    tiny_run, tmp_path, victim, damage, reader, target, log
):
    work = shutil.copytree(tiny_run, tmp_path / "work", symlinks=True)
    damage(work / victim)
    failed = snakemake(
        "--cores",
        "1",
        "--configfile",
        str(TINY),
        "--directory",
        str(work),
        "--forcerun",
        reader,
        "--",
        target,
    )
    remade = follow_advice(work, failed, log)
    assert remade.returncode == 0, remade.stderr[-3000:]
    # the next plain run redoes what reads it, and then all is well
    result = snakemake("--cores", "2", "--configfile", str(TINY), "--directory", str(work))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        snakemake("-n", "--configfile", str(TINY), "--directory", str(work)).stdout.count(
            "Nothing to be done"
        )
        == 1
    )


@pytest.mark.slow
def test_a_corrupt_frame_cache_costs_no_trained_model(tiny_run, tmp_path):
    work = shutil.copytree(tiny_run, tmp_path / "work", symlinks=True)
    (frames,) = (work / TINY_ROOT / "data" / "digits-dvs").rglob("frames.npz")
    frames.write_bytes(frames.read_bytes()[:1000])
    models = {p: p.stat().st_mtime_ns for p in (work / TINY_ROOT / "runs").rglob("model.pt")}
    failed = snakemake(
        "--cores",
        "1",
        "--configfile",
        str(TINY),
        "--directory",
        str(work),
        "--forcerun",
        "record_outputs",
        "--",
        f"{RUN0}/logits.npz",
    )
    key = frames.parent.name
    remade = follow_advice(
        work, failed, f"{TINY_ROOT}/logs/record_outputs/digits-dvs/bptt/alpha0/seed0.log"
    )
    assert remade.returncode == 0, remade.stderr[-3000:]
    assert f"{TINY_ROOT}/data/digits-dvs/{key}/frames.npz" in remade.stdout + remade.stderr
    plan = job_counts(snakemake("-n", "--configfile", str(TINY), "--directory", str(work)).stdout)
    assert "train" not in plan  # the frames are the same: the models stay
    assert {p: p.stat().st_mtime_ns for p in models} == models


@pytest.mark.slow
def test_a_deleted_intermediate_comes_back_by_name(tiny_run, tmp_path):
    """Snakemake does nothing when only an intermediate is missing; naming it as the
    target, as the README says, makes it again."""
    work = shutil.copytree(tiny_run, tmp_path / "work", symlinks=True)
    (work / RUN0 / "cutoff.csv").unlink()
    nothing = snakemake("-n", "--configfile", str(TINY), "--directory", str(work))
    assert "Nothing to be done" in nothing.stdout + nothing.stderr
    result = snakemake(
        "--cores", "1", "--configfile", str(TINY), "--directory", str(work), f"{RUN0}/cutoff.csv"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (work / RUN0 / "cutoff.csv").stat().st_size > 0


def test_remake_commands_keep_the_command_line_overrides(tmp_path, monkeypatch):
    """A run started with --config values is remade with the same values: the
    command plans the file under the overridden results root, with the same seeds."""
    from spikecut.recovery import ENV, remake_command, remake_prefix

    overrides = {"results": "elsewhere", "seeds": ["1"]}  # as Snakemake parses them
    monkeypatch.setenv(ENV, remake_prefix(ROOT / "Snakefile", tmp_path, [TINY], overrides))
    target = "elsewhere/runs/digits-dvs/bptt/alpha0/seed1/cutoff.csv"
    command = remake_command(target).replace("--cores all", "--cores all -n")
    result = run_as_user(command, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert job_counts(result.stdout)["train"] == 1


@pytest.mark.slow
def test_report_builds(tiny_run):
    result = snakemake(
        "--configfile", str(TINY), "--directory", str(tiny_run), "--report", "report.html"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    html = (tiny_run / "report.html").read_text(errors="ignore")
    assert "accuracy_vs_timestep.png" in html and "pareto.png" in html
    # the captions name the regulariser from its record
    assert "Top-K alone and with RCS" in html and "models trained with RCS" in html

    def script(name):
        """A variable the report's single-page app is built from, as Python."""
        found = re.search(rf'<script id="{name}">\s*var \w+ = (.*?);\s*</script>', html, re.S)
        return json.loads(found[1])

    # the landing page opens on the headline table, then the method and the figures
    landing = script("workflow-desc")
    assert "system-message" not in landing  # docutils read every line
    assert landing.index("Held-out protocol") < landing.index("The method in brief")
    assert "<td>gestures-dvs, bptt</td>" in landing.replace("<p>", "").replace("</p>", "")
    assert "<em>At tolerance</em>" in landing and "<em>At equal accuracy</em>" in landing
    assert "How to read the figures" in landing
    assert "javascript:app.showCategory('Figures')" in landing
    assert f"javascript:app.showResultInfo('{TINY_ROOT}/summary/summary.md')" in landing

    results = script("results")
    summary = f"{TINY_ROOT}/summary/{{}}"
    assert {summary.format(n) for n in ("summary.md", "headline.md", "summary.csv")} <= set(results)
    assert results[summary.format("summary.md")]["caption"]
    models = {
        path: entry["labels"] for path, entry in results.items() if "/figures/models/" in path
    }
    assert len(models) == 6
    assert models[f"{TINY_ROOT}/figures/models/digits-dvs_bptt_alpha0.005.png"] == {
        "figure": "accuracy vs latency, exits",
        "data set": "digits-dvs",
        "method": "bptt",
        "alpha": "0.005",
    }
    assert results[f"{TINY_ROOT}/figures/pareto.png"]["labels"]["data set"] == "all"
    # the report shows a toggle for a label with two values, each on half of a
    # subcategory's results: alpha, within each data set and method
    figures = script("categories")["Figures"]
    assert sorted(figures) == [
        "all runs",
        "digits (qcfs-l2)",
        "digits-dvs (bptt)",
        "gestures-dvs (bptt)",
    ]
    for name, paths in figures.items():
        assert all(results[p]["labels"] for p in paths)
        if name != "all runs":
            assert sorted(results[p]["labels"]["alpha"] for p in paths) == ["0", "0.005"]


@pytest.mark.parametrize(
    "tool",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["snakefmt", "--check", "Snakefile", "rules"],
    ],
    ids=" ".join,
)
def test_code_style(tool):
    """Lint and format are clean (`make format` fixes the formatting)."""
    result = subprocess.run([sys.executable, "-m", *tool], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_style_checks_skip_installed_code_in_a_copy_without_git(tmp_path):
    """A clean copy without .git (no .gitignore rules apply) still passes: the SLURM
    plugin that `make slurm-plugin` installs into the tree is not ours to lint."""
    plugin = tmp_path / ".slurm-plugin" / "plugin"
    plugin.mkdir(parents=True)
    (plugin / "__init__.py").write_text("import os, sys\nx=[1,2 ,3]\n")  # unused, unformatted
    (tmp_path / "ours.py").write_text("import os\n")  # a real finding, to show ruff runs
    config = ["--config", str(ROOT / "pyproject.toml")]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *config, "--no-respect-gitignore", "."],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert "ours.py" in result.stdout and ".slurm-plugin" not in result.stdout


def test_remote_data_sets_are_fetched_first(tmp_path):
    cfg = tmp_path / "cifar.yaml"
    cfg.write_text(
        TINY.read_text()
        .replace("  digits:\n", "  cifar10:\n", 1)
        .replace("data:\n", "data:\n  raw_root: raw\n")
    )
    result = snakemake("-n", "--configfile", str(cfg), "--directory", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["fetch_dataset"] == 1 and counts["prepare_dataset"] == 3
    assert "raw/cifar10/fetched.json" in result.stdout


def test_rcs_dose_dag(tmp_path):
    """The dose-response config: two data sets x five alphas x three seeds, and its
    figure; the header states the size."""
    dose = ROOT / "config" / "rcs-dose.yaml"
    result = snakemake("-n", "--configfile", str(dose), "--directory", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = job_counts(result.stdout)
    assert counts["train"] == counts["early_exit"] == 30 and counts["plot_dose_response"] == 1
    assert "# 30 training runs" in dose.read_text()


@pytest.mark.slow
def test_tiny_dose_response_runs(tmp_path):
    """config/rcs-dose.yaml in miniature, end to end: every alpha's effect against
    alpha = 0 under both protocols, its figure, and a sentence per alpha."""
    tiny = ROOT / ".test" / "config" / "rcs-dose.yaml"
    result = snakemake("--cores", "2", "--configfile", str(tiny), "--directory", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    results = tmp_path / yaml.safe_load(tiny.read_text())["results"]
    effects = pd.read_csv(results / "summary" / "rcs_effect.csv", dtype={"alpha": str})
    topk = effects[effects["policy"] == "topk"]
    assert sorted(topk.groupby(["alpha", "protocol", "quantity"]).groups) == [
        (a, p, q)
        for a in ("0.01", "0.1")
        for p in ("held-out", "paper")
        for q in ("accuracy", "mean_timesteps")
    ]
    png = (results / "figures" / "rcs_dose_response.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    headline = (results / "summary" / "headline.md").read_text()
    for alpha in ("0.01", "0.1"):
        assert headline.count(f"RCS at α = {alpha} ") == 2  # one per protocol


@pytest.mark.slow
@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Debian's Fashion-MNIST is not installed: `apt-get install dataset-fashion-mnist` "
    "(as root) installs it; this workflow runs offline in a fresh folder and reads it there",
)
def test_tiny_real_data_workflow(tmp_path):
    """The conversion track on a real subset of Fashion-MNIST, end to end, offline: the
    fetch falls back on Debian's files, and the converted SNN learns more than chance."""
    tiny = ROOT / ".test" / "config" / "fashion.yaml"
    result = snakemake("--cores", "2", "--configfile", str(tiny), "--directory", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    results = tmp_path / yaml.safe_load(tiny.read_text())["results"]
    marker = json.loads((tmp_path / "data" / "raw" / "fashion-mnist" / "fetched.json").read_text())
    assert len(marker) == 4
    fixed = pd.read_csv(results / "summary" / "fixed_T.csv", dtype={"alpha": str})
    full = fixed[(fixed["alpha"] == "0") & (fixed["T"] == fixed["T"].max())]
    assert full["estimate"].item() > 0.3  # ten classes: chance is 0.1
    assert "fashion-mnist, qcfs" in (results / "summary" / "headline.md").read_text()


def test_paper_grid_dag(tmp_path):
    paper = ROOT / "config" / "paper.yaml"
    result = snakemake("-n", "--configfile", str(paper), "--directory", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # frame sets x 4 methods + event sets x 2 methods = 18, x 4 alphas x 3 seeds = 216
    counts = job_counts(result.stdout)
    assert counts == {
        "fetch_dataset": 6,
        "prepare_dataset": 6,
        "train": 216,
        "record_outputs": 216,
        "early_exit": 216,
        "sweep_cutoff": 216,
        **COLLECTED,
        **SUMMARY,
        "all": 1,
        "total": 888,
    }
    jobs = result.stdout.split("\n\n")
    for rule in ("train", "record_outputs", "early_exit"):
        blocks = [b for b in jobs if re.search(rf"^rule {rule}:", b, re.M)]
        assert len(blocks) == 216
        assert all(re.search(r"resources: .*gpu=1", b) for b in blocks)
        assert all(re.search(r"mem_mb=\d{5}", b) for b in blocks)
    # the config's header and the README state the same size
    header = re.search(r"-n\s+#\s+(\d+) jobs", paper.read_text())
    assert header and int(header[1]) == counts["total"]
    readme = (ROOT / "README.md").read_text()
    assert f"That is {counts['train']} training runs and {counts['total']} jobs" in readme
    assert f"see the {counts['total']} jobs" in readme


def test_frame_cache_is_keyed_by_its_parameters(tmp_path):
    def frames_paths(config_text):
        cfg = tmp_path / "c.yaml"
        cfg.write_text(config_text)
        out = snakemake("-n", "--configfile", str(cfg), "--directory", str(tmp_path)).stdout
        return set(re.findall(rf"{TINY_ROOT}/data/digits-dvs/[0-9a-f]{{12}}/frames\.npz", out))

    base = frames_paths(TINY.read_text())
    longer = frames_paths(TINY.read_text().replace("    T: 4\n", "    T: 6\n"))
    assert len(base) == len(longer) == 1 and base != longer


def test_bad_archive_stops_the_workflow_with_placement_instructions(tmp_path):
    cfg = tmp_path / "cifar.yaml"
    cfg.write_text(
        TINY.read_text()
        .replace("  digits:\n", "  cifar10:\n", 1)
        .replace("data:\n", "data:\n  raw_root: raw\n")
    )
    archive = tmp_path / "raw" / "cifar10" / "cifar-10-python.tar.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"an interrupted download")
    result = snakemake(
        "--cores",
        "1",
        "--configfile",
        str(cfg),
        "--directory",
        str(tmp_path),
        "--until",
        "fetch_dataset",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "fetch_dataset cifar10: " in output and "is corrupt or incomplete" in output
    assert f"copy it to {archive.resolve()}" in output
    assert "Traceback" not in (tmp_path / TINY_ROOT / "logs/fetch_dataset/cifar10.log").read_text()
    assert not (tmp_path / "raw" / "cifar10" / "fetched.json").exists()
