"""The workflow through profiles/slurm.

The ``sbatch`` lines the executor plugin builds for the shipped configs: Snakemake's own
dry run evaluates each job's resources through the profile, and the plugin's own code
picks the partition and writes the line. Needs the plugin (``make slurm-plugin``).

On a real single-node SLURM cluster on localhost (tools/slurm_local.sh): jobs are
submitted with the profile's partitions and the config's GPU, memory and runtime
requests, a cancelled training job is retried with the same time limit, and the outputs
come back right. Needs root and Debian's slurm-wlm and munge (`.ci/run` installs them).

Skipped where they are missing, except in CI, where skipping would hide a broken
profile."""

import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from conftest import ROOT, snakemake

from spikecut.settings import Settings

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
PROFILE = ROOT / "profiles" / "slurm"


def needs(missing: bool, why: str) -> None:
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the SLURM tests: {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def plugin():
    needs(
        not (PLUGIN / "snakemake_executor_plugin_slurm").is_dir(),
        "needs the executor plugin (make slurm-plugin)",
    )
    sys.path.insert(0, str(PLUGIN))
    try:
        yield
    finally:
        sys.path.remove(str(PLUGIN))


@pytest.fixture(scope="module")
def cluster(plugin):
    needs(
        os.geteuid() != 0 or shutil.which("slurmctld") is None,
        "needs root and SLURM (tools/slurm_local.sh install)",
    )
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


def cancel_first_running(rule: str, stop: threading.Event, cancelled: list) -> None:
    """Cancel the first job of ``rule`` seen running, as a user or a node failure would."""
    while not stop.is_set():
        out = subprocess.run(
            ["squeue", "-h", "-o", "%i %k %T"], capture_output=True, text=True
        ).stdout
        for job_id, comment, state in (line.split() for line in out.splitlines()):
            if comment.startswith(f"rule_{rule}_") and state == "RUNNING":
                subprocess.run(["scancel", job_id], check=True)
                cancelled.append(job_id)
                return
        time.sleep(0.2)


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
        str(PROFILE),
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
    stop, cancelled = threading.Event(), []
    canceller = threading.Thread(target=cancel_first_running, args=("train", stop, cancelled))
    canceller.start()
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    finally:
        stop.set()
        canceller.join()
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]

    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    jobs = [job_fields(j) for j in submitted]
    rules = sorted(re.match(r"rule_(\w+?)_wildcards", j["Comment"])[1] for j in jobs)
    # the cheap aggregation rules run locally; the cancelled training job was retried
    assert len(cancelled) == 1, "no training job was seen running"
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
        "train",
    ]
    states = {j["JobId"]: j["JobState"] for j in jobs}
    assert states.pop(cancelled[0]) == "CANCELLED"
    assert set(states.values()) == {"COMPLETED"}
    for job in jobs:
        if job["Comment"].startswith("rule_train_"):
            assert job["Partition"] == "gpu" and job["TresPerJob"] == "gres:gpu:1"
            # a retry resumes, so it asks for the same time
            assert job["MinMemoryNode"] == "1200M" and job["TimeLimit"] == "00:10:00"
        else:  # no GPU asked for: the CPU partition, whatever the rule
            assert job["Partition"] == "cpu" and "TresPerJob" not in job

    results = workdir / "results"
    curves = pd.read_csv(results / "cutoff" / "curves.csv")
    assert sorted(curves["seed"].unique()) == [0, 1]
    assert (results / "summary" / "summary.md").stat().st_size > 0
    assert not list(results.rglob("resume.pt"))  # finished runs leave no checkpoint
    assert list((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))  # as the README says


class Resources(dict):
    """A job's resources as the plugin reads them: ``.get`` and attribute access."""

    __getattr__ = dict.__getitem__


def _value(text: str):
    try:
        return int(text)
    except ValueError:
        return text


def dry_run_jobs(configfile, workdir) -> list[SimpleNamespace]:
    """Each job Snakemake would submit for ``configfile`` through the SLURM profile, with
    its resources as Snakemake evaluated them (profile defaults, config, rule)."""
    result = snakemake(
        "-n",
        "--workflow-profile",
        str(PROFILE),
        "--configfile",
        str(configfile),
        "--directory",
        str(workdir),
        env=os.environ | {"PYTHONPATH": str(PLUGIN)},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    jobs, job = [], None
    for line in result.stdout.splitlines():
        if re.match(r"(local)?rule \w+:$", line):
            local, name = line.startswith("localrule"), line.split()[-1].rstrip(":")
            job = SimpleNamespace(name=name, local=local, threads=1, resources=Resources())
            jobs.append(job)
        elif job is not None and line.startswith("    threads: "):
            job.threads = int(line.split(": ", 1)[1])
        elif job is not None and line.startswith("    resources: "):
            pairs = (p.split("=", 1) for p in line.split(": ", 1)[1].split(", "))
            job.resources = Resources({k: _value(v) for k, v in pairs})
    assert jobs, result.stdout[-2000:]
    return [j for j in jobs if not j.local]


def sbatch_line(job) -> str:
    """The plugin's ``sbatch`` line for ``job``, with the profile's partition file."""
    from snakemake_executor_plugin_slurm.partitions import get_best_partition, read_partition_file
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    assert "slurm_partition" not in job.resources  # else the plugin would not choose
    partitions = read_partition_file(PROFILE / "partitions.yaml")
    partition = get_best_partition(partitions, job, logging.getLogger("slurm"))
    params = {
        "run_uuid": "run",
        "slurm_logfile": "job.log",
        "comment_str": f"rule_{job.name}",
        "account": "",
        "partition": f" -p {partition}",
        "workdir": None,
    }
    return get_submit_command(job, params) + set_gres_string(job)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config, gpu_rules",
    [
        ("config/config.yaml", set()),
        (".test/config/config.yaml", set()),
        ("config/paper.yaml", {"train", "record_outputs", "early_exit"}),
    ],
)
def test_each_job_asks_slurm_for_what_it_uses(plugin, tmp_path, config, gpu_rules):
    """A job that asks for a GPU gets one on a GPU partition; every other job goes to a
    CPU partition and asks for no GPU, whatever the rule. Time and memory are the
    config's."""
    settings = Settings.load(yaml.safe_load((ROOT / config).read_text()))
    jobs = dry_run_jobs(ROOT / config, tmp_path)
    seen = set()
    for job in jobs:
        line = sbatch_line(job)
        seen.add(job.name)
        if job.name in gpu_rules:
            assert " -p gpu " in line and line.endswith(" --gpus=1"), line
        else:
            assert " -p cpu " in line and "--gpus" not in line and "gres" not in line, line
        stage = {"prepare_dataset": "prepare", "train": "train", "record_outputs": "record"}
        if job.name in stage:
            asked = getattr(settings.resources, stage[job.name])
            assert f" -t {asked.runtime} " in line and f" --mem {asked.mem_mb} " in line, line
    assert gpu_rules <= seen and {"prepare_dataset", "train", "record_outputs"} <= seen
