"""Freed memory kept for reuse: measured by the page faults of a loop that allocates
and frees large tensors, in fresh processes (the setting is process-wide, and this
one's should stay as pytest left it)."""

import platform
import subprocess
import sys

import pytest

LOOP = """
import resource, sys, torch
from spikecut.allocator import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
x = torch.ones(2**24)  # 64 MiB: above glibc's largest default mmap threshold
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    y = x * 2
    del y
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", LOOP, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="only glibc's malloc has it")
def test_freed_blocks_are_reused_without_page_faults():
    _, plain = faults("plain")
    kept, reused = faults("keep")
    assert kept == "True"
    # 40 fresh 64 MiB tensors fault in 40 tensors' pages; kept, the heap grows by a
    # few tensors' worth at first and is reused from then on
    assert reused * 4 < plain


def test_it_asks_once_per_process():
    code = (
        "from spikecut.allocator import keep_freed_memory as k; "
        "k(); k(); print(k.cache_info().misses, k.cache_info().hits)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["1", "1"]
