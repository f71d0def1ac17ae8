"""Install spikecut's dependencies into the running interpreter.

pyproject.toml is the one list of dependencies. Packages named in NO_DEPS are installed
without their own dependency metadata: spikingjelly 2.0.0 declares torchaudio and a
torch range that would pull a second multi-GB torch build, while the modules spikecut
imports (neuron, layer, functional, surrogate) need only torch, numpy, tqdm and loguru,
which pyproject.toml lists itself.

    python tools/install_deps.py [EXTRA ...]
    python tools/install_deps.py --target DIR EXTRA ...

installs the dependencies, the workflow and test extras and any other extras named,
e.g. ``cuda12`` for CuPy on a CUDA 12 machine or ``slurm`` for the SLURM profile's
executor plugin.
With ``--target``, only the named extras go into DIR, without their dependencies (which
the environment has): a directory to put on PYTHONPATH where they are wanted only
sometimes, as the tests do with the SLURM plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

NO_DEPS = {"spikingjelly"}


def _name(requirement: str) -> str:
    for sep in "<>=!~[; ":
        requirement = requirement.split(sep)[0]
    return requirement.lower()


def log_path() -> Path:
    """Where pip's notices (one per index location it skips: hundreds on some machines)
    and progress go, so that the console hears of pip only when it fails: the
    environment installed into, else (a system Python) the temporary folder."""
    folder = Path(sys.prefix)
    if not os.access(folder, os.W_OK):
        folder = Path(tempfile.gettempdir())
    return folder / "pip-install.log"


def _pip(command: list[str], log_file: Path) -> None:
    with log_file.open("a") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = log_file.read_text().splitlines()[-30:]
        raise SystemExit("\n".join([*tail, f"pip failed; its whole log is {log_file}"]))


def main(args: list[str]) -> None:
    target = None
    if args[:1] == ["--target"]:
        if len(args) < 3:
            raise SystemExit("usage: install_deps.py --target DIR EXTRA ...")
        target, args = args[1], args[2:]
    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    unknown = sorted(set(args) - set(optional))
    if unknown:
        raise SystemExit(f"unknown extras {unknown}; pyproject.toml defines {sorted(optional)}")
    log = log_path()
    print(f"installing with pip (log: {log})", flush=True)
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    if target is not None:
        wanted = [d for e in args for d in optional[e]]
        _pip(pip + ["--no-deps", "--upgrade", "--target", target] + wanted, log)
        return
    deps = project["dependencies"] + [d for e in ["workflow", "test", *args] for d in optional[e]]
    normal = [d for d in deps if _name(d) not in NO_DEPS]
    isolated = [d for d in deps if _name(d) in NO_DEPS]
    _pip(pip + normal, log)
    _pip(pip + ["--no-deps"] + isolated, log)
    _pip(pip + ["--no-deps", "-e", str(root)], log)


if __name__ == "__main__":
    main(sys.argv[1:])
