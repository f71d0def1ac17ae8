"""One writer per training run.

A Snakemake that dies while its jobs run on a cluster, then started again (after
``--unlock``), submits the jobs that are still running a second time. Two jobs would
then train the same run and write the same checkpoint and model. A training job
therefore holds an exclusive ``flock`` on a file in its run folder for as long as it
trains, and writes into that file who holds it: host, process and SLURM job. A second
job finds the lock held and stops, naming the first and how to cancel it. The lock dies
with its holder (the operating system releases it, SIGKILL included), so a lock left by
a dead job is taken over without a word; on file systems whose locks do not reach
across hosts, a holder recorded as a SLURM job that SLURM still runs counts as alive.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


class RunBusyError(RuntimeError):
    """Another live job is writing this run."""


def _me() -> dict:
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "slurm_job": os.environ.get("SLURM_JOB_ID"),
        "since": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


# squeue states of a job that may still write; an ended job (COMPLETED, CANCELLED,
# TIMEOUT, ...) or one whose processes are being killed (COMPLETING) will not
ALIVE = {"PENDING", "CONFIGURING", "RUNNING", "SUSPENDED", "STOPPED", "RESIZING", "REQUEUED"}


def _slurm_runs(job: str) -> bool:
    """Whether SLURM still runs (or queues) job ``job``; False where it cannot tell."""
    try:
        out = subprocess.run(
            ["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() in ALIVE


def _busy(run: str, holder: dict) -> RunBusyError:
    who = f"process {holder.get('pid')} on {holder.get('host')}"
    job = holder.get("slurm_job")
    if job:
        who += f" (SLURM job {job})"
        stop = f"wait for it, or cancel it with `scancel {job}`"
    else:
        stop = f"wait for it, or stop it (`kill {holder.get('pid')}` on {holder.get('host')})"
    return RunBusyError(
        f"run {run} is being trained by another job, {who}, since {holder.get('since')}; "
        f"two jobs would write the same checkpoint. If that job is still wanted, {stop}; "
        "then run the workflow again"
    )


def _read(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode(errors="replace")
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}


LOCK = ".training.lock"  # in the run's folder


@contextmanager
def sole_writer(folder: Path, run: str) -> Iterator[None]:
    """Hold the writer lock of run ``run``, whose folder is ``folder``, for the
    duration, or raise :class:`RunBusyError` naming the job that holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(run, _read(fd)) from None
        previous, me = _read(fd), _me()
        job = previous.get("slurm_job")
        if job and job != me["slurm_job"] and _slurm_runs(job):
            # the lock came free, yet SLURM runs its last holder: a lock of another host
            # that this file system does not show
            raise _busy(run, previous)
        if previous:  # its holder died without clearing it
            log.info("taking over the writer lock of %s, which has ended", previous)
        _write(fd, me)
        try:
            yield
        finally:
            _write(fd, {})  # ended: nobody holds it
    finally:
        os.close(fd)


def _write(fd: int, holder: dict) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    if holder:
        os.write(fd, json.dumps(holder).encode())
    os.fsync(fd)
