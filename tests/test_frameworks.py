"""Models of other SNN frameworks, trained here for real, analysed by ``spikecut analyse``.

snnTorch and Norse both emit time-major ``[T, B, C]`` outputs; each model is trained for
a few epochs on ``digits`` (rate-coded), its per-step outputs go through
:mod:`spikecut.outputs` into files, and the command's results must equal the library's
called directly on the same tensors.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from spikecut.cutoff import StepOutputs, sweep
from spikecut.data.digits import load_digit_images
from spikecut.outputs import collect, load_outputs, save_outputs
from spikecut.settings import CutoffConfig, SummaryConfig
from spikecut.stages.standalone import analyse_outputs

with warnings.catch_warnings():  # norse still calls the deprecated torch.jit.script
    warnings.simplefilter("ignore", FutureWarning)
    import norse.torch as norse
import snntorch
from snntorch import spikegen

T = 8
EPOCHS = 10


class SnnTorchMLP(nn.Module):
    """Two Leaky layers; the output layer's membrane at each step is o(t)."""

    def __init__(self):
        super().__init__()
        self.fc1, self.lif1 = nn.Linear(64, 128), snntorch.Leaky(beta=0.9)
        self.fc2, self.lif2 = nn.Linear(128, 10), snntorch.Leaky(beta=0.9)

    def forward(self, spikes):  # [T, B, 64] -> [T, B, 10]
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        record = []
        for x in spikes:
            spk1, mem1 = self.lif1(self.fc1(x), mem1)
            _, mem2 = self.lif2(self.fc2(spk1), mem2)
            record.append(mem2)
        return torch.stack(record)


def norse_mlp() -> nn.Module:
    """LIF hidden layer, leaky-integrator readout: Norse's usual classifier."""
    model = norse.SequentialState(nn.Linear(64, 128), norse.LIF(), nn.Linear(128, 10), norse.LI())

    class Readout(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, spikes):  # [T, B, 64] -> [T, B, 10]; state starts fresh
            return self.model(spikes)[0]

    return Readout()


FRAMEWORKS = {"snntorch": SnnTorchMLP, "norse": norse_mlp}


def rate_coded(images: np.ndarray, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    return spikegen.rate(torch.from_numpy(images.reshape(len(images), -1)), num_steps=T)


@pytest.fixture(scope="module")
def digits_splits():
    images, labels = load_digit_images()
    order = np.random.default_rng(0).permutation(len(labels))
    parts = {"train": order[:1000], "val": order[1000:1300], "test": order[1300:]}
    return {
        name: (rate_coded(images[idx], seed), torch.from_numpy(labels[idx]))
        for seed, (name, idx) in enumerate(parts.items())
    }


def batches(split, size=128):
    spikes, labels = split
    for i in range(0, len(labels), size):
        yield spikes[:, i : i + size], labels[i : i + size]


@pytest.fixture(scope="module", params=sorted(FRAMEWORKS))
def trained(request, digits_splits):
    """(framework, model) after EPOCHS epochs of cross-entropy at every step."""
    torch.manual_seed(0)
    model = FRAMEWORKS[request.param]()
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    spikes, labels = digits_splits["train"]
    for epoch in range(EPOCHS):
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(epoch))
        for x, y in batches((spikes[:, order], labels[order]), 64):
            out = model(x)
            loss = nn.functional.cross_entropy(out.flatten(0, 1), y.repeat(T))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    return request.param, model


@pytest.mark.slow
def test_spikecut_analyse_on_another_frameworks_model(trained, digits_splits, tmp_path):
    framework, model = trained
    with torch.no_grad():
        recorded = {
            # calibration on the training data, as the paper calibrates
            name: collect(model, batches(digits_splits[split]))
            for name, split in (("cal", "train"), ("val", "val"), ("test", "test"))
        }
        raw_test = model(digits_splits["test"][0])  # [T, N, C], as the framework gives it
    # the adapter's layout is the framework's transposed, nothing else
    np.testing.assert_array_equal(recorded["test"].logits, raw_test.permute(1, 0, 2).numpy())
    assert recorded["test"].fixed_step_accuracy()[-1] > 0.85, "the model did not learn"

    files = {}
    for name, outputs in recorded.items():
        files[name] = tmp_path / f"{framework}_{name}.npz"
        save_outputs(files[name], outputs.logits, outputs.labels)
    assert load_outputs(files["test"]).logits.dtype == np.float32

    command = shutil.which("spikecut", path=str(Path(sys.executable).parent))
    assert command, "the spikecut console script is not installed; run make"
    done = subprocess.run(
        [command, "analyse", files["cal"], files["test"], "--val", files["val"],
         "-o", tmp_path / "cli", "--dataset", "digits", "--method", framework, "-q"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    # the command equals the library on the framework's own tensors
    cutoff = CutoffConfig()
    expected, _ = sweep(
        StepOutputs(raw_test.permute(1, 0, 2), digits_splits["test"][1]),
        recorded["cal"],
        **cutoff.sweep_options(),
    )
    curves = pd.read_csv(tmp_path / "cli" / "cutoff.csv")
    test_rows = curves[curves["split"] == "test"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        test_rows[["policy", "accuracy", "mean_timesteps"]],
        expected[["policy", "accuracy", "mean_timesteps"]],
    )
    direct = analyse_outputs(
        recorded["test"],
        recorded["cal"],
        tmp_path / "direct",
        cutoff,
        SummaryConfig(),
        validation=recorded["val"],
        dataset="digits",
        method=framework,
        progress=False,
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "cli" / "summary.csv"), pd.read_csv(direct["points"])
    )
    summary = pd.read_csv(tmp_path / "cli" / "summary.csv")
    topk = summary[
        (summary["protocol"] == "held-out")
        & (summary["policy"] == "topk")
        & (summary["quantity"] == "mean_timesteps")
    ]
    assert topk["estimate"].item() < T, "Top-K stopped no sample early"
    for png in ("accuracy_vs_timestep", "pareto", "policy_comparison", "exit_histograms"):
        assert (tmp_path / "cli" / "figures" / f"{png}.png").stat().st_size > 10_000
