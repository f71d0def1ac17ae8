"""A run that ends no better than guessing: found by its documented bounds, failing with
the fix, or kept and named in the summary and the headline."""

import json
import math

import pandas as pd
import pytest
import yaml
from conftest import DATA, RECORD, RUN, SWEEP, TINY, TRAIN, train_into, with_training

from spikecut import stages
from spikecut.settings import Settings, TrainPlan
from spikecut.stages.network import DivergedError
from spikecut.training.divergence import CHANCE_EPOCHS, divergence
from tests.test_stages import SUMMARY, summary_outputs


def metrics(val, loss):
    return pd.DataFrame({"val_accuracy": val, "task_loss": loss})


def test_the_bounds():
    healthy = metrics([0.4, 0.7, 0.9], [2.0, 1.0, 0.5])
    assert divergence(healthy, 10, 300) is None
    # never above chance: 10 classes, 400 validation samples, 3 SE = 4.5 pp
    flat = metrics([0.09, 0.11, 0.14], [2.3, 2.3, 2.3])
    why = divergence(flat, 10, 400)
    assert why.startswith("its validation accuracy never rose above chance: at best 14.0%")
    assert divergence(metrics([0.09, 0.11, 0.15], [2.3] * 3), 10, 400) is None  # just above
    # too few epochs to tell a slow start from a failure
    assert divergence(flat.iloc[: CHANCE_EPOCHS - 1], 10, 400) is None
    # a loss past ten times that of guessing, finite or not
    bound = 10 * math.log(10)
    assert divergence(metrics([0.5], [bound * 1.01]), 10, 400).startswith(
        "its training loss ended at 23.26, above 23"
    )
    assert divergence(metrics([0.5], [bound * 0.99]), 10, 400) is None
    assert divergence(metrics([0.5], [float("nan")]), 10, 400) is not None


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    stages.prepare_dataset(folder / "f.npz", folder / "p.json", "digits", DATA)
    return folder / "f.npz"


def train(frames, folder, fail):
    # SGD at this rate: finite losses, a useless model
    train_into(frames, folder, RUN, with_training(TRAIN, lr=1e9, epochs=3, fail_on_divergence=fail))


def test_a_diverged_run_fails_with_the_fix(frames, tmp_path):
    with pytest.raises(DivergedError) as err:
        train(frames, tmp_path, fail=True)
    message = str(err.value)
    assert message.startswith("run digits/bptt/alpha0.05/seed0 diverged: its ")
    assert "Lower training.lr (1000000000.0) or alpha" in message
    assert "training.fail_on_divergence: false" in message
    assert not (tmp_path / "model.pt").exists()


def test_a_kept_diverged_run_is_flagged_in_its_metrics_and_the_summary(frames, tmp_path):
    train(frames, tmp_path, fail=False)
    assert pd.read_csv(tmp_path / "metrics.csv")["diverged"].all()
    saved = json.loads((tmp_path / "settings.json").read_text())
    why = saved["diverged"]
    assert why.startswith(("its training loss ended at", "its validation accuracy never"))
    stages.record(tmp_path / "model.pt", frames, tmp_path / "logits.npz", RECORD, batch_size=64)
    stages.sweep_cutoff(
        tmp_path / "logits.npz", tmp_path / "c.csv", tmp_path / "e.csv", tmp_path / "s.npz", SWEEP
    )
    (tmp_path / "summary").mkdir()
    outputs = summary_outputs(tmp_path / "summary")
    stages.summarise_runs([tmp_path / "s.npz"], outputs, SUMMARY, [tmp_path / "settings.json"])
    for name in ("markdown", "headline"):
        text = outputs[name].read_text()
        assert "**Diverged runs.**" in text, name
        assert f"- digits bptt, α = 0.05, seed 0: {why}" in text, name


def test_whether_it_fails_is_no_part_of_the_runs_identity(frames, tmp_path, caplog):
    """A run stopped as diverged, kept on the next try, resumes at its last epoch."""
    resume = tmp_path / "resume.pt"
    plan = with_training(TRAIN, lr=1e9, epochs=3)
    args = (frames, tmp_path / "m.pt", tmp_path / "m.csv", tmp_path / "s.json", RUN)
    with pytest.raises(DivergedError):
        stages.train(*args, plan, progress=False, resume=str(resume))
    kept = with_training(plan, fail_on_divergence=False)
    with caplog.at_level("INFO", logger="spikecut.training.loop"):
        stages.train(*args, kept, progress=False, resume=str(resume))
    assert "after epoch 3 of 3" in caplog.text  # nothing trained again
    assert len(pd.read_csv(tmp_path / "m.csv")) == 3
    assert (
        "fail_on_divergence"
        not in json.loads((tmp_path / "s.json").read_text())["train"]["training"]
    )


def test_the_config_setting_reaches_the_job_but_not_its_parameters():
    """Snakemake reruns a job whose parameters change; this setting must rerun nothing,
    so it travels beside them, from the config the job reads."""
    cfg = yaml.safe_load(TINY.read_text())
    cfg.setdefault("training", {})["fail_on_divergence"] = False
    settings = Settings.load(cfg)
    params = settings.train_params("digits-dvs", "bptt")
    default = Settings.load(yaml.safe_load(TINY.read_text()))
    assert params == default.train_params("digits-dvs", "bptt")
    plan = settings.with_job_options(TrainPlan.model_validate(params), "digits-dvs", "bptt")
    assert plan.training.fail_on_divergence is False
