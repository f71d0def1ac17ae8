"""Which device a job runs on: one GPU per job, held for as long as the job runs.

Snakemake's ``gpu`` resource only counts jobs; it never tells a job which GPU to use,
so every job asking for "cuda" would land on the first one. A job that may use any GPU
therefore claims one: it takes an exclusive ``flock`` on a file named after the GPU's
UUID in one folder for every job on the machine, ``/tmp/spikecut-gpu-locks`` (whatever
each job's ``TMPDIR``), or ``$SPIKECUT_GPU_LOCKS``. The operating system drops the lock
when the process ends in any way, SIGKILL included, so a crashed job never keeps a GPU.
Naming the file by UUID, not by index, keeps jobs that see different GPUs under the
same index (SLURM renumbers each job's GPUs from 0) from blocking each other.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import torch

log = logging.getLogger(__name__)

LOCKS_ENV = "SPIKECUT_GPU_LOCKS"  # the shared folder of the lock files, if not the default


def lock_folder() -> Path:
    return Path(os.environ.get(LOCKS_ENV) or "/tmp/spikecut-gpu-locks")


def assigned_gpus(env: Mapping[str, str], count: int) -> list[int]:
    """The indices, in torch's numbering, of the GPUs this process may use, of the
    ``count`` it sees. torch already hides what ``CUDA_VISIBLE_DEVICES`` hides. A SLURM
    job sees its own GPUs through that variable, which SLURM sets for every job it
    gives GPUs to; a SLURM job without it was given none, even where the node's GPUs
    are visible to it."""
    if "SLURM_JOB_ID" in env and "CUDA_VISIBLE_DEVICES" not in env:
        return []
    return list(range(count))


@dataclass
class Claim:
    """A GPU held by this process until :meth:`release` or the process's end."""

    position: int  # in the list of keys the claim chose from
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the last descriptor drops the flock
            self.fd = -1


def _lock(folder: Path, key: str, position: int = 0) -> Claim | None:
    path = folder / f"{key}.lock"
    try:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except PermissionError:  # another user's lock file: flock needs no write access
            fd = os.open(path, os.O_RDONLY)
    except OSError as err:
        raise RuntimeError(_unusable(path, err)) from err
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return Claim(position, fd)


def _folder(folder: Path) -> Path:
    if not folder.is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RuntimeError(_unusable(folder, err)) from err
        # shared by every user's jobs, like /tmp; another user's job may have made it
        with suppress(PermissionError):
            os.chmod(folder, 0o1777)
    return folder


def _unusable(path: Path, err: OSError) -> str:
    return (
        f"cannot use {path} for the GPU locks ({err.strerror}); set {LOCKS_ENV} to a "
        "folder every job on this machine can write"
    )


def try_claim(key: str, folder: Path | None = None) -> Claim | None:
    """The GPU named ``key`` if no other process holds it, else None."""
    return _lock(_folder(folder or lock_folder()), key)


def claim_any(
    keys: Sequence[str], folder: Path | None = None, poll_s: float = 2.0, busy_hint: str = ""
) -> Claim:
    """The first GPU of ``keys`` that no other process holds. While every one is held,
    wait for one to be freed, and say so once."""
    folder = _folder(folder or lock_folder())
    waited = False
    while True:
        for position, key in enumerate(keys):
            claim = _lock(folder, key, position)
            if claim is not None:
                if waited:
                    log.info("got GPU %s after waiting", key)
                return claim
        if not waited:
            log.warning(
                "all %d GPUs this job may use are held by other spikecut jobs (locks in "
                "%s); waiting for one to be freed.%s",
                len(keys),
                folder,
                busy_hint,
            )
            waited = True
        time.sleep(poll_s)


def gpu_key(index: int) -> str:
    """A name for GPU ``index`` that no renumbering changes: its UUID."""
    uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
    return f"GPU-{uuid}" if uuid is not None else f"gpu{index}"


_WAIT_HINT = (
    " If Snakemake runs more GPU jobs at once than there are GPUs, start it with "
    "--resources gpu=N, N the number of GPUs (profiles/default sets 1)."
)


def allocate(
    requested: str,
    count: int,
    env: Mapping[str, str],
    key: Callable[[int], str],
    folder: Path | None = None,
) -> tuple[int | None, Claim | None]:
    """The GPU a job asking for ``requested`` runs on, of the ``count`` it sees (None:
    the CPU), and the claim that holds it; ``key`` names GPU i for its lock.

    ``cpu`` is the CPU. ``cuda:N`` is that GPU, shared if another job holds it.
    ``auto`` and ``cuda`` take a GPU no other spikecut job holds, waiting while all are
    held; ``auto`` runs on the CPU where this job may use no GPU, ``cuda`` fails there.
    """
    if requested == "cpu":
        return None, None
    if requested.startswith("cuda:"):
        index = int(requested.split(":", 1)[1])
        if index >= count:
            raise RuntimeError(
                f"device {requested!r} was requested but this job sees {count} CUDA "
                "device(s); set training.device to auto (any free GPU) or cpu in the config"
            )
        claim = try_claim(key(index), folder)
        if claim is None:
            log.warning("%s is shared: another spikecut job holds it", requested)
        return index, claim
    gpus = assigned_gpus(env, count)
    if not gpus:
        why = (
            "SLURM assigned it no GPU: give the rule a gpu resource"
            if count and "SLURM_JOB_ID" in env
            else "torch sees no CUDA device"
        )
        if requested == "cuda":
            raise RuntimeError(
                f"device 'cuda' was requested but this job may use no CUDA device ({why}); "
                "set training.device to auto or cpu in the config"
            )
        if count or "SLURM_JOB_ID" in env:
            log.warning("no GPU for this job (%s): running on the CPU", why)
        return None, None
    claim = claim_any([key(i) for i in gpus], folder, busy_hint=_WAIT_HINT)
    return gpus[claim.position], claim


@contextmanager
def job_device(requested: str) -> Iterator[torch.device]:
    """The device a job runs on (see :func:`allocate`), held until the context ends."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index, claim = allocate(requested, count, os.environ, gpu_key)
    if index is None:
        yield torch.device("cpu")
        return
    device = torch.device("cuda", index)
    try:
        # kernels and allocations that take the current device (CuPy's among them) use it
        torch.cuda.set_device(device)
        log.info("running on %s", describe_device(device))
        yield device
    finally:
        if claim is not None:
            claim.release()


def describe_device(device: torch.device, index: bool = True) -> str:
    """``cpu``, or the GPU as ``cuda:1 (NVIDIA H100 80GB HBM3, GPU-...)``, its UUID
    telling it apart where SLURM numbers every job's GPU 0; without ``index``, just its
    model, which is what a result's machine line names."""
    if device.type != "cuda":
        return device.type
    number = device.index if device.index is not None else torch.cuda.current_device()
    name = torch.cuda.get_device_name(number)
    return f"cuda:{number} ({name}, {gpu_key(number)})" if index else name
