"""config/paper.yaml end to end: every data set with every one of its methods and
variants trains, records, sweeps and reaches the summary and the figures, on CPU, on
small fakes of the paper's data sets in their real formats (tests/fakes.py). A grid
entry that cannot finish fails here.

Only what makes it small differs from the paper's grid: one epoch, a few dozen samples
of three classes (eleven for DVS128 Gesture), event frames resized to 16 or 32 pixels,
the converted SNNs run for 8 steps instead of 32, one alpha and one seed. The data
sets, their T, models, methods, variants, augmentations and cutoff settings are the
paper config's own, read from the file, so a new grid entry is tested as it lands.
"""

import json

import pandas as pd
import pytest
import yaml
from conftest import ROOT, assert_figures, snakemake

from tests.fakes import place_raw

PAPER = ROOT / "config" / "paper.yaml"
# the smallest frames each event model's poolings allow
EVENT_SIZES = {"cifar10-dvs": [16, 16], "dvs128-gesture": [32, 32], "n-caltech101": [32, 32]}


def standin_config(raw_root):
    cfg = yaml.safe_load(PAPER.read_text())
    for name, ds in cfg["datasets"].items():
        ds["epochs"] = 1
        if name in EVENT_SIZES:
            ds["options"] = ds.get("options", {}) | {"size": EVENT_SIZES[name]}
        place_raw(name, raw_root)
    # a third for validation: the smallest split still holds every class
    cfg["data"] |= {"raw_root": str(raw_root), "val_fraction": 0.34}
    cfg["alphas"] = cfg["alphas"][1:2]  # one alpha > 0: RCS in every method's loss
    cfg["seeds"] = cfg["seeds"][:1]
    cfg["qcfs"]["T"] = 8
    cfg["training"] |= {"device": "cpu", "batch_size": 8}
    cfg["record"]["batch_size"] = 32
    cfg["resources"] = {
        stage: {"mem_mb": 1000, "runtime": 10, "gpu": 0} for stage in ("prepare", "train", "record")
    }
    return cfg


def grid_entries(cfg):
    return {
        (name, method)
        for name, ds in cfg["datasets"].items()
        for method in ds.get("methods", cfg["methods"])
    }


@pytest.mark.slow
def test_every_grid_entry_runs_to_the_figures(tmp_path):
    cfg = standin_config(tmp_path / "raw")
    config_file = tmp_path / "standin.yaml"
    config_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    result = snakemake(
        "--cores", "2", "--configfile", str(config_file), "--directory", str(tmp_path)
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]

    results = tmp_path / cfg["results"]
    summary = pd.read_csv(results / "summary" / "summary.csv", dtype={"alpha": str})
    entries = grid_entries(cfg)
    assert len(entries) == 18
    assert set(zip(summary["dataset"], summary["method"])) == entries
    # every entry ran its cutoff for real, TEBN included, with the simulated exits
    early = pd.read_csv(results / "cutoff" / "early_exit.csv")
    assert set(zip(early["dataset"], early["method"])) == entries
    assert early["matches_simulation"].all()
    assert_figures(results, [(d, m, cfg["alphas"][0]) for d, m in entries])
    assert "## cifar10 (tet-tebn-resnet19)" in (results / "summary" / "summary.md").read_text()


@pytest.mark.gpu
@pytest.mark.slow
def test_a_small_grid_trains_on_the_gpu_with_the_fast_settings(tmp_path):
    """The CIFAR-10 and DVS128 Gesture entries of the stand-in grid, on the GPU, in the
    paper config's own bfloat16 with cuDNN autotuning."""
    cfg = standin_config(tmp_path / "raw")
    cfg["datasets"] = {name: cfg["datasets"][name] for name in ("cifar10", "dvs128-gesture")}
    cfg["training"]["device"] = "auto"
    for stage in ("train", "record"):
        cfg["resources"][stage]["gpu"] = 1
    config_file = tmp_path / "gpu.yaml"
    config_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    result = snakemake(
        "--cores", "4", "--resources", "gpu=1", "--configfile", str(config_file),
        "--directory", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    runs = list((tmp_path / cfg["results"] / "runs").glob("*/*/*/*/settings.json"))
    assert len(runs) == len(grid_entries(cfg))
    for path in runs:
        saved = json.loads(path.read_text())
        assert saved["device"].startswith("cuda:"), path
        assert saved["train"]["training"]["precision"] == "bf16"
    early = pd.read_csv(tmp_path / cfg["results"] / "cutoff" / "early_exit.csv")
    assert early["matches_simulation"].all()
