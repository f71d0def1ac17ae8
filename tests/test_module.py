"""spikecut imported by another workflow as a Snakemake module, as the README shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")

# the README's own example of a user's workflow: its config carries spikecut's under
# one key, and one of its rules reads what spikecut made
README_CLONE = '"../spikecut/Snakefile"'


def readme_snakefile() -> str:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("# your Snakefile\n", 1)[1].split("```", 1)[0]
    assert README_CLONE in block, "the README's module example changed its snakefile line"
    return block.replace(README_CLONE, f'"{ROOT / "Snakefile"}"')


SPIKECUT_CONFIG = {
    "results": "spikecut-results",
    "datasets": {
        "digits-dvs": {
            "T": 4,
            "epochs": 1,
            "limit": 200,
            "options": {"recordings": 2},
            "model": {"input_pool": 2},
        }
    },
    "data": {"test_fraction": 0.3, "val_fraction": 0.3},
    "methods": ["bptt"],
    "alphas": ["0", "0.005"],
    "seeds": [0],
    "model": {"name": "convsnn", "channels": [4]},
    "cutoff": {"epsilons": ["0.0", "0.05"], "raw_thresholds": 5},
    "summary": {"histogram_epsilon": "0.05", "bootstrap": {"replicates": 200}},
}


def user_workflow(folder: Path, spikecut_config: dict) -> Path:
    (folder / "config").mkdir(parents=True)
    config = {"project": "my analysis", "spikecut": spikecut_config}
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    (folder / "Snakefile").write_text(readme_snakefile())
    return folder


def snakemake(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SNAKEMAKE, "--cores", "2", *args], cwd=folder, capture_output=True, text=True
    )


@pytest.mark.slow
def test_another_workflow_imports_spikecut_as_a_module(tmp_path):
    work = user_workflow(tmp_path / "mine", SPIKECUT_CONFIG)
    done = snakemake(work)
    assert done.returncode == 0, done.stderr[-3000:]
    # every rule came in under the prefix, and ran in the user's folder
    assert "spikecut_train" in done.stderr and "rule train:" not in done.stderr
    results = work / "spikecut-results"
    for name in ("summary.csv", "summary.md", "headline.md"):
        assert (results / "summary" / name).stat().st_size > 0
    for png in ("accuracy_vs_timestep", "pareto", "policy_comparison", "exit_histograms"):
        assert (results / "figures" / f"{png}.png").stat().st_size > 10_000
    mine = pd.read_csv(work / "mine" / "topk_points.csv")
    assert len(mine) and set(mine["policy"]) == {"topk"}
    assert not (ROOT / "spikecut-results").exists()
    again = snakemake(work, "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_a_bad_module_config_fails_naming_the_key(tmp_path):
    work = user_workflow(tmp_path / "mine", SPIKECUT_CONFIG | {"seeds": [0, 0]})
    done = snakemake(work, "-n")
    assert done.returncode != 0
    assert "config key seeds" in done.stdout + done.stderr
