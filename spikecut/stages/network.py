"""Stages that train a run and record its per-step outputs."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from spikecut.cutoff import StepOutputs
from spikecut.data import load_prepared
from spikecut.early_exit import measure_early_exit
from spikecut.io import config_id, load_torch, save_torch, write_csv, write_npz
from spikecut.machine import describe
from spikecut.recording import record_outputs
from spikecut.seeding import device_name, pick_device, seed_everything
from spikecut.stages.common import LOGIT_SETS, with_run
from spikecut.training import TrainConfig, train_model
from spikecut.training.checkpoint import Checkpointer
from spikecut.training.methods import inference_snn, rebuild, training_setup

log = logging.getLogger(__name__)


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
    write_csv(metrics_out, with_run(metrics, run, cid))
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
            "snn": info, "machine": describe(device_name(device)),
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
        write_csv(early_exit_out, with_run(table, ckpt["run"], meta["config_id"]))
