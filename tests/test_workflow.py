"""The Snakemake workflow itself: lint, DAG, bad config, and a tiny end-to-end run."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "config" / "test" / "tiny.yaml"


def snakemake(*args, cwd=ROOT, timeout=1200):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def job_counts(dry_run_output):
    table = dry_run_output.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_lint_is_clean():
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_default_dag(tmp_path):
    default = ROOT / "config" / "config.yaml"
    result = snakemake("-n", "--configfile", str(default), "--directory", str(tmp_path))
    assert result.returncode == 0, result.stderr
    counts = job_counts(result.stdout)
    # (digits-dvs, gestures-dvs: bptt; digits: qcfs) x 2 alphas x 3 seeds = 18 runs
    assert counts == {"prepare_dataset": 3, "train": 18, "record_outputs": 18,
                      "sweep_cutoff": 18, "collect_sweeps": 1, "plot_accuracy_vs_timestep": 1,
                      "plot_pareto": 1, "plot_policy_comparison": 1,
                      "plot_accuracy_vs_energy": 1, "plot_exit_histograms": 1, "summarise": 1,
                      "all": 1, "total": 65}


def test_bad_config_fails_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("channels: [4]", "channels: [4]\n  depth: 3"))
    result = snakemake("-n", "--configfile", str(bad), "--directory", str(tmp_path))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "config key model: Additional properties are not allowed ('depth'" in output


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tiny")
    result = snakemake("--cores", "2", "--configfile", str(TINY), "--directory", str(workdir))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return workdir


@pytest.mark.slow
def test_tiny_workflow_outputs(tiny_run):
    results = tiny_run / "results"
    runs = [f"{d}/{m}/alpha{a}/seed{s}"
            for d, m in (("digits", "qcfs-l2"), ("digits-dvs", "bptt"), ("gestures-dvs", "bptt"))
            for a in ("0", "0.005") for s in (0, 1)]
    for run in runs:
        for name in ("model.pt", "metrics.csv", "logits.npz", "early_exit.csv", "cutoff.csv",
                     "exits.csv", "operating_points.npz"):
            assert (results / "runs" / run / name).stat().st_size > 0, (run, name)
    for name in ("accuracy_vs_timestep", "pareto", "policy_comparison", "accuracy_vs_energy",
                 "exit_histograms"):
        png = (results / "figures" / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

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
    ckpt = torch.load(results / "runs" / "digits" / "qcfs-l2" / "alpha0" / "seed0" / "model.pt",
                      weights_only=False)
    assert ckpt["params"]["method"] == "qcfs" and ckpt["params"]["qcfs"]["levels"] == 2
    assert ckpt["model_spec"]["role"]["levels"] == 2
    assert curves["accuracy"].between(0, 1).all() and curves["config_id"].notna().all()
    # compute up to the exit: fixed T costs grow with T, and every point has an energy
    assert (curves["mean_energy_uj"] > 0).all() and (curves["mean_sops"] >= 0).all()
    fixed = curves[curves["policy"] == "timestep"].sort_values("value")
    assert fixed.groupby(["dataset", "method", "alpha", "seed"])["mean_energy_uj"].apply(
        lambda e: e.is_monotonic_increasing).all()
    assert (curves["mean_timesteps"] <= curves["n_steps"]).all()

    calibrated = ["timestep", "topk", "confidence", "entropy", "spikecp", "oct"]
    summary = pd.read_csv(results / "summary" / "summary.csv", dtype={"alpha": str})
    assert set(summary["protocol"]) == {"held-out", "paper"}
    assert set(calibrated) <= set(summary["policy"])
    per_quantity = summary.groupby(["dataset", "method", "alpha", "protocol", "quantity"])
    assert per_quantity.size().eq(per_quantity.size().max()).all()  # every policy
    assert set(summary["quantity"]) == {"accuracy_T", "accuracy", "mean_timesteps",
                                        "speedup_at_tolerance", "speedup_equal_accuracy",
                                        "mean_energy_uj"}
    assert ((summary["low"] <= summary["estimate"] + 1e-9)
            & (summary["estimate"] <= summary["high"] + 1e-9)).all()
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
    for rule in ("train", "record_outputs"):
        assert len(list((results / "benchmarks" / rule).rglob("*.tsv"))) == 12
    assert not list(tiny_run.rglob(".*.partial-*"))


@pytest.mark.slow
def test_rerun_does_nothing(tiny_run):
    result = snakemake("-n", "--configfile", str(TINY), "--directory", str(tiny_run))
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.slow
def test_report_builds(tiny_run):
    result = snakemake("--configfile", str(TINY), "--directory", str(tiny_run),
                       "--report", "report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (tiny_run / "report.html").read_text(errors="ignore")
    assert "accuracy_vs_timestep.png" in html and "pareto.png" in html


def test_code_style():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_remote_data_sets_are_fetched_first(tmp_path):
    cfg = tmp_path / "cifar.yaml"
    cfg.write_text(TINY.read_text().replace("  digits:\n", "  cifar10:\n", 1)
                   + "data:\n  raw_root: raw\n")
    result = snakemake("-n", "--configfile", str(cfg), "--directory", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["fetch_dataset"] == 1 and counts["prepare_dataset"] == 3
    assert "raw/cifar10/fetched.json" in result.stdout


def test_paper_grid_dag(tmp_path):
    paper = ROOT / "config" / "paper.yaml"
    result = snakemake("-n", "--configfile", str(paper), "--directory", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # frame sets x 4 methods + event sets x 2 methods = 18, x 4 alphas x 3 seeds = 216
    counts = job_counts(result.stdout)
    assert counts == {"fetch_dataset": 6, "prepare_dataset": 6, "train": 216,
                      "record_outputs": 216, "sweep_cutoff": 216, "collect_sweeps": 1,
                      "plot_accuracy_vs_timestep": 1, "plot_pareto": 1,
                      "plot_policy_comparison": 1, "plot_accuracy_vs_energy": 1,
                      "plot_exit_histograms": 1, "summarise": 1, "all": 1, "total": 668}
    jobs = result.stdout.split("\n\n")
    for rule in ("train", "record_outputs"):
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
        return set(re.findall(r"results/data/digits-dvs/[0-9a-f]{12}/frames\.npz", out))

    base = frames_paths(TINY.read_text())
    longer = frames_paths(TINY.read_text().replace("    T: 4\n", "    T: 6\n"))
    assert len(base) == len(longer) == 1 and base != longer


def test_bad_archive_stops_the_workflow_with_placement_instructions(tmp_path):
    cfg = tmp_path / "cifar.yaml"
    cfg.write_text(TINY.read_text().replace("  digits:\n", "  cifar10:\n", 1)
                   + "data:\n  raw_root: raw\n")
    archive = tmp_path / "raw" / "cifar10" / "cifar-10-python.tar.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"an interrupted download")
    result = snakemake("--cores", "1", "--configfile", str(cfg), "--directory", str(tmp_path),
                       "--until", "fetch_dataset")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "fetch_dataset cifar10: " in output and "is corrupt or incomplete" in output
    assert f"copy it to {archive.resolve()}" in output
    assert "Traceback" not in (tmp_path / "results/logs/fetch_dataset/cifar10.log").read_text()
    assert not (tmp_path / "raw" / "cifar10" / "fetched.json").exists()
