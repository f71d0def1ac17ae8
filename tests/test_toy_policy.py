"""A new exit policy is its class and one registry record: a toy policy with one option,
defined and registered here alone, reaches the config's validation, the sweep, the live
early exit, the figures and the command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import random_logits
from pydantic import Field, PositiveFloat
from spikingjelly.activation_based import layer, neuron
from torch import nn

from spikecut.cli import build_parser, main
from spikecut.cutoff import POLICIES, StepOutputs, sweep
from spikecut.cutoff.policies import (
    OperatingPoint,
    Policy,
    PolicyOptions,
    PolicyRecord,
    register,
)
from spikecut.cutoff.steps import first_firing_step
from spikecut.inference.early_exit import measure_early_exit
from spikecut.inference.run import per_step_logits
from spikecut.plots import plot_policy_comparison
from spikecut.settings import ConfigError, Settings
from tests.test_config import DEFAULT, set_key


class GrowingGapOptions(PolicyOptions):
    slope: PositiveFloat = Field(1.0, description="the gap needed grows by this much a step")


class GrowingGap(Policy):
    """Stop once the top-2 gap of Y(t) exceeds slope × t: no calibration, one point."""

    name = "growing-gap"
    Options = GrowingGapOptions

    def fires(self, accumulated: np.ndarray, t: np.ndarray | int) -> np.ndarray:
        top = np.sort(accumulated, axis=-1)
        return top[..., -1] - top[..., -2] > self.options.slope * t

    def operating_points(self, test, calibration, epsilons, raw=0):
        steps = np.arange(1, test.n_steps + 1)
        exits = first_firing_step(self.fires(test.accumulated, steps))
        yield OperatingPoint(self.name, "slope", self.options.slope, exits)

    def stopping_rule(self, calibration, knob):
        return self.fires


def brute_force_exits(logits: np.ndarray, slope: float) -> list[int]:
    exits = []
    for sample in logits.astype(np.float64):
        total, stop = np.zeros(sample.shape[1]), sample.shape[0]
        for t, out in enumerate(sample, start=1):
            total += out
            first, second = sorted(total)[-1], sorted(total)[-2]
            if first - second > slope * t:
                stop = t
                break
        exits.append(stop)
    return exits


LABEL = "growing gap (toy)"


@pytest.fixture
def registered(monkeypatch):
    record = PolicyRecord(GrowingGap, LABEL, style={"linestyle": "-", "marker": "x"})
    monkeypatch.setitem(POLICIES, GrowingGap.name, record)
    return record


def test_the_config_accepts_it_with_its_option_and_checks_the_option(registered):
    cfg = yaml.safe_load(DEFAULT.read_text())
    set_key(cfg, "cutoff.policies", ["timestep", "topk", "growing-gap"])
    set_key(cfg, "cutoff.options", {"growing-gap": {"slope": 0.5}})
    set_key(cfg, "early_exit.policies", ["topk", "growing-gap"])
    settings = Settings.load(cfg)
    assert settings.cutoff.sweep_options()["policies"]["growing-gap"].slope == 0.5
    plan = settings.early_exit_params("digits-dvs", "bptt")
    assert plan["policies"]["growing-gap"] == {"slope": 0.5}
    set_key(cfg, "cutoff.options", {"growing-gap": {"slope": -1}})
    with pytest.raises(ConfigError, match=r"cutoff.options: growing-gap.slope: must be more"):
        Settings.load(cfg)


def test_the_config_refuses_it_once_it_is_gone():
    cfg = set_key(yaml.safe_load(DEFAULT.read_text()), "cutoff.options", {"growing-gap": {}})
    with pytest.raises(ConfigError, match=r"unknown policies \['growing-gap'\]"):
        Settings.load(cfg)


def test_the_sweep_runs_it_with_its_option(registered, rng):
    test = StepOutputs(*random_logits(rng, n=60, n_steps=5))
    cal = StepOutputs(*random_logits(rng, n=80, n_steps=5))
    policies = {"timestep": None, "growing-gap": {"slope": 0.3}}
    curve, exits = sweep(test, cal, policies, [0.05])
    (row,) = curve[curve["policy"] == "growing-gap"].itertuples()
    want = brute_force_exits(test.logits, 0.3)
    assert (row.parameter, row.value) == ("slope", 0.3)
    assert row.mean_timesteps == pytest.approx(np.mean(want))
    hist = exits[exits["policy"] == "growing-gap"]
    assert hist["count"].tolist() == np.bincount(want, minlength=6)[1:].tolist()


def test_it_stops_a_running_network_where_the_sweep_says(registered):
    torch.manual_seed(0)
    snn = nn.Sequential(
        layer.Linear(6, 16), neuron.IFNode(step_mode="m"), layer.Linear(16, 4)
    ).eval()
    x = np.random.default_rng(0).normal(size=(40, 5, 6)).astype(np.float32)  # [N, T, F]

    def encode(batch):
        return torch.from_numpy(batch).transpose(0, 1)  # [T, B, F]

    logits = per_step_logits(snn, x, encode, 16, torch.device("cpu")).numpy()
    test = StepOutputs(logits, np.arange(40) % 4)
    table = measure_early_exit(
        snn, x, encode, test, test, {"growing-gap": {"slope": 0.2}}, 0.0, 16, torch.device("cpu")
    )
    (row,) = table.itertuples()
    assert row.policy == "growing-gap" and row.matches_simulation
    assert row.mean_timesteps == pytest.approx(np.mean(brute_force_exits(logits, 0.2)))
    assert row.mean_timesteps < 5  # it does stop some samples early


def test_the_figures_draw_it_with_its_label(registered, rng, tmp_path, monkeypatch):
    cal = StepOutputs(*random_logits(rng, n=80, n_steps=5))
    rows = []
    for seed in (0, 1):
        test = StepOutputs(*random_logits(rng, n=60, n_steps=5))
        curve, _ = sweep(test, cal, ["timestep", "topk", "growing-gap"], [0.05])
        run = dict(dataset="digits", method="bptt", alpha="0", seed=seed, split="test")
        rows.append(curve.assign(**run))
    labels = []

    def capture(fig, path, source):
        labels.extend(line.get_label() for ax in fig.axes for line in ax.get_lines())

    monkeypatch.setattr("spikecut.plots.policy_comparison.save", capture)
    no_points = pd.DataFrame(columns=["protocol", "quantity"])
    plot_policy_comparison(pd.concat(rows), no_points, str(tmp_path / "p.png"))
    assert LABEL in labels


def test_the_command_line_offers_its_option_and_passes_it_on(registered, rng, tmp_path, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["analyse", "--help"])
    assert "--growing-gap-slope SLOPE" in capsys.readouterr().out
    for name, n in (("cal", 200), ("test", 150)):
        logits, labels = random_logits(rng, n=n, n_steps=5)
        np.savez(tmp_path / f"{name}.npz", logits=logits, labels=labels)
    out = tmp_path / "out"
    args = ["analyse", str(tmp_path / "cal.npz"), str(tmp_path / "test.npz"), "-o", str(out)]
    args += ["--policies", "growing-gap", "-q", "--bootstrap", "100"]
    assert main([*args, "--growing-gap-slope", "0.4"]) == 0
    curve = pd.read_csv(out / "cutoff.csv")
    (value,) = curve.loc[curve["policy"] == "growing-gap", "value"]
    assert value == pytest.approx(0.4)
    assert main([*args, "--growing-gap-slope", "0"]) == 2
    assert "--growing-gap-slope: must be more than 0" in capsys.readouterr().err


def test_a_name_is_registered_once(registered):
    with pytest.raises(ValueError, match="'growing-gap' is registered already"):
        register(registered)
