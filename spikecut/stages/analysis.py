"""Stages that analyse recorded per-step outputs: cutoff sweeps, tables and summaries.
None of them imports torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from spikecut.analysis import headline_markdown, summarise, summary_markdown
from spikecut.analysis.evidence import RunSweep, Split
from spikecut.cutoff import StepOutputs, sweep
from spikecut.cutoff.sweep import cumulative_costs
from spikecut.io import config_id, read_npz, write_csv, write_npz, write_text
from spikecut.regularisers import REGULARISERS
from spikecut.settings import CutoffConfig, SummaryPlan
from spikecut.stages.common import COMPUTE, LOGIT_SETS, with_run


def load_step_outputs(path: str) -> tuple[dict[str, StepOutputs], dict]:
    """The recorded sets as :class:`StepOutputs`, and the meta; ``meta["compute"]``
    holds the test set's ``macs`` and ``sops`` arrays."""
    required = tuple(f"{a}_{k}" for a in ("logits", "labels") for k in LOGIT_SETS)
    required += tuple(f"{k}_test" for k in COMPUTE)
    arrays, meta = read_npz(path, required)
    sets = {k: StepOutputs(arrays[f"logits_{k}"], arrays[f"labels_{k}"]) for k in LOGIT_SETS}
    return sets, meta | {"compute": {k: arrays[f"{k}_test"] for k in COMPUTE}}


def sweep_splits(
    test: StepOutputs,
    calibration: StepOutputs,
    validation: StepOutputs | None,
    cutoff: CutoffConfig,
    compute: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, Split]]:
    """Every policy of ``cutoff`` calibrated on ``calibration``: its curve on the test
    split and, given ``validation``, on that split (``curves["test"]``,
    ``curves["val"]``), the test split's exit histograms, and each split's exit steps
    per sample and point with its correctness (``splits["test"]``, ``splits["val"]``)."""
    options = cutoff.sweep_options()
    curves = {}
    curves["test"], exits, per_sample = sweep(
        test, calibration, **options, compute=compute, per_sample=True
    )
    splits = {"test": Split(per_sample, test.correct)}
    if validation is not None:
        curves["val"], _, per_sample = sweep(validation, calibration, **options, per_sample=True)
        splits["val"] = Split(per_sample, validation.correct)
    return curves, exits, splits


def tidy_curves(curves: dict[str, pd.DataFrame], n_steps: int, run: dict, cid: str) -> pd.DataFrame:
    """The splits' curves as one table with a ``split`` column, as ``cutoff.csv``."""
    curve = pd.concat([c.assign(split=s) for s, c in curves.items()], ignore_index=True)
    curve.insert(0, "n_steps", n_steps)
    return with_run(curve, run, cid)


def sweep_cutoff(
    logits: str, curve_out: str, exits_out: str, sweep_out: str, cutoff: CutoffConfig
) -> None:
    """Every policy's curve for one run on its test and its validation split, the test
    exit histograms, and the sweep kept per sample of both splits, from which the
    summary chooses each protocol's operating points in every bootstrap replicate."""
    sets, meta = load_step_outputs(logits)
    curves, exits, splits = sweep_splits(
        sets["test"], sets["cal"], sets["val"], cutoff, meta["compute"]
    )
    cid = config_id({"logits": meta["config_id"], "cutoff": cutoff.model_dump(mode="json")})
    write_csv(curve_out, tidy_curves(curves, sets["test"].n_steps, meta["run"], cid))
    write_csv(exits_out, with_run(exits, meta["run"], cid))
    spent = cumulative_costs(meta["compute"], cutoff.energy)["mean_energy_uj"]
    knobs = curves["test"][KNOBS]
    write_npz(
        sweep_out,
        {
            "run": meta["run"],
            "config_id": cid,
            "machine": meta.get("machine", "an unrecorded machine"),
            "cutoff": cutoff.model_dump(mode="json"),
            "record": meta.get("plan"),
            "knobs": knobs.to_dict(orient="list"),
        },
        energy_uj=spent.astype(np.float32),
        **{f"{k}_{name}": getattr(split, name) for k, split in splits.items() for name in SPLIT},
    )


KNOBS = ["policy", "parameter", "value"]
SPLIT = ("exits", "correct")  # what a sweep file keeps of each split, per sample


def load_run_sweep(path: str) -> tuple[RunSweep, dict]:
    """A run's sweep as written by :func:`sweep_cutoff`, and its meta."""
    names = tuple(f"{k}_{name}" for k in ("test", "val") for name in SPLIT)
    arrays, meta = read_npz(path, ("energy_uj",) + names)
    test, val = (Split(*(arrays[f"{k}_{name}"] for name in SPLIT)) for k in ("test", "val"))
    return RunSweep(pd.DataFrame(meta["knobs"]), test, val, arrays["energy_uj"]), meta


def concat_csv(inputs: list[str], output: str) -> None:
    """Stack CSVs with identical columns, passing every value through as written."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in inputs]
    write_csv(output, pd.concat(frames, ignore_index=True))


def summarise_runs(
    sweeps: list[str],
    outputs: dict[str, str],
    summary: SummaryPlan,
    run_settings: list[str] = (),
    early_exit: str | None = None,
) -> None:
    """Intervals for every quantity of every data set and method, at the operating
    points both protocols choose from the runs' sweeps: ``outputs`` names the files
    ``points`` (summary.csv), ``effects``, ``gaps``, ``fixed``, ``per_run``, ``markdown`` and
    ``headline``. ``run_settings`` are the runs' ``settings.json``, quoted in the
    Markdown with the recording and cutoff settings the sweeps carry."""
    runs, machines, used = {}, set(), {"summary": summary.model_dump(mode="json")}
    for path in sweeps:
        run_sweep, meta = load_run_sweep(path)
        run = meta["run"]
        key = (run["dataset"], run["method"], run["alpha"], int(run["seed"]))
        runs[key] = run_sweep
        machines.add(meta.get("machine", "an unrecorded machine"))
        used.setdefault("cutoff", meta.get("cutoff"))
        used.setdefault("record", {})[f"{run['dataset']} {run['method']}"] = meta.get("record")
    diverged, regularisers = {}, set()
    for path in run_settings:
        saved = json.loads(Path(path).read_text())
        run = saved["run"]
        name = f"{run['dataset']} {run['method']}"
        used.setdefault("train", {})[name] = saved["train"]
        regularisers.add(REGULARISERS[saved["train"]["training"]["regulariser"]].label)
        if saved.get("diverged"):
            diverged[f"{name}, α = {run['alpha']}, seed {run['seed']}"] = saved["diverged"]
    result = summarise(
        runs, summary.max_accuracy_loss_pp, summary.bootstrap.replicates, summary.bootstrap.seed
    )
    machines = sorted(machines)
    timings = pd.read_csv(early_exit, dtype={"alpha": str}) if early_exit else None
    loss = summary.max_accuracy_loss_pp
    write_csv(outputs["points"], result.points)
    write_csv(outputs["effects"], result.effects)
    write_csv(outputs["gaps"], result.gaps)
    write_csv(outputs["fixed"], result.fixed)
    write_csv(outputs["per_run"], result.per_run)
    # the runs name what alpha weighs (one regulariser per config)
    named = {"regulariser": " / ".join(sorted(regularisers))} if regularisers else {}
    write_text(
        outputs["markdown"],
        summary_markdown(result, loss, used, machines, timings, diverged=diverged, **named),
    )
    write_text(
        outputs["headline"],
        headline_markdown(result, loss, machines, diverged=diverged, **named),
    )
