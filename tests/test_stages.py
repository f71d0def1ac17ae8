"""The workflow's stage functions chained by hand, without Snakemake."""

import os

import numpy as np
import pandas as pd
import pytest

from spikecut import stages
from spikecut.io import read_npz, write_npz

RUN = {"dataset": "digits", "method": "bptt", "alpha": "0.05", "seed": 0}
TRAIN = {
    "method": "bptt",
    "model": {"name": "convsnn", "channels": [4]},
    "neuron": {"kind": "lif", "tau": 2.0, "decay_input": False, "v_threshold": 1.0,
               "v_reset": 0.0, "surrogate": "triangle", "surrogate_width": 1.0,
               "detach_reset": False, "backend": "auto"},
    "training": {"epochs": 2, "batch_size": 32, "optimizer": "sgd", "lr": 0.05,
                 "momentum": 0.9, "weight_decay": 0.0, "loss": "mean", "tet_lambda": 0.001},
    "rcs": {"aggregation": "max", "tail_fraction": 0.3},
    "device": "cpu",
}


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    d = tmp_path_factory.mktemp("stages")
    data_params = {"T": 3, "seed": 0, "test_fraction": 0.25, "val_fraction": 0.2,
                   "limit": 150, "options": {}}
    stages.prepare_dataset(d / "frames.npz", d / "params.json", "digits", data_params)
    stages.train(d / "frames.npz", d / "model.pt", d / "metrics.csv", RUN, TRAIN,
                 progress=False)
    stages.record(d / "model.pt", d / "frames.npz", d / "logits.npz",
                  {"calibration_dropout": 0.3, "dropout_seed": 0, "batch_size": 64})
    stages.sweep_cutoff(d / "logits.npz", d / "cutoff.csv", d / "exits.csv", d / "points.npz",
                        SWEEP, max_loss_pp=0.5)
    return d


SWEEP = {"policies": ["timestep", "topk", "oct"], "epsilons": ["0.0", "0.1"], "grid": None}


def test_every_stage_writes_its_outputs(chain):
    metrics = pd.read_csv(chain / "metrics.csv")
    assert metrics["epoch"].tolist() == [1, 2]
    assert (metrics[["dataset", "alpha", "seed"]].iloc[0] == ["digits", 0.05, 0]).all()
    sets, meta = stages.load_step_outputs(chain / "logits.npz")
    assert meta["run"] == RUN and meta["config_id"]
    n = {k: len(v.labels) for k, v in sets.items()}
    assert n["test"] + n["val"] + n["cal"] == 150
    assert sets["test"].logits.shape[1:] == (3, 10)
    curve = pd.read_csv(chain / "cutoff.csv")
    one_split = ["timestep"] * 3 + ["topk"] * 2 + ["oct"]
    assert curve["policy"].tolist() == one_split * 2
    assert curve["split"].tolist() == ["test"] * 6 + ["val"] * 6
    assert (curve["n_steps"] == 3).all() and curve["config_id"].nunique() == 1
    points, meta = stages.load_run_points(chain / "points.npz")
    assert points.exits.shape == (6, n["test"]) and points.correct.shape == (n["test"], 3)
    assert sorted(set(points.points["protocol"])) == ["held-out", "paper"]
    assert meta["run"] == RUN and meta["machine"].startswith(f"{os.cpu_count()}-core")
    exits = pd.read_csv(chain / "exits.csv")
    assert exits.groupby(["policy", "value"], dropna=False)["count"].sum().eq(n["test"]).all()
    assert sorted(p.name for p in chain.iterdir() if p.name.startswith(".")) == []


def test_recording_is_reproducible(chain, tmp_path):
    params = {"calibration_dropout": 0.3, "dropout_seed": 0, "batch_size": 64}
    stages.record(chain / "model.pt", chain / "frames.npz", tmp_path / "again.npz", params)
    first, _ = stages.load_step_outputs(chain / "logits.npz")
    second, _ = stages.load_step_outputs(tmp_path / "again.npz")
    assert all(np.array_equal(first[k].logits, second[k].logits) for k in first)


SUMMARY_OUTPUTS = ("points", "effects", "fixed", "per_run", "markdown", "headline")


def summary_outputs(folder):
    return {name: folder / f"{name}.{'md' if name in ('markdown', 'headline') else 'csv'}"
            for name in SUMMARY_OUTPUTS}


def two_alphas(chain, folder):
    """The chain's run as alpha 0.05 and, relabelled, as its own alpha = 0 baseline."""
    points = [chain / "points.npz", folder / "base.npz"]
    arrays, meta = read_npz(chain / "points.npz", ("exits", "correct", "energy_uj"))
    write_npz(points[1], meta | {"run": meta["run"] | {"alpha": "0"}}, **arrays)
    curve = pd.read_csv(chain / "cutoff.csv", dtype={"alpha": str})
    pd.concat([curve.assign(alpha="0"), curve]).to_csv(folder / "curves.csv", index=False)
    return points


