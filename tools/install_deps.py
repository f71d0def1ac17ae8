"""Install spikecut's dependencies into the running interpreter.

pyproject.toml is the one list of dependencies. Packages named in NO_DEPS are installed
without their own dependency metadata: spikingjelly 2.0.0 declares torchaudio and a
torch range that would pull a second multi-GB torch build, while the modules spikecut
imports (neuron, layer, functional, surrogate) need only torch, numpy, tqdm and loguru,
which pyproject.toml lists itself.

    python tools/install_deps.py [EXTRA ...]

installs the dependencies, the test extra and any other extras named, e.g. ``cuda12``
for CuPy on a CUDA 12 machine.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

NO_DEPS = {"spikingjelly"}


def _name(requirement: str) -> str:
    for sep in "<>=!~[; ":
        requirement = requirement.split(sep)[0]
    return requirement.lower()


def main(extras: list[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    unknown = sorted(set(extras) - set(optional))
    if unknown:
        raise SystemExit(f"unknown extras {unknown}; pyproject.toml defines {sorted(optional)}")
    deps = project["dependencies"] + [d for e in ["test", *extras] for d in optional[e]]
    normal = [d for d in deps if _name(d) not in NO_DEPS]
    isolated = [d for d in deps if _name(d) in NO_DEPS]
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + normal, check=True)
    subprocess.run(pip + ["--no-deps"] + isolated, check=True)
    subprocess.run(pip + ["--no-deps", "-e", str(root)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
