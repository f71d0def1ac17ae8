"""Stages that analyse recorded per-step outputs: cutoff sweeps, tables and summaries.
None of them imports torch."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spikecut.analysis import RunPoints, headline_markdown, summarise, summary_markdown
from spikecut.analysis.protocols import choose
from spikecut.cutoff import StepOutputs, sweep
from spikecut.cutoff.costs import EnergyModel
from spikecut.cutoff.sweep import cumulative_costs
from spikecut.io import config_id, read_npz, write_csv, write_npz, write_text
from spikecut.stages.common import COMPUTE, LOGIT_SETS, with_run


def load_step_outputs(path: str) -> tuple[dict[str, StepOutputs], dict]:
    """The recorded sets as :class:`StepOutputs`, and the meta; ``meta["compute"]``
    holds the test set's ``macs``, ``sops`` and ``spikes`` arrays."""
    required = tuple(f"{a}_{k}" for a in ("logits", "labels") for k in LOGIT_SETS)
    required += tuple(f"{k}_test" for k in COMPUTE)
    arrays, meta = read_npz(path, required)
    sets = {k: StepOutputs(arrays[f"logits_{k}"], arrays[f"labels_{k}"]) for k in LOGIT_SETS}
    return sets, meta | {"compute": {k: arrays[f"{k}_test"] for k in COMPUTE}}


def sweep_cutoff(logits: str, curve_out: str, exits_out: str, points_out: str, params: dict,
                 max_loss_pp: float) -> None:
    """Every policy's curve for one run on its test and its validation split, the test
    exit histograms, and the operating points of both protocols (held-out: chosen on
    validation; paper: on test) with every test sample's exit step there."""
    sets, meta = load_step_outputs(logits)
    settings = dict(policies=params["policies"],
                    epsilons=[float(e) for e in params["epsilons"]],
                    grid=params.get("grid"), raw=params.get("raw_thresholds", 0),
                    max_set_size=params.get("max_set_size", 1))
    test_curve, exits, per_sample = sweep(
        sets["test"], sets["cal"], **settings, compute=meta["compute"],
        energy=EnergyModel(**params.get("energy", {})), per_sample=True)
    val_curve, _ = sweep(sets["val"], sets["cal"], **settings)
    points = choose(val_curve, test_curve, max_loss_pp)
    chosen = per_sample[points["row"].to_numpy()]
    energy = cumulative_costs(meta["compute"], EnergyModel(**params.get("energy", {})))
    spent = energy["mean_energy_uj"][np.arange(chosen.shape[1]), chosen - 1]
    cid = config_id({"logits": meta["config_id"], "params": params,
                     "max_loss_pp": max_loss_pp})
    curve = pd.concat([test_curve.assign(split="test"), val_curve.assign(split="val")],
                      ignore_index=True)
    curve.insert(0, "n_steps", sets["test"].n_steps)
    write_csv(curve_out, with_run(curve, meta["run"], cid))
    write_csv(exits_out, with_run(exits, meta["run"], cid))
    write_npz(points_out, {"run": meta["run"], "config_id": cid, "max_loss_pp": max_loss_pp,
                           "machine": meta.get("machine", "an unrecorded machine"),
                           "points": points.to_dict(orient="list")},
              exits=chosen, correct=sets["test"].correct, energy_uj=spent.astype(np.float32))


def load_run_points(path: str) -> tuple[RunPoints, dict]:
    """A run's operating points as written by :func:`sweep_cutoff`, and its meta."""
    arrays, meta = read_npz(path, ("exits", "correct", "energy_uj"))
    return RunPoints(arrays["correct"], arrays["exits"], pd.DataFrame(meta["points"]),
                     arrays["energy_uj"]), meta


def concat_csv(inputs: list[str], output: str) -> None:
    """Stack CSVs with identical columns, passing every value through as written."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in inputs]
    write_csv(output, pd.concat(frames, ignore_index=True))


def summarise_runs(points: list[str], curves: str, outputs: dict[str, str],
                   max_loss_pp: float, config: dict, n_boot: int = 2000,
                   bootstrap_seed: int = 0, early_exit: str | None = None) -> None:
    """Intervals for every quantity of every data set and method, from the runs'
    operating points: ``outputs`` names the files ``points`` (summary.csv), ``effects``,
    ``fixed``, ``per_run``, ``markdown`` and ``headline``."""
    runs, machines = {}, set()
    for path in points:
        run_points, meta = load_run_points(path)
        run = meta["run"]
        runs[run["dataset"], run["method"], run["alpha"], int(run["seed"])] = run_points
        machines.add(meta.get("machine", "an unrecorded machine"))
    summary = summarise(runs, max_loss_pp, n_boot, bootstrap_seed)
    machines = sorted(machines)
    energy = pd.read_csv(curves, dtype={"alpha": str})
    per_run = summary.per_run.merge(
        energy[energy["split"] == "test"], how="left",
        on=["dataset", "method", "alpha", "seed", "policy", "parameter", "value"],
        suffixes=("", "_curve"))
    timings = pd.read_csv(early_exit, dtype={"alpha": str}) if early_exit else None
    write_csv(outputs["points"], summary.points)
    write_csv(outputs["effects"], summary.effects)
    write_csv(outputs["fixed"], summary.fixed)
    write_csv(outputs["per_run"], per_run[[c for c in per_run
                                           if not c.endswith("_curve") and c != "split"]])
    write_text(outputs["markdown"],
               summary_markdown(summary, max_loss_pp, config, machines, timings))
    write_text(outputs["headline"], headline_markdown(summary, max_loss_pp, machines))
