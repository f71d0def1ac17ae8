"""Keep the memory a job frees for its next tensors, instead of returning it to the OS.

On the CPU, torch allocates every layer's output anew at every step and frees it soon
after. glibc's malloc serves blocks above its mmap threshold (128 KiB at first, rising
to 32 MiB at most) with fresh mappings and unmaps them on free, so each step's tensors
are faulted in page by page again: recording the Fashion-MNIST QCFS network spent more
time in the kernel (5.8 s) than computing (4.1 s). Raising the mmap and trim thresholds
keeps freed blocks in the heap for the next allocation of their size. Nothing computed
changes; the memory a job holds no longer shrinks until it ends, and reuse leaves gaps:
the Fashion-MNIST recordings peaked at 1.86 GB instead of 1.56.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# mallopt takes a C int: blocks up to 2 GiB come from the heap and stay there; an
# older glibc refuses an mmap threshold above 32 MiB, and then blocks up to that do.
_KEEP = (2**31 - 1, 2**25)


@functools.cache
def keep_freed_memory() -> bool:
    """Ask the C library to keep freed blocks (once per process): whether it agreed.
    Only glibc's malloc has these settings; elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    trim = bool(mallopt(_M_TRIM_THRESHOLD, _KEEP[0]))
    mapped = any(mallopt(_M_MMAP_THRESHOLD, size) for size in _KEEP)
    return trim and mapped
