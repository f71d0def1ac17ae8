"""The workflow's stage functions chained by hand, without Snakemake."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, RECORD, RUN, SWEEP, TRAIN, train_into

from spikecut import stages
from spikecut.io import read_npz, write_npz
from spikecut.settings import EarlyExitPlan, QCFSNet, RecordPlan, SummaryConfig

SUMMARY = SummaryConfig(histogram_epsilon="0", bootstrap={"replicates": 200})
SUMMARY_OUTPUTS = ("points", "effects", "gaps", "fixed", "per_run", "markdown", "headline")


def summary_outputs(folder):
    return {
        name: folder / f"{name}.{'md' if name in ('markdown', 'headline') else 'csv'}"
        for name in SUMMARY_OUTPUTS
    }


def test_every_stage_writes_its_outputs(chain):
    metrics = pd.read_csv(chain / "metrics.csv")
    assert metrics["epoch"].tolist() == [1, 2]
    assert (metrics[["dataset", "alpha", "seed"]].iloc[0] == ["digits", 0.05, 0]).all()
    saved = json.loads((chain / "settings.json").read_text())
    assert saved["run"] == RUN and saved["train"]["training"]["epochs"] == 2
    assert saved["device"] == "cpu"  # where it ran, as the job found it
    sets, meta = stages.load_step_outputs(chain / "logits.npz")
    assert meta["run"] == RUN and meta["config_id"]
    assert meta["plan"] == RECORD.model_dump()
    n = {k: len(v.labels) for k, v in sets.items()}
    assert n["test"] + n["val"] + n["cal"] == DATA.limit
    assert sets["test"].logits.shape[1:] == (3, 10)
    curve = pd.read_csv(chain / "cutoff.csv")
    one_split = ["timestep"] * 3 + ["topk"] * 2 + ["oct"]
    assert curve["policy"].tolist() == one_split * 2
    assert curve["split"].tolist() == ["test"] * 6 + ["val"] * 6
    assert (curve["n_steps"] == 3).all() and curve["config_id"].nunique() == 1
    sweep, meta = stages.load_run_sweep(chain / "sweep.npz")
    assert sweep.test.exits.shape == (6, n["test"]) and sweep.test.correct.shape == (n["test"], 3)
    assert sweep.val.exits.shape == (6, n["val"]) and sweep.val.correct.shape == (n["val"], 3)
    # the kept samples give the curves of the CSV
    for split, kept in (("test", sweep.test), ("val", sweep.val)):
        written = curve[curve["split"] == split].reset_index(drop=True)
        np.testing.assert_allclose(kept.curve["accuracy"], written["accuracy"])
        np.testing.assert_allclose(kept.curve["mean_timesteps"], written["mean_timesteps"])
    assert meta["run"] == RUN and meta["machine"].startswith(f"{os.cpu_count()}-core")
    exits = pd.read_csv(chain / "exits.csv")
    assert exits.groupby(["policy", "value"], dropna=False)["count"].sum().eq(n["test"]).all()
    assert sorted(p.name for p in chain.iterdir() if p.name.startswith(".")) == []


def test_recording_is_reproducible(chain, tmp_path):
    stages.record(
        chain / "model.pt", chain / "frames.npz", tmp_path / "again.npz", RECORD, batch_size=17
    )  # another batch size: speed only
    first, _ = stages.load_step_outputs(chain / "logits.npz")
    second, _ = stages.load_step_outputs(tmp_path / "again.npz")
    assert all(np.array_equal(first[k].logits, second[k].logits) for k in first)


def relabelled(chain, folder, alpha="0", poison=False):
    """The chain's sweep as the run of another alpha, its test labels poisoned on
    request (recorded again with them and swept again)."""
    logits = chain / "logits.npz"
    if poison:
        arrays, meta = read_npz(logits, ())
        rng = np.random.default_rng(0)
        arrays["labels_test"] = rng.permutation((arrays["labels_test"] + 1) % 10)
        logits = folder / "poisoned.npz"
        write_npz(logits, meta, **arrays)
    out = folder / f"sweep-{alpha}-{poison}.npz"
    stages.sweep_cutoff(logits, folder / "c.csv", folder / "e.csv", out, SWEEP)
    arrays, meta = read_npz(out, ())
    write_npz(out, meta | {"run": meta["run"] | {"alpha": alpha}}, **arrays)
    return out


def test_summary_stage(chain, tmp_path):
    outputs = summary_outputs(tmp_path)
    sweeps = [chain / "sweep.npz", relabelled(chain, tmp_path)]
    stages.summarise_runs(sweeps, outputs, SUMMARY, [chain / "settings.json"])
    assert "## digits (bptt)" in outputs["markdown"].read_text()
    assert "| digits, bptt | 3 |" in outputs["headline"].read_text()
    assert "  digits bptt:\n" in outputs["markdown"].read_text()  # its training settings
    per_run = pd.read_csv(outputs["per_run"])
    assert len(per_run) == 2 * 2 * 3  # alphas x protocols x policies
    assert per_run["mean_energy_uj"].notna().all()
    effects = pd.read_csv(outputs["effects"])
    assert (effects["estimate"] == 0).all()  # the same run against itself


def test_held_out_protocol_never_reads_the_test_labels(chain, tmp_path):
    """Poisoned test labels change the test curve, and so the paper protocol's points,
    but not the knobs the held-out protocol chose on validation; and through the summary
    the held-out points stay where they were."""
    clean, _ = stages.load_run_sweep(chain / "sweep.npz")
    dirty, _ = stages.load_run_sweep(relabelled(chain, tmp_path, "0.05", poison=True))
    knobs = ["policy", "parameter", "value"]

    def chosen(sweep, protocol):
        points = sweep.operating_points(0.5)
        return points[points["protocol"] == protocol][knobs].reset_index(drop=True)

    pd.testing.assert_frame_equal(chosen(clean, "held-out"), chosen(dirty, "held-out"))
    assert not chosen(clean, "paper").equals(chosen(dirty, "paper"))
    tables = []
    for sweep in (chain / "sweep.npz", relabelled(chain, tmp_path, "0.05", poison=True)):
        outputs = summary_outputs(tmp_path / sweep.stem)
        outputs["points"].parent.mkdir(exist_ok=True)
        stages.summarise_runs([sweep], outputs, SUMMARY)
        per_run = pd.read_csv(outputs["per_run"])
        tables.append(per_run[per_run["protocol"] == "held-out"][knobs])
    pd.testing.assert_frame_equal(*tables)


def test_corrupt_inputs_fail_clearly(chain, tmp_path):
    broken = tmp_path / "logits.npz"
    broken.write_bytes((chain / "logits.npz").read_bytes()[:500])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        stages.sweep_cutoff(
            broken, tmp_path / "c.csv", tmp_path / "e.csv", tmp_path / "s.npz", SWEEP
        )
    assert not (tmp_path / "c.csv").exists()
    model = tmp_path / "model.pt"
    model.write_bytes((chain / "model.pt").read_bytes()[:300])
    with pytest.raises(ValueError, match="checkpoint .* corrupt"):
        stages.record(model, chain / "frames.npz", tmp_path / "l.npz", RECORD)


def test_conversion_track(chain, tmp_path):
    run = RUN | {"method": "qcfs", "alpha": "0"}
    plan = TRAIN.model_copy(
        update={"method": "qcfs", "neuron": None, "qcfs": QCFSNet(levels=4, theta_init=4.0)}
    )
    train_into(chain / "frames.npz", tmp_path, run, plan)
    record = RecordPlan(
        method="qcfs", static_steps=6, calibration_dropout=0.3, dropout_seed=0, device="cpu"
    )
    stages.record(tmp_path / "model.pt", chain / "frames.npz", tmp_path / "logits.npz", record)
    sets, meta = stages.load_step_outputs(tmp_path / "logits.npz")
    assert meta["snn"] == {"converted_layers": 1, "n_steps": 6}
    assert sets["test"].logits.shape[1:] == (6, 10)


def test_early_exit_stage_runs_the_policies_for_real(chain, tmp_path):
    def live(plan, name):
        files = [chain / f for f in ("model.pt", "frames.npz", "logits.npz")]
        stages.early_exit(*files, tmp_path / name, plan, batch_size=16)
        return pd.read_csv(tmp_path / name)

    plan = EarlyExitPlan(policies={"topk": {}, "spikecp": {}}, epsilon="0.5", device="cpu")
    table = live(plan, "early.csv")
    assert table["policy"].tolist() == ["topk", "spikecp"]
    assert table["matches_simulation"].all()
    assert (table["wall_full_T_s"] > 0).all() and (table["mean_timesteps"] <= 3).all()
    sets, meta = stages.load_step_outputs(chain / "logits.npz")
    assert meta["compute"]["sops"].shape == (len(sets["test"].labels), 3)
    assert (table["config_id"] == meta["config_id"]).all()
    assert (table["samples"] == len(sets["test"].labels)).all()

    # a subset, evenly spaced through the test split: its exits still match the sweep's
    table = live(plan.model_copy(update={"samples": 7}), "subset.csv")
    assert (table["samples"] == 7).all() and table["matches_simulation"].all()


def test_recording_consumes_the_training_checkpoint(chain, tmp_path):
    resume = tmp_path / "resume.pt"
    resume.write_bytes(b"the final state of a finished run")
    stages.record(
        chain / "model.pt", chain / "frames.npz", tmp_path / "l.npz", RECORD, resume=resume
    )
    assert not resume.exists()


def test_analysis_jobs_do_not_import_torch():
    """Sweeps, tables and figures start in a fraction of a second: no torch."""
    code = (
        "import sys; from spikecut.stages import sweep_cutoff, concat_csv, "
        "summarise_runs; import spikecut.plots; assert 'torch' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_network_jobs_do_not_import_torchvision():
    """Training, recording and early exits augment on the device: torchvision, which
    takes about a second to import, stays out of every torch job."""
    code = "import sys, spikecut.stages.network; assert 'torchvision' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
