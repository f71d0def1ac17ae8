"""Fixtures and helpers the test modules share: a small digits run chained through the
stages by hand, the training plan it uses, and Snakemake in a subprocess."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from spikecut import stages
from spikecut.settings import CutoffConfig, DataPlan, RecordPlan, TrainPlan

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / ".test" / "config" / "config.yaml"
TINY_ROOT = yaml.safe_load(TINY.read_text())["results"]  # where a tiny run writes


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_logits(rng, n=200, n_steps=6, n_classes=5, signal=1.0):
    """Per-step logits whose accumulated argmax drifts towards the label over time."""
    labels = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_steps, n_classes))
    logits[np.arange(n), :, labels] += signal * rng.random((n, 1)) * 2
    return logits, labels


def snakemake(*args, cwd=ROOT, timeout=1200, env=None):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def job_counts(dry_run_output):
    if "Job stats:" not in dry_run_output:
        return {}
    table = dry_run_output.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


RUN = {"dataset": "digits", "method": "bptt", "alpha": "0.05", "seed": 0}
TRAIN = TrainPlan.model_validate(
    {
        "method": "bptt",
        "model": {"name": "convsnn", "channels": [4]},
        "neuron": {},
        "training": {
            "epochs": 2,
            "batch_size": 32,
            "optimizer": "sgd",
            "lr": 0.05,
            "loss": "mean",
            "device": "cpu",
        },
        "regulariser": {},
        "augment": {},
    }
)
RECORD = RecordPlan(method="bptt", calibration_dropout=0.3, dropout_seed=0, device="cpu")
SWEEP = CutoffConfig(policies=("timestep", "topk", "oct"), epsilons=("0", "0.1"), raw_thresholds=0)
DATA = DataPlan(T=3, seed=0, test_fraction=0.25, val_fraction=0.2, limit=150, options={})


def with_training(plan: TrainPlan, **training) -> TrainPlan:
    return plan.model_copy(update={"training": plan.training.model_copy(update=training)})


def train_into(frames, folder, run: dict, plan: TrainPlan) -> None:
    """The train stage, writing model.pt, metrics.csv and settings.json into ``folder``."""
    stages.train(
        frames,
        folder / "model.pt",
        folder / "metrics.csv",
        folder / "settings.json",
        run,
        plan,
        progress=False,
    )


@pytest.fixture(scope="session")
def chain(tmp_path_factory):
    """A digits run through every stage: frames, model, logits, sweep."""
    d = tmp_path_factory.mktemp("stages")
    stages.prepare_dataset(d / "frames.npz", d / "params.json", "digits", DATA)
    train_into(d / "frames.npz", d, RUN, TRAIN)
    stages.record(d / "model.pt", d / "frames.npz", d / "logits.npz", RECORD, batch_size=64)
    stages.sweep_cutoff(d / "logits.npz", d / "cutoff.csv", d / "exits.csv", d / "sweep.npz", SWEEP)
    return d


FIGURES = (
    "accuracy_vs_timestep",
    "pareto",
    "policy_comparison",
    "accuracy_vs_energy",
    "exit_histograms",
)


def assert_figures(results, models):
    """Every figure of the workflow is a PNG with something in it, and there is one per
    model (data set, method and alpha) of the ``models`` tuples."""
    names = [f"{name}.png" for name in FIGURES]
    alphas = {float(a) for _, _, a in models}
    if 0.0 in alphas and len(alphas) > 1:  # the regulariser's effects against alpha = 0
        names.append("rcs_dose_response.png")
    else:  # nothing to compare with: no such figure is asked for
        assert not (results / "figures" / "rcs_dose_response.png").exists()
    names += [f"models/{d}_{m}_alpha{a}.png" for d, m, a in models]
    for name in names:
        png = (results / "figures" / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, name
    assert len(list((results / "figures" / "models").glob("*.png"))) == len(models)
