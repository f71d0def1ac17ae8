"""File-to-file entry points of the workflow's stages.

Each Snakemake script calls exactly one of these with plain values; each composes the
library and does its own I/O, atomically. All are usable without Snakemake.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import torch

from spikecut.analysis import summarise, summary_markdown
from spikecut.cutoff import StepOutputs, sweep
from spikecut.cutoff.costs import EnergyModel
from spikecut.data import load_prepared, prepare, save_prepared
from spikecut.data.download import fetch_dataset as fetch_dataset_archives
from spikecut.early_exit import measure_early_exit
from spikecut.io import (
    config_id,
    load_torch,
    read_npz,
    save_torch,
    write_csv,
    write_json,
    write_npz,
    write_text,
)
from spikecut.recording import record_outputs
from spikecut.seeding import pick_device, seed_everything
from spikecut.training import TrainConfig, train_model
from spikecut.training.checkpoint import Checkpointer
from spikecut.training.methods import inference_snn, rebuild, training_setup

log = logging.getLogger(__name__)
RUN_KEYS = ("dataset", "method", "alpha", "seed")
LOGIT_SETS = ("test", "val", "cal")
COMPUTE = ("macs", "sops", "spikes")


def _with_run(frame: pd.DataFrame, run: dict, cid: str) -> pd.DataFrame:
    """Prefix the run's key columns and the producing config's id."""
    keys = pd.DataFrame({k: [run[k]] * len(frame) for k in RUN_KEYS})
    return pd.concat([keys, frame.reset_index(drop=True)], axis=1).assign(config_id=cid)


def fetch_dataset(marker_out: str, dataset: str, root: str) -> None:
    """Download, verify and unpack a data set's archives; the marker lists them."""
    write_json(marker_out, fetch_dataset_archives(dataset, root))


def prepare_dataset(frames_out: str, params_out: str, dataset: str, params: dict) -> None:
    data = prepare(dataset, params["T"], params["seed"], params["test_fraction"],
                   params["val_fraction"], params.get("limit"), params.get("options"),
                   params.get("raw_root", "data/raw"))
    save_prepared(data, frames_out, params_out, params | {"config_id": config_id(params)})
    log.info("prepared %s: %s", dataset, {s: len(v) for s, v in data.y.items()})


def train(frames: str, model_out: str, metrics_out: str, run: dict, params: dict,
          threads: int = 1, progress: bool = True, resume: str | None = None) -> None:
    """Train one run. ``params`` holds the base ``method`` (bptt or qcfs), ``model``,
    ``neuron`` or ``qcfs``, ``training``, ``rcs``, ``augment`` and ``device``. With
    ``resume``, a checkpoint path, the run saves itself there after every epoch and
    continues from it when started again; it is removed once the outputs exist."""
    torch.set_num_threads(threads)
    device = pick_device(params["device"])
    generator = seed_everything(int(run["seed"]))
    data = load_prepared(frames)
    setup = training_setup(params["method"], data, params)
    cfg = TrainConfig.from_dict(params["training"] | {"alpha": float(run["alpha"])})
    cid = config_id({"run": run, "params": params})
    checkpoint = Checkpointer(Path(resume), cid) if resume else None
    model, metrics = train_model(setup.model, data, cfg, setup.encode, setup.regulariser,
                                 generator, device, progress=progress, augment=setup.augment,
                                 checkpoint=checkpoint)
    save_torch(model_out, {"state_dict": model.state_dict(), "model_spec": setup.spec,
                           "run": run, "params": params, "config_id": cid})
    write_csv(metrics_out, _with_run(metrics, run, cid))
    if checkpoint:
        checkpoint.clear()


def record(model_path: str, frames: str, logits_out: str, params: dict,
           threads: int = 1, early_exit_out: str | None = None,
           early_exit: dict | None = None) -> None:
    """Per-step logits of the test, validation and calibration sets of one run; a
    QCFS ANN is converted to an SNN first. With ``early_exit_out``, the policies in
    ``early_exit`` (``policies``, ``epsilon``, ``max_set_size``) also run for real on
    the test set, timed against a full-T run."""
    torch.set_num_threads(threads)
    ckpt = load_torch(model_path)
    trained = rebuild(ckpt["model_spec"])
    trained.load_state_dict(ckpt["state_dict"])
    data = load_prepared(frames)
    snn, encode, info = inference_snn(ckpt["params"]["method"], trained, data, ckpt["params"])
    device = pick_device(ckpt["params"]["device"])
    logits, compute = record_outputs(snn, data, encode, params["calibration_dropout"],
                                     params["dropout_seed"], params["batch_size"], device)
    labels = {"test": data.y["test"], "val": data.y["val"], "cal": data.y["train"]}
    meta = {"run": ckpt["run"], "model_config_id": ckpt["config_id"], "params": params,
            "snn": info,
            "config_id": config_id({"model": ckpt["config_id"], "params": params})}
    write_npz(logits_out, meta,
              **{f"logits_{k}": logits[k].numpy() for k in LOGIT_SETS},
              **{f"labels_{k}": labels[k] for k in LOGIT_SETS},
              **{f"{k}_test": v for k, v in compute.items()})
    if early_exit_out:
        test, cal = (StepOutputs(logits[k].numpy(), labels[k]) for k in ("test", "cal"))
        table = measure_early_exit(snn, data.x["test"], encode, test, cal,
                                   early_exit["policies"], float(early_exit["epsilon"]),
                                   params["batch_size"], device,
                                   early_exit.get("max_set_size", 1))
        write_csv(early_exit_out, _with_run(table, ckpt["run"], meta["config_id"]))


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
    write_csv(curve_out, _with_run(curve, meta["run"], cid))
    write_csv(exits_out, _with_run(exits, meta["run"], cid))


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

