"""Stages that analyse recorded per-step outputs: cutoff sweeps, tables and summaries.
None of them imports torch."""

from __future__ import annotations

import pandas as pd

from spikecut.analysis import summarise, summary_markdown
from spikecut.cutoff import StepOutputs, sweep
from spikecut.cutoff.costs import EnergyModel
from spikecut.io import config_id, read_npz, write_csv, write_text
from spikecut.stages.common import COMPUTE, LOGIT_SETS, with_run


def load_step_outputs(path: str) -> tuple[dict[str, StepOutputs], dict]:
    """The recorded sets as :class:`StepOutputs`, and the meta; ``meta["compute"]``
    holds the test set's ``macs``, ``sops`` and ``spikes`` arrays."""
    required = tuple(f"{a}_{k}" for a in ("logits", "labels") for k in LOGIT_SETS)
    required += tuple(f"{k}_test" for k in COMPUTE)
    arrays, meta = read_npz(path, required)
    sets = {k: StepOutputs(arrays[f"logits_{k}"], arrays[f"labels_{k}"]) for k in LOGIT_SETS}
    return sets, meta | {"compute": {k: arrays[f"{k}_test"] for k in COMPUTE}}


def sweep_cutoff(logits: str, curve_out: str, exits_out: str, params: dict) -> None:
    """Every policy's operating points for one run, from its recorded logits."""
    sets, meta = load_step_outputs(logits)
    curve, exits = sweep(sets["test"], sets["cal"], params["policies"],
                         [float(e) for e in params["epsilons"]], params.get("grid"),
                         params.get("raw_thresholds", 0), params.get("max_set_size", 1),
                         compute=meta["compute"],
                         energy=EnergyModel(**params.get("energy", {})))
    cid = config_id({"logits": meta["config_id"], "params": params})
    curve.insert(0, "n_steps", sets["test"].n_steps)
    write_csv(curve_out, with_run(curve, meta["run"], cid))
    write_csv(exits_out, with_run(exits, meta["run"], cid))


def concat_csv(inputs: list[str], output: str) -> None:
    """Stack CSVs with identical columns, passing every value through as written."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in inputs]
    write_csv(output, pd.concat(frames, ignore_index=True))


def summarise_curves(curves: str, table_out: str, per_run_out: str, markdown_out: str,
                     max_loss_pp: float, config: dict, early_exit: str | None = None) -> None:
    """The summary over seeds (CSV and Markdown) and each run's operating points, with
    the real early-exit timings where given."""
    frame = pd.read_csv(curves, dtype={"alpha": str})
    per_run, table = summarise(frame, max_loss_pp)
    timings = pd.read_csv(early_exit, dtype={"alpha": str}) if early_exit else None
    write_csv(table_out, table)
    write_csv(per_run_out, per_run)
    write_text(markdown_out, summary_markdown(table, max_loss_pp, config, timings))
