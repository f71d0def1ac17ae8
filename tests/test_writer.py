"""One writer per training run, with two real processes."""

import errno
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys

import pytest
from conftest import DATA, RUN, TRAIN, train_into

from spikecut import stages
from spikecut.training.writer import LOCK, RunBusyError, sole_writer

# holds the writer lock of folder argv[1] until its stdin closes
HOLDER = """
import sys
from pathlib import Path
from spikecut.training.writer import sole_writer
with sole_writer(Path(sys.argv[1]), "digits/bptt/alpha0/seed0"):
    print("holding", flush=True)
    sys.stdin.read()
"""


def holder(folder, env=None):
    if env is None:  # a plain process, even where the tests run inside a SLURM job
        env = {k: v for k, v in os.environ.items() if k != "SLURM_JOB_ID"}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_a_second_writer_stops_naming_the_first(tmp_path):
    proc = holder(tmp_path)
    try:
        with pytest.raises(RunBusyError) as err:
            with sole_writer(tmp_path, "digits/bptt/alpha0/seed0"):
                pass
        message = str(err.value)
        assert f"process {proc.pid} on " in message and "kill" in message
        assert message.startswith("run digits/bptt/alpha0/seed0 is being trained by another job")
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    with sole_writer(tmp_path, "digits/bptt/alpha0/seed0"):  # free once it has finished
        held = json.loads((tmp_path / LOCK).read_text())
        assert held["pid"] != proc.pid
    assert (tmp_path / LOCK).read_text() == ""  # released: nobody holds it


def test_a_killed_writer_leaves_a_lock_the_next_job_takes_over(tmp_path, caplog):
    proc = holder(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert json.loads((tmp_path / LOCK).read_text())["pid"] == proc.pid  # stale
    with caplog.at_level("INFO"), sole_writer(tmp_path, "r"):
        pass
    assert "taking over the writer lock" in caplog.text


def test_a_slurm_job_names_its_job_and_how_to_cancel_it(tmp_path):
    env = {**os.environ, "SLURM_JOB_ID": "4242"}
    proc = holder(tmp_path, env)
    try:
        with pytest.raises(RunBusyError, match=r"\(SLURM job 4242\).*`scancel 4242`"):
            with sole_writer(tmp_path, "r"):
                pass
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def test_the_train_stage_refuses_a_run_another_job_trains(tmp_path):
    frames = tmp_path / "frames.npz"
    stages.prepare_dataset(frames, tmp_path / "params.json", "digits", DATA)
    run_dir = tmp_path / "run"
    proc = holder(run_dir)
    try:
        with pytest.raises(RunBusyError):
            stages.train(
                frames,
                run_dir / "model.pt",
                run_dir / "metrics.csv",
                run_dir / "settings.json",
                RUN,
                TRAIN,
                progress=False,
                resume=str(run_dir / "resume.pt"),
            )
        assert not (run_dir / "resume.pt").exists() and not (run_dir / "model.pt").exists()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    train_into(frames, run_dir, RUN, TRAIN)  # and trains once the other has finished
    assert (run_dir / "model.pt").exists()


@pytest.mark.parametrize(
    "state, busy", [("RUNNING", True), ("PENDING", True), ("CANCELLED", False)]
)
def test_a_lock_from_another_host_counts_while_slurm_runs_its_job(
    tmp_path, monkeypatch, state, busy
):
    """A file system whose locks do not reach across hosts shows the lock free; the
    record of a SLURM job that squeue still lists keeps the run busy."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    squeue = bin_dir / "squeue"
    squeue.write_text(f"#!/bin/sh\necho {state}\n")
    squeue.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    run = tmp_path / "run"
    run.mkdir()
    record = {"host": "node7", "pid": 1, "slurm_job": "777", "since": "then"}
    (run / LOCK).write_text(json.dumps(record))
    if busy:
        with pytest.raises(RunBusyError, match=r"\(SLURM job 777\).*`scancel 777`"):
            with sole_writer(run, "r"):
                pass
    else:
        with sole_writer(run, "r"):
            assert json.loads((run / LOCK).read_text())["pid"] == os.getpid()


@pytest.mark.parametrize("alive", [True, False])
def test_without_flock_the_recorded_holder_decides(tmp_path, monkeypatch, caplog, alive):
    """On a file system with no locks (Lustre without flock, NFS without lockd), a live
    process of this host named in the lock file keeps the run busy; a dead one does not."""

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    if not alive:
        proc.stdin.close()
        proc.wait(timeout=30)
    record = {"host": socket.gethostname(), "pid": proc.pid, "since": "then"}
    (tmp_path / LOCK).write_text(json.dumps(record))
    monkeypatch.setattr(fcntl, "flock", no_locks)
    try:
        if alive:
            with pytest.raises(RunBusyError, match=f"process {proc.pid} on "):
                with sole_writer(tmp_path, "r"):
                    pass
        else:
            with caplog.at_level("WARNING"), sole_writer(tmp_path, "r"):
                assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
            assert "cannot be locked (No locks available)" in caplog.text
    finally:
        if alive:
            proc.stdin.close()
            proc.wait(timeout=30)


def test_a_holder_that_has_not_yet_said_who_it_is_is_still_named(tmp_path):
    proc = holder(tmp_path)
    try:
        (tmp_path / LOCK).write_text("")  # as between its flock and its record
        with pytest.raises(RunBusyError, match="another job, which is just starting;"):
            with sole_writer(tmp_path, "r"):
                pass
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
