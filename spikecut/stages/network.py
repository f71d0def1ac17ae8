"""Stages that train a run, record its per-step outputs and run its cutoffs for real."""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from spikecut.allocator import keep_freed_memory
from spikecut.cutoff import StepOutputs
from spikecut.data import load_prepared
from spikecut.devices import describe_device, job_device
from spikecut.inference.early_exit import measure_early_exit
from spikecut.inference.recording import record_outputs
from spikecut.io import config_id, load_torch, save_torch, write_csv, write_npz, write_text
from spikecut.machine import describe
from spikecut.methods import METHODS, rebuild
from spikecut.seeding import seed_everything
from spikecut.settings import EarlyExitPlan, RecordPlan, TrainPlan
from spikecut.stages.common import LOGIT_SETS, with_run
from spikecut.training import train_model
from spikecut.training.checkpoint import Checkpointer
from spikecut.training.divergence import divergence
from spikecut.training.writer import sole_writer

log = logging.getLogger(__name__)


def _start_job(threads: int) -> None:
    """The job's torch threads, and its freed memory kept for reuse."""
    torch.set_num_threads(threads)
    keep_freed_memory()


class DivergedError(RuntimeError):
    """A run ended no better than guessing."""


def train(
    frames: str,
    model_out: str,
    metrics_out: str,
    settings_out: str,
    run: dict,
    plan: TrainPlan,
    threads: int = 1,
    progress: bool = True,
    resume: str | None = None,
    backend: str = "auto",
) -> None:
    """Train one run as ``plan`` says. With ``resume``, a checkpoint path, the run
    saves itself there after every epoch and continues from it when started again; the
    checkpoint outlives the outputs (the recording removes it), so a job that finished
    but was not counted as finished resumes at its end instead of starting over, and
    the folder holds a lock that keeps a second job from training the same run.
    ``backend`` is the neuron implementation: it changes speed, not results. A run that
    ends no better than guessing (:mod:`spikecut.training.divergence`) fails where the
    plan's ``training.fail_on_divergence`` says so; else its outputs say that it
    diverged. Neither setting is part of the run's identity."""
    _start_job(threads)
    generator = seed_everything(int(run["seed"]), plan.training.deterministic)
    data = load_prepared(frames)
    method = METHODS[plan.method]
    if plan.neuron is not None:
        plan = plan.model_copy(
            update={"neuron": plan.neuron.model_copy(update={"backend": backend})}
        )
    setup = method.setup(plan, data)
    identity = {"neuron": {"backend"}, "training": {"fail_on_divergence"}}
    cid = config_id({"run": run, "plan": plan.model_dump(mode="json", exclude=identity)})
    checkpoint = Checkpointer(Path(resume), cid) if resume else None
    name = f"{run['dataset']}/{run['method']}/alpha{run['alpha']}/seed{run['seed']}"
    writer = nullcontext() if resume is None else sole_writer(Path(resume).parent, name)
    with writer:
        with job_device(plan.training.device) as device:
            model, metrics = train_model(
                setup,
                data,
                plan.training,
                float(run["alpha"]),
                generator,
                device,
                progress=progress,
                checkpoint=checkpoint,
            )
            ran_on = describe_device(device)
        why = divergence(metrics, data.num_classes, len(data.y["val"]))
        if why is not None and plan.training.fail_on_divergence:
            also = " or alpha" if float(run["alpha"]) > 0 else ""
            raise DivergedError(
                f"run {name} diverged: {why}. Lower training.lr ({plan.training.lr}){also} "
                "for this run; or set training.fail_on_divergence: false to keep it, flagged "
                "in its metrics, the summary and the headline"
            )
        save_torch(
            model_out,
            {
                "state_dict": model.state_dict(),
                "model_spec": setup.spec,
                "run": run,
                "config_id": cid,
            },
        )
        write_csv(metrics_out, with_run(metrics.assign(diverged=why is not None), run, cid))
        saved = {
            "run": run,
            "config_id": cid,
            "device": ran_on,
            "diverged": why,
            "train": plan.model_dump(mode="json", exclude=identity),
        }
        write_text(settings_out, json.dumps(saved, indent=2) + "\n")


def _load_snn(model_path: str, frames: str, plan: RecordPlan, backend: str):
    ckpt = load_torch(model_path)
    trained = rebuild(ckpt["model_spec"], backend)
    trained.load_state_dict(ckpt["state_dict"])
    data = load_prepared(frames)
    snn, encode, info = METHODS[plan.method].inference(trained, data, plan)
    return ckpt, data, snn, encode, info


def record(
    model_path: str,
    frames: str,
    logits_out: str,
    plan: RecordPlan,
    batch_size: int = 256,
    threads: int = 1,
    resume: str | None = None,
    backend: str = "auto",
) -> None:
    """Per-step logits of the test, validation and calibration sets of one run, and
    the test set's compute; a QCFS ANN is converted to an SNN first. ``resume`` is the
    training run's checkpoint, no longer needed once the outputs are written."""
    _start_job(threads)
    ckpt, data, snn, encode, info = _load_snn(model_path, frames, plan, backend)
    with job_device(plan.device) as device:
        logits, compute = record_outputs(
            snn, data, encode, plan.calibration_dropout, plan.dropout_seed, batch_size, device
        )
        device_model = describe_device(device, index=False)
    labels = {"test": data.y["test"], "val": data.y["val"], "cal": data.y["train"]}
    meta = {
        "run": ckpt["run"],
        "model_config_id": ckpt["config_id"],
        "plan": plan.model_dump(),
        "snn": info,
        "machine": describe(device_model),
        "config_id": config_id({"model": ckpt["config_id"], "plan": plan.model_dump()}),
    }
    write_npz(
        logits_out,
        meta,
        **{f"logits_{k}": logits[k].numpy() for k in LOGIT_SETS},
        **{f"labels_{k}": labels[k] for k in LOGIT_SETS},
        **{f"{k}_test": v for k, v in compute.items()},
    )
    if resume:
        Path(resume).unlink(missing_ok=True)


def early_exit(
    model_path: str,
    frames: str,
    logits: str,
    table_out: str,
    plan: EarlyExitPlan,
    batch_size: int = 256,
    threads: int = 1,
    backend: str = "auto",
) -> None:
    """Every policy of ``plan`` run for real on the test set, samples leaving the batch
    as they stop, timed against a full-T run, with a check that the exits equal the
    simulated cutoff's on the recorded outputs."""
    from spikecut.stages.analysis import load_step_outputs

    _start_job(threads)
    sets, meta = load_step_outputs(logits)
    record_plan = RecordPlan.model_validate(meta["plan"])
    ckpt, data, snn, encode, _ = _load_snn(model_path, frames, record_plan, backend)
    x, test = data.x["test"], sets["test"]
    if plan.samples is not None and plan.samples < len(x):
        keep = np.unique(np.linspace(0, len(x) - 1, plan.samples).round().astype(int))
        x, test = x[keep], StepOutputs(test.logits[keep], test.labels[keep])
    with job_device(plan.device) as device:
        table = measure_early_exit(
            snn,
            x,
            encode,
            test,
            sets["cal"],
            plan.policies,
            float(plan.epsilon),
            batch_size,
            device,
        )
    write_csv(table_out, with_run(table, ckpt["run"], meta["config_id"]))
