"""A one-line description of the machine a result came from, and of the spikecut version
that made it, for every table that prints numbers: float sums are ordered differently
on other CPUs, so their digits differ there (within the intervals)."""

from __future__ import annotations

import os
import platform
from functools import cache
from importlib import metadata
from pathlib import Path

from spikecut import __version__


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


@cache
def describe(device: str = "cpu") -> str:
    """e.g. "2-core AMD EPYC 7B13 (x86_64), cpu, Linux, Python 3.11.7, numpy 2.4.6,
    torch 2.14.1, spikecut 0.2.0"; ``device`` is what the network ran on."""
    return (
        f"{os.cpu_count()}-core {_cpu_model()} ({platform.machine()}), {device}, "
        f"{platform.system()}, Python {platform.python_version()}, "
        f"numpy {_version('numpy')}, torch {_version('torch')}, spikecut {__version__}"
    )
