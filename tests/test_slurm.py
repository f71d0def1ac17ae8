"""The workflow through profiles/slurm on a real single-node SLURM cluster on localhost
(tools/slurm_local.sh): jobs are submitted with the profile's partitions and the
config's GPU, memory and runtime requests, and the outputs come back right.

Needs root and Debian's slurm-wlm and munge (`.ci/run` installs them). Skipped where
they are missing, except in CI, where skipping would hide a broken profile."""

import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from tests.test_workflow import ROOT

SLURM = ROOT / "tools" / "slurm_local.sh"
CONFIG = """
datasets:
  digits: {T: 3, epochs: 1, limit: 150}
methods: [bptt]
alphas: ["0"]
seeds: [0, 1]
model: {name: convsnn, channels: [4]}
resources:
  prepare: {mem_mb: 1000, runtime: 10}
  train: {mem_mb: 1200, runtime: 10, gpu: 1}
  record: {mem_mb: 1000, runtime: 10}
cutoff: {epsilons: ["0.0", "0.05"]}
summary: {histogram_epsilon: "0.05"}
"""


PLUGIN = ROOT / ".slurm-plugin"


@pytest.fixture(scope="module")
def cluster():
    missing = (
        os.geteuid() != 0
        or shutil.which("slurmctld") is None
        or not (PLUGIN / "snakemake_executor_plugin_slurm").is_dir()
    )
    if missing:
        why = (
            "needs root, SLURM (tools/slurm_local.sh install) and the executor plugin "
            "(make slurm-plugin)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the SLURM test: {why}")
        pytest.skip(why)
    started = subprocess.run([SLURM, "start"], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"the local SLURM cluster did not start: {started.stderr}")
    yield
    subprocess.run([SLURM, "stop"], check=True)


def job_fields(job_id: str) -> dict:
    out = subprocess.run(
        ["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True, check=True
    ).stdout
    return dict(f.split("=", 1) for f in out.split() if "=" in f)


@pytest.mark.slow
def test_tiny_workflow_through_slurm(cluster, tmp_path):
    cfg = tmp_path / "slurm.yaml"
    cfg.write_text(CONFIG)
    workdir = tmp_path / "work"
    # the SLURM executor can ignore SIGTERM; SIGINT stops it
    cmd = [
        "timeout",
        "-s",
        "INT",
        "-k",
        "30",
        "900",
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--workflow-profile",
        str(ROOT / "profiles/slurm"),
        "--configfile",
        str(cfg),
        "--directory",
        str(workdir),
        "--jobs",
        "2",
        # no accounting database here: poll with squeue, and soon
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--latency-wait",
        "5",
    ]
    env = os.environ | {"PYTHONPATH": str(PLUGIN)}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]

    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    jobs = [job_fields(j) for j in submitted]
    rules = sorted(re.match(r"rule_(\w+?)_wildcards", j["Comment"])[1] for j in jobs)
    # the cheap aggregation rules run locally
    assert rules == [
        "early_exit",
        "early_exit",
        "prepare_dataset",
        "record_outputs",
        "record_outputs",
        "sweep_cutoff",
        "sweep_cutoff",
        "train",
        "train",
    ]
    assert all(j["JobState"] == "COMPLETED" for j in jobs)
    for job in jobs:
        if job["Comment"].startswith("rule_train_"):
            assert job["Partition"] == "gpu" and job["TresPerJob"] == "gres:gpu:1"
            assert job["MinMemoryNode"] == "1200M" and job["TimeLimit"] == "00:10:00"
        else:
            assert "TresPerJob" not in job
    assert {j["Partition"] for j in jobs if "prepare" in j["Comment"]} == {"cpu"}

    results = workdir / "results"
    curves = pd.read_csv(results / "cutoff" / "curves.csv")
    assert sorted(curves["seed"].unique()) == [0, 1]
    assert (results / "summary" / "summary.md").stat().st_size > 0
    assert not list(results.rglob("resume.pt"))  # finished runs leave no checkpoint
