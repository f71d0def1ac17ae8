"""How to make a broken or missing output again, as a command the user can run as it
is written.

Snakemake does nothing when only an intermediate file is missing, so "delete it and
rerun" would do nothing for, say, a corrupt ``logits.npz``: the file has to be asked for
by name. The Snakefile records how it was started (the Python that runs Snakemake,
Snakefile, working directory, config files, ``--config`` overrides) in an environment
variable that its jobs inherit; a job's message then names the command that makes the
file again, runnable as written from any folder with no environment active. The next
plain run redoes what depends on it. The command runs with the workflow's default
profile: a file of a cluster run is remade on the machine the command is typed on.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ENV = "SPIKECUT_SNAKEMAKE"


def remake_prefix(
    snakefile: str | Path,
    workdir: str | Path,
    configfiles: Sequence[str | Path],
    overrides: Mapping[str, object] | None = None,
) -> str:
    """The command, but for its targets, that rebuilds a file of this workflow run, for
    :data:`ENV`: this Python's Snakemake (the project's, whether or not its environment
    is active where the command is pasted). ``overrides`` are the ``--config`` values as
    Snakemake parsed them; JSON is YAML, which is how Snakemake reads them back.
    ``--cores`` comes last, so that the targets that follow it are not read as more
    config files or values."""
    words = [sys.executable, "-m", "snakemake", "-s", str(Path(snakefile).resolve())]
    words += ["--directory", str(Path(workdir).resolve())]
    for path in configfiles:
        words += ["--configfile", str(Path(path).resolve())]
    if overrides:
        words += ["--config", *(f"{key}={json.dumps(value)}" for key, value in overrides.items())]
    return shlex.join(words + ["--cores", "all"])


def remake_command(*targets: str | Path) -> str | None:
    """``.../python -m snakemake ... TARGET`` for this workflow run, or None outside
    one."""
    command = os.environ.get(ENV)
    if command is None:
        return None
    return f"{command} {shlex.join(str(t) for t in targets)}"


def remake(
    path: str | Path, also: Sequence[str | Path] = (), target: str | Path | None = None
) -> str:
    """Advice for a broken ``path``: delete it (and ``also``), then make it (or
    ``target``, the output that brings it back) again, then run as usual."""
    doomed = " and ".join(str(p) for p in [path, *also])
    command = remake_command(target or path)
    if command is None:
        return f"delete {doomed} and run the stage that writes it again"
    return (
        f"delete {doomed}, then make it again with `{command}`, then run your usual "
        "command again: it redoes what depends on it"
    )
