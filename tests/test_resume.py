"""Resumable training: a run killed at any point and started again ends exactly as an
uninterrupted run; a checkpoint of other settings is ignored; a broken one is refused."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
from conftest import DATA, RUN, TRAIN, with_training

from spikecut import stages
from spikecut.training import Checkpointer

PLAN = with_training(TRAIN, epochs=5)
TRAIN_SCRIPT = """
import json, sys
from spikecut import stages
from spikecut.settings import TrainPlan
args = json.loads(sys.argv[1])
stages.train(args["frames"], args["model"], args["metrics"], args["settings"], args["run"],
             TrainPlan.model_validate(args["plan"]), progress=False, resume=args["resume"])
"""


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume-data")
    stages.prepare_dataset(
        d / "frames.npz",
        d / "params.json",
        "digits",
        DATA.model_copy(update={"limit": 240}),
    )
    return d / "frames.npz"


def outputs(d):
    return d / "model.pt", d / "metrics.csv", d / "settings.json", d / "resume.pt"


def train_in_subprocess(frames, d):
    model, metrics, settings, resume = outputs(d)
    args = {
        "frames": str(frames),
        "model": str(model),
        "metrics": str(metrics),
        "settings": str(settings),
        "run": RUN,
        "plan": PLAN.model_dump(mode="json"),
        "resume": str(resume),
    }
    return subprocess.Popen(
        [sys.executable, "-c", TRAIN_SCRIPT, json.dumps(args)], stderr=subprocess.PIPE, text=True
    )


def assert_same_run(a, b):
    first, second = torch.load(a / "model.pt"), torch.load(b / "model.pt")
    assert first["state_dict"].keys() == second["state_dict"].keys()
    for key, value in first["state_dict"].items():
        assert torch.equal(value, second["state_dict"][key]), key
    pd.testing.assert_frame_equal(pd.read_csv(a / "metrics.csv"), pd.read_csv(b / "metrics.csv"))


def train(frames, d):
    model, metrics, settings, resume = outputs(d)
    stages.train(frames, model, metrics, settings, RUN, PLAN, progress=False, resume=resume)


@pytest.fixture(scope="module")
def uninterrupted(frames, tmp_path_factory):
    d = tmp_path_factory.mktemp("whole")
    train(frames, d)
    # kept, holding the finished state, until the recording has used the model
    assert torch.load(outputs(d)[3], weights_only=False)["epoch"] == PLAN.training.epochs
    return d


def test_a_finished_run_started_again_resumes_at_its_end(frames, uninterrupted, tmp_path):
    """As after a SIGINT that reached only Snakemake: the job finished, but counts as
    incomplete, and its rerun must not train from scratch."""
    resume = outputs(tmp_path)[3]
    resume.write_bytes(outputs(uninterrupted)[3].read_bytes())
    written = resume.stat().st_mtime_ns
    train(frames, tmp_path)
    assert_same_run(uninterrupted, tmp_path)
    assert resume.stat().st_mtime_ns == written  # no epoch was trained, so none saved


@pytest.mark.parametrize("kill_after_epoch", [1, 3])
def test_killed_run_resumes_to_the_same_result(frames, uninterrupted, tmp_path, kill_after_epoch):
    model, metrics, _, resume = outputs(tmp_path)
    proc = train_in_subprocess(frames, tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if resume.exists() and torch.load(resume, weights_only=False)["epoch"] >= kill_after_epoch:
            break
        time.sleep(0.01)
    assert proc.poll() is None, f"training ended before the kill: {proc.stderr.read()}"
    os.kill(proc.pid, signal.SIGKILL)  # no cleanup of any kind runs
    proc.wait()
    killed_at = torch.load(resume, weights_only=False)["epoch"]
    assert kill_after_epoch <= killed_at < PLAN.training.epochs
    assert not model.exists() and not metrics.exists()

    train(frames, tmp_path)
    assert_same_run(uninterrupted, tmp_path)


def test_checkpoint_of_other_settings_is_ignored(frames, uninterrupted, tmp_path):
    resume = outputs(tmp_path)[3]
    Checkpointer(resume, "another-run").save({"epoch": 4})
    train(frames, tmp_path)
    assert_same_run(uninterrupted, tmp_path)


def test_corrupt_checkpoint_is_refused_with_its_path(frames, uninterrupted, tmp_path):
    resume = outputs(tmp_path)[3]
    resume.write_bytes((uninterrupted / "model.pt").read_bytes()[:200])
    with pytest.raises(ValueError, match=f"checkpoint {resume} is corrupt or truncated"):
        train(frames, tmp_path)
