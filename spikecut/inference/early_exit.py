"""Inference that really stops: the network runs one timestep at a time with
single-step neurons, and the samples a policy lets go leave the batch, neuron states
included, so later steps compute only for the samples still running.

Its exit steps and predictions equal the simulated cutoff on the recorded per-step
outputs; what it adds is the wall time that the saving actually buys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from spikingjelly.activation_based import base, functional, layer
from torch import nn

from spikecut.cutoff import StepOutputs
from spikecut.cutoff.policies import (
    BASELINE,
    PolicyChoice,
    StoppingRule,
    make_policies,
    make_policy,
)


@dataclass(frozen=True)
class EarlyExitResult:
    exit_steps: np.ndarray  # [N], 1-based
    predictions: np.ndarray  # [N]
    seconds: float  # wall time of the whole pass


def _drop_finished(model: nn.Module, keep: torch.Tensor, batch: int) -> None:
    """Keep only the running samples in every stateful module's memories."""
    for module in model.modules():
        if isinstance(module, base.MemoryModule):
            for name in module._memories:
                value = getattr(module, name)
                if isinstance(value, torch.Tensor) and value.dim() and value.shape[0] == batch:
                    setattr(module, name, value[keep])


@torch.no_grad()
def run_early_exit(model: nn.Module, x: torch.Tensor, rule: StoppingRule) -> EarlyExitResult:
    """Run ``model`` (eval mode) on ``x`` ``[T, B, ...]`` step by step, each sample
    until ``rule`` stops it or T is reached. The model is left in multi-step mode."""
    multi_only = {
        name or type(model).__name__: m
        for name, m in model.named_modules()
        if isinstance(m, base.StepModule) and "s" not in m.supported_step_mode()
    }
    if multi_only:
        hint = (
            "; SpikingJelly's TEBN has a stepwise form, spikecut.models.SteppedTEBN2d"
            if any(isinstance(m, layer.TemporalEffectiveBatchNorm2d) for m in multi_only.values())
            else ""
        )
        raise ValueError(
            f"modules {sorted(multi_only)} run multi-step only, so the model "
            f"cannot run step by step{hint}"
        )
    n_steps, n = x.shape[:2]
    exits = np.full(n, n_steps)
    predictions = np.zeros(n, dtype=np.int64)
    active = torch.arange(n)
    accumulated = None
    functional.reset_net(model)
    functional.set_step_mode(model, "s")
    start = time.perf_counter()
    try:
        for t in range(1, n_steps + 1):
            out = model(x[t - 1, active]).double().cpu()
            accumulated = out if accumulated is None else accumulated + out
            acc = accumulated.numpy()
            stop = np.ones(len(acc), bool) if t == n_steps else rule(acc, t)
            idx = active.numpy()[stop]
            exits[idx], predictions[idx] = t, acc[stop].argmax(axis=1)
            if stop.all():
                break
            keep = torch.from_numpy(~stop)
            _drop_finished(model, keep.to(x.device), len(acc))
            active, accumulated = active[keep], accumulated[keep]
        if x.is_cuda:
            torch.cuda.synchronize(x.device)
        seconds = time.perf_counter() - start
    finally:
        functional.reset_net(model)
        functional.set_step_mode(model, "m")
    return EarlyExitResult(exits, predictions, seconds)


def measure_early_exit(
    model: nn.Module,
    x: np.ndarray,
    encode,
    test: StepOutputs,
    calibration: StepOutputs,
    policies: PolicyChoice,
    epsilon: float,
    batch_size: int,
    device: torch.device,
) -> pd.DataFrame:
    """Each policy (names, or a mapping of names to options) at ``epsilon`` run for
    real on the stored test samples ``x``, beside a full-T run: mean exit step,
    accuracy, wall time, and whether the exits equal the simulated cutoff's (they
    should, always).

    Timing is interleaved batch by batch (full T, each policy, full T again), so that a
    change in the machine's load falls on every policy alike, after an untimed warm-up
    pass. The two full-T timings differ only by noise; that difference, relative,
    is ``timing_noise``, by which :mod:`spikecut.analysis.timing` judges whether a
    wall-time speed-up can be a result."""
    model.to(device).eval()
    full = make_policy(BASELINE).stopping_rule(None, test.n_steps)
    chosen = make_policies(policies)
    rules = {name: policy.stopping_rule(calibration, epsilon) for name, policy in chosen.items()}
    run_early_exit(model, encode(x[:batch_size]).to(device), full)  # first-call costs
    parts: dict[str, list[EarlyExitResult]] = {name: [] for name in rules}
    full_times: tuple[list[float], list[float]] = ([], [])
    for i in range(0, len(x), batch_size):
        batch = encode(x[i : i + batch_size]).to(device)
        full_times[0].append(run_early_exit(model, batch, full).seconds)
        for name, rule in rules.items():
            parts[name].append(run_early_exit(model, batch, rule))
        full_times[1].append(run_early_exit(model, batch, full).seconds)
    first, second = sum(full_times[0]), sum(full_times[1])
    full_seconds = (first + second) / 2
    noise = abs(first - second) / max(full_seconds, 1e-9)
    rows = []
    for name, batches in parts.items():
        exits = np.concatenate([b.exit_steps for b in batches])
        predictions = np.concatenate([b.predictions for b in batches])
        seconds = sum(b.seconds for b in batches)
        (point,) = chosen[name].operating_points(test, calibration, [epsilon])
        step_ratio = test.n_steps / float(exits.mean())
        speedup = full_seconds / max(seconds, 1e-9)
        rows.append(
            {
                "policy": name,
                "epsilon": epsilon,
                "n_steps": test.n_steps,
                "samples": len(exits),
                "mean_timesteps": float(exits.mean()),
                "accuracy": float((predictions == test.labels).mean()),
                "step_ratio": step_ratio,
                "wall_s": seconds,
                "wall_full_T_s": full_seconds,
                "wall_speedup": speedup,
                "timing_noise": noise,
                "matches_simulation": bool(np.array_equal(exits, point.exit_steps)),
            }
        )
    return pd.DataFrame(rows)
