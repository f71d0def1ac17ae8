"""One GPU per job: the device locks, simulated with N devices on the CPU."""

import logging
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch

from spikecut.devices import LOCKS_ENV, allocate, claim_any, gpu_key, job_device, try_claim

# holds the first free GPU of argv[2] (comma-separated keys) until its stdin closes
HOLDER = """
import sys
from pathlib import Path
from spikecut.devices import claim_any
claim = claim_any(sys.argv[2].split(","), Path(sys.argv[1]), poll_s=0.05)
print(claim.position, flush=True)
sys.stdin.read()
"""


def sim(i: int) -> str:
    return f"sim-gpu-{i}"


@pytest.fixture
def locks(tmp_path, monkeypatch):
    monkeypatch.setenv(LOCKS_ENV, str(tmp_path))
    return tmp_path


def holder(folder, keys):
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder), ",".join(keys)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_processes_started_together_get_distinct_gpus(locks):
    keys = [sim(i) for i in range(4)]
    procs = [holder(locks, keys) for _ in range(4)]
    try:
        got = sorted(int(p.stdout.readline()) for p in procs)
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=30)
    assert got == [0, 1, 2, 3]


def test_a_killed_process_frees_its_gpu(locks):
    proc = holder(locks, [sim(0)])
    assert proc.stdout.readline().strip() == "0"
    assert try_claim(sim(0), locks) is None  # held
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    claim = try_claim(sim(0), locks)
    assert claim is not None
    claim.release()


def test_a_job_waits_for_a_freed_gpu_and_says_why(locks, caplog):
    held = [try_claim(sim(i), locks) for i in range(2)]
    got = []
    waiter = threading.Thread(target=lambda: got.append(claim_any([sim(0), sim(1)], locks, 0.05)))
    with caplog.at_level(logging.WARNING, logger="spikecut.devices"):
        waiter.start()
        time.sleep(0.5)
        assert not got and waiter.is_alive()
        held[1].release()
        waiter.join(timeout=10)
    assert got[0].position == 1
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "all 2 GPUs" in warning and "waiting" in warning
    got[0].release()
    held[0].release()


def test_auto_spreads_jobs_over_the_gpus(locks):
    claims = [allocate("auto", 3, {}, sim) for _ in range(3)]
    assert [index for index, _ in claims] == [0, 1, 2]
    claims[1][1].release()
    index, claim = allocate("cuda", 3, {}, sim)  # the freed one
    assert index == 1
    for _, c in [*claims[::2], (index, claim)]:
        c.release()


def test_an_explicit_gpu_pins_and_may_share(locks, caplog):
    first = allocate("cuda:1", 2, {}, sim)
    assert first[0] == 1 and first[1] is not None
    # a job asking for any GPU keeps off the pinned one
    other = allocate("auto", 2, {}, sim)
    assert other[0] == 0
    with caplog.at_level(logging.WARNING, logger="spikecut.devices"):
        second = allocate("cuda:1", 2, {}, sim)
    assert second == (1, None) and "cuda:1 is shared" in caplog.text
    first[1].release()
    other[1].release()
    with pytest.raises(RuntimeError, match=r"sees 2 CUDA device\(s\); set training.device"):
        allocate("cuda:2", 2, {}, sim)


def test_no_gpu(locks, caplog):
    assert allocate("cpu", 4, {}, sim) == (None, None)
    assert allocate("auto", 0, {}, sim) == (None, None)
    with pytest.raises(RuntimeError, match="torch sees no CUDA device"):
        allocate("cuda", 0, {}, sim)
    assert not caplog.records  # a CPU machine running on its CPU is not news


def test_slurm_jobs_use_the_gpus_slurm_gave_them(locks, caplog):
    # two jobs on one node, each given its own GPU, which each sees as device 0
    node = {"SLURM_JOB_ID": "11", "CUDA_VISIBLE_DEVICES": "0"}
    a = allocate("auto", 1, node, lambda i: "GPU-aaaa")
    b = allocate("auto", 1, node | {"SLURM_JOB_ID": "12"}, lambda i: "GPU-bbbb")
    assert a[0] == 0 and b[0] == 0  # neither waits for the other
    a[1].release()
    b[1].release()
    # a job SLURM gave no GPU does not take one of the node's
    no_gpu = {"SLURM_JOB_ID": "13"}
    with caplog.at_level(logging.WARNING, logger="spikecut.devices"):
        assert allocate("auto", 4, no_gpu, sim) == (None, None)
    assert "SLURM assigned it no GPU" in caplog.text
    with pytest.raises(RuntimeError, match="SLURM assigned it no GPU"):
        allocate("cuda", 4, no_gpu, sim)


def test_an_unusable_lock_folder_names_the_fix(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv(LOCKS_ENV, str(blocker / "locks"))
    with pytest.raises(RuntimeError, match=f"for the GPU locks .*; set {LOCKS_ENV} to a folder"):
        allocate("auto", 2, {}, sim)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_job_device_on_a_machine_without_gpus():
    with job_device("auto") as device:
        assert device == torch.device("cpu")
    with pytest.raises(RuntimeError, match="torch sees no CUDA device"):
        with job_device("cuda"):
            pass


@pytest.mark.gpu
def test_job_device_takes_a_free_gpu(locks):
    with job_device("auto") as device:
        assert device.type == "cuda" and torch.cuda.current_device() == device.index
        assert try_claim(gpu_key(device.index), locks) is None  # held while the job runs
        if torch.cuda.device_count() > 1:
            with job_device("auto") as second:  # another job meanwhile
                assert second != device
