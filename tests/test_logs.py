"""A failed job's log opens with what went wrong, before the traceback."""

import subprocess
import sys

import pytest

JOB = """
import sys
from spikecut.logs import log_to_file
log_to_file(sys.argv[1])
{raise_it}
"""


@pytest.mark.parametrize(
    "raise_it, first",
    [
        (
            "from spikecut.io import BrokenFileError; raise BrokenFileError('f.npz is corrupt')",
            "spikecut: f.npz is corrupt",
        ),
        ("{}['x']", "spikecut: KeyError: 'x'"),  # not ours: named by its type
    ],
)
def test_the_error_comes_first_and_the_traceback_after(tmp_path, raise_it, first):
    log = tmp_path / "job.log"
    job = JOB.format(raise_it=raise_it)
    done = subprocess.run([sys.executable, "-c", job, str(log)], capture_output=True, text=True)
    assert done.returncode == 1
    lines = log.read_text().strip().splitlines()
    assert lines[0] == first
    assert lines[1:3] == ["", "(the details, for a bug report:)"]
    assert lines[3] == "Traceback (most recent call last):"
