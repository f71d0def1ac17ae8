"""One writer per training run.

A Snakemake that dies while its jobs run on a cluster, then started again (after
``--unlock``), submits the jobs that are still running a second time. Two jobs would
then train the same run and write the same checkpoint and model. A training job
therefore holds an exclusive ``flock`` on a file in its run folder for as long as it
trains, and writes into that file who holds it: host, process and SLURM job. A second
job finds the lock held and stops, naming the first and how to cancel it. The lock dies
with its holder (the operating system releases it, SIGKILL included), so a lock left by
a dead job is taken over with a line in the log. On file systems whose locks do not
reach across hosts, a holder recorded as a SLURM job that SLURM still runs counts as
alive; on one with no locks at all, so does a live process of this host.
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
    if not holder:  # it has the lock but has not yet written who it is
        who, stop = "which is just starting", "wait for it"
    elif job := holder.get("slurm_job"):
        who = f"process {holder.get('pid')} on {holder.get('host')} (SLURM job {job})"
        stop = f"wait for it, or cancel it with `scancel {job}`"
    else:
        who = f"process {holder.get('pid')} on {holder.get('host')}"
        stop = f"wait for it, or stop it (`kill {holder.get('pid')}` on {holder.get('host')})"
    since = f", since {holder['since']}" if holder.get("since") else ""
    return RunBusyError(
        f"run {run} is being trained by another job, {who}{since}; two jobs would write "
        f"the same checkpoint. If that job is still wanted, {stop}; then run the workflow "
        "again"
    )


def _alive_here(holder: dict) -> bool:
    """Whether the holder is a live process of this host."""
    if holder.get("host") != socket.gethostname() or not holder.get("pid"):
        return False
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _read(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode(errors="replace")
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}


LOCK = ".training.lock"


@contextmanager
def sole_writer(folder: Path, run: str) -> Iterator[None]:
    """Hold the writer lock of run ``run``, whose folder is ``folder``, for the
    duration, or raise :class:`RunBusyError` naming the job that holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise RuntimeError(
            f"cannot open {path} ({err.strerror}); the job must be able to write its run's folder"
        ) from err
    try:
        locked = True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(run, _read(fd)) from None
        except OSError as err:  # e.g. Lustre mounted without flock, NFS without lockd
            log.warning("%s cannot be locked (%s); judging by who it names", path, err.strerror)
            locked = False
        previous, me = _read(fd), _me()
        job = previous.get("slurm_job")
        if job and job != me["slurm_job"] and _slurm_runs(job):
            # the lock came free, yet SLURM runs its last holder: a lock of another host
            # that this file system does not show
            raise _busy(run, previous)
        if not locked and _alive_here(previous):
            raise _busy(run, previous)
        if previous:  # its holder died without clearing it
            log.info("taking over the writer lock of %s, which has ended", previous)
        _write(fd, me)
        try:
            yield
        finally:
            _write(fd, {})  # a clean end: the next job takes over without a word
    finally:
        os.close(fd)


def _write(fd: int, holder: dict) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    if holder:
        os.write(fd, json.dumps(holder).encode())
    os.fsync(fd)
