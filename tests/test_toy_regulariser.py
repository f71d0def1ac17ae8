"""A new regulariser is its settings model, its forms and one registry record: a toy
one, defined and registered here alone, is chosen by the config, trains a run for an
epoch, and the metrics and the summary name it."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
import yaml
from conftest import DATA, RECORD, RUN, SWEEP, TRAIN, train_into, with_training
from pydantic import Field, PositiveFloat

from spikecut import stages
from spikecut.regularisers import (
    REGULARISERS,
    Form,
    RegulariserRecord,
    RegulariserSettings,
    register,
)
from spikecut.settings import ConfigError, Settings, TrainPlan
from tests.test_config import DEFAULT, set_key
from tests.test_stages import SUMMARY, summary_outputs


class LoudOutputSettings(RegulariserSettings):
    scale: PositiveFloat = Field(1.0, description="the penalty per unit of mean |o(t)|")


class LoudOutput:
    """scale × the mean absolute per-step output: a penalty on loud output layers."""

    def __init__(self, scale: float):
        self.scale = scale

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def value(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.scale * logits.float().abs().mean()


def _loud(model, settings: LoudOutputSettings, plan) -> LoudOutput:
    return LoudOutput(settings.scale)


RECORD_ = RegulariserRecord(
    "loud-output", "loud-output penalty", LoudOutputSettings, {"snn": Form(_loud)}
)


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(REGULARISERS, RECORD_.name, RECORD_)
    return RECORD_


def test_the_config_chooses_it_and_checks_its_settings(registered):
    cfg = yaml.safe_load(DEFAULT.read_text())
    cfg["datasets"] = {"digits-dvs": cfg["datasets"]["digits-dvs"]}  # bptt only
    set_key(cfg, "training.regulariser", "loud-output")
    set_key(cfg, "regularisers", {"loud-output": {"scale": 0.5}})
    settings = Settings.load(cfg)
    assert settings.regulariser is registered
    plan = settings.train_params("digits-dvs", "bptt")
    assert plan["regulariser"] == {"scale": 0.5}
    assert plan["training"]["regulariser"] == "loud-output"
    set_key(cfg, "regularisers", {"loud-output": {"scale": 0}})
    with pytest.raises(ConfigError, match="regularisers: loud-output.scale: must be more"):
        Settings.load(cfg)


def test_a_method_it_has_no_form_for_is_refused(registered):
    cfg = set_key(yaml.safe_load(DEFAULT.read_text()), "training.regulariser", "loud-output")
    with pytest.raises(
        ConfigError, match="loud-output penalty regulariser has no ANN form, which qcfs"
    ):
        Settings.load(cfg)


def test_it_trains_a_run_and_the_metrics_and_summary_name_it(registered, tmp_path):
    stages.prepare_dataset(tmp_path / "frames.npz", tmp_path / "params.json", "digits", DATA)
    dump = with_training(TRAIN, epochs=1, regulariser="loud-output").model_dump()
    plan = TrainPlan.model_validate(dump | {"regulariser": {"scale": 0.5}})
    train_into(tmp_path / "frames.npz", tmp_path, RUN, plan)
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert "loud-output" in metrics and "rcs" not in metrics
    (row,) = metrics.to_dict(orient="records")
    assert row["loud-output"] > 0
    # the loss it trained on: the task loss plus alpha times the penalty
    expected = row["task_loss"] + float(RUN["alpha"]) * row["loud-output"]
    assert row["loss"] == pytest.approx(expected, rel=1e-6)
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["train"]["regulariser"] == {"scale": 0.5}

    stages.record(
        tmp_path / "model.pt", tmp_path / "frames.npz", tmp_path / "logits.npz", RECORD, 64
    )
    stages.sweep_cutoff(
        tmp_path / "logits.npz", tmp_path / "c.csv", tmp_path / "e.csv", tmp_path / "s.npz", SWEEP
    )
    outputs = summary_outputs(tmp_path)
    stages.summarise_runs([tmp_path / "s.npz"], outputs, SUMMARY, [tmp_path / "settings.json"])
    headline = outputs["headline"].read_text()
    assert "loud-output penalty + topk" in headline and "RCS" not in headline


def test_a_name_is_registered_once(registered):
    with pytest.raises(ValueError, match="'loud-output' is registered already"):
        register(registered)
