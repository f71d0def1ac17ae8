"""Send a workflow job's logging, warnings and progress bars to its log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


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
