"""Send a workflow job's logging, warnings, progress bars and errors to its log file.

A job that fails writes what went wrong, and the fix, first; the traceback follows for
a bug report. Snakemake prints the log of a failed job, so the advice is what the user
reads first, not the last line of thirty.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path


def _advice_first(kind, error, trace) -> None:
    # the project's own errors are written for the user; anything else is named by its
    # type, which a bare message (a KeyError's "'x'") would not say
    ours = kind.__module__.split(".")[0] == "spikecut"
    message = str(error) if ours else f"{kind.__name__}: {error}"
    sys.stderr.write(f"\nspikecut: {message}\n\n(the details, for a bug report:)\n")
    traceback.print_exception(kind, error, trace, file=sys.stderr)


def log_to_file(path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "w", buffering=1)  # noqa: SIM115 - lives as long as the job
    sys.stderr = stream
    logging.basicConfig(
        stream=stream,
        level=logging.INFO,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.captureWarnings(True)
    sys.excepthook = _advice_first