def test_summary_stage(chain, tmp_path):
    outputs = summary_outputs(tmp_path)
    stages.summarise_runs(two_alphas(chain, tmp_path), tmp_path / "curves.csv", outputs, 0.5,
                          {"seeds": [0]}, n_boot=200)
    assert "## digits (bptt)" in outputs["markdown"].read_text()
    assert "| digits, bptt | 3 |" in outputs["headline"].read_text()
    per_run = pd.read_csv(outputs["per_run"])
    assert len(per_run) == 2 * 2 * 3  # alphas x protocols x policies
    assert per_run["mean_energy_uj"].notna().all()  # the curve's compute, joined
    effects = pd.read_csv(outputs["effects"])
    assert (effects["estimate"] == 0).all()  # the same run against itself


def test_held_out_protocol_never_reads_the_test_labels(chain, tmp_path):
    """Poisoned test labels change the test curve, hence the paper protocol's points,
    but not the knobs the held-out protocol chose on validation."""
    arrays, meta = read_npz(chain / "logits.npz", ())
    poisoned = dict(arrays)
    rng = np.random.default_rng(0)
    poisoned["labels_test"] = rng.permutation(arrays["labels_test"] + 1) % 10
    write_npz(tmp_path / "poisoned.npz", meta, **poisoned)
    stages.sweep_cutoff(tmp_path / "poisoned.npz", tmp_path / "c.csv", tmp_path / "e.csv",
                        tmp_path / "p.npz", SWEEP, max_loss_pp=0.5)
    clean, _ = stages.load_run_points(chain / "points.npz")
    dirty, _ = stages.load_run_points(tmp_path / "p.npz")
    knobs = ["policy", "parameter", "value"]
    held = [p.points[p.points["protocol"] == "held-out"][knobs].reset_index(drop=True)
            for p in (clean, dirty)]
    pd.testing.assert_frame_equal(*held)
    assert not np.array_equal(clean.correct, dirty.correct)


def test_corrupt_inputs_fail_clearly(chain, tmp_path):
    broken = tmp_path / "logits.npz"
    broken.write_bytes((chain / "logits.npz").read_bytes()[:500])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        stages.sweep_cutoff(broken, tmp_path / "c.csv", tmp_path / "e.csv",
                            tmp_path / "p.npz", SWEEP, max_loss_pp=0.5)
    assert not (tmp_path / "c.csv").exists()
    model = tmp_path / "model.pt"
    model.write_bytes((chain / "model.pt").read_bytes()[:300])
    with pytest.raises(ValueError, match="checkpoint .* corrupt"):
        stages.record(model, chain / "frames.npz", tmp_path / "l.npz",
                      {"calibration_dropout": 0.3, "dropout_seed": 0, "batch_size": 64})


def test_conversion_track(chain, tmp_path):
    run = RUN | {"method": "qcfs", "alpha": "0"}
    params = {k: v for k, v in TRAIN.items() if k != "neuron"}
    params |= {"method": "qcfs", "qcfs": {"levels": 4, "theta_init": 4.0, "T": 6}}
    stages.train(chain / "frames.npz", tmp_path / "model.pt", tmp_path / "metrics.csv", run,
                 params, progress=False)
    stages.record(tmp_path / "model.pt", chain / "frames.npz", tmp_path / "logits.npz",
                  {"calibration_dropout": 0.3, "dropout_seed": 0, "batch_size": 64})
    sets, meta = stages.load_step_outputs(tmp_path / "logits.npz")
    assert meta["snn"] == {"converted_layers": 1, "n_steps": 6}
    assert sets["test"].logits.shape[1:] == (6, 10)


def test_record_runs_the_policies_for_real(chain, tmp_path):
    stages.record(chain / "model.pt", chain / "frames.npz", tmp_path / "l.npz",
                  {"calibration_dropout": 0.3, "dropout_seed": 0, "batch_size": 16},
                  early_exit_out=tmp_path / "early.csv",
                  early_exit={"policies": ["topk", "spikecp"], "epsilon": "0.5"})
    table = pd.read_csv(tmp_path / "early.csv")
    assert table["policy"].tolist() == ["topk", "spikecp"]
    assert table["matches_simulation"].all()
    assert (table["wall_full_T_s"] > 0).all() and (table["mean_timesteps"] <= 3).all()
    sets, meta = stages.load_step_outputs(tmp_path / "l.npz")
    assert meta["compute"]["sops"].shape == (len(sets["test"].labels), 3)
    assert (table["config_id"] == meta["config_id"]).all()


def test_analysis_jobs_do_not_import_torch():
    """Sweeps, tables and figures start in a fraction of a second: no torch."""
    import subprocess
    import sys

    code = ("import sys; from spikecut.stages import sweep_cutoff, concat_csv, "
            "summarise_runs; import spikecut.plots; assert 'torch' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
