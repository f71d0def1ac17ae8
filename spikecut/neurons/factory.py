"""Build the spiking layers of every model from one config.

The ``backend`` option is the seam for other neuron implementations: ``torch`` is
SpikingJelly's own PyTorch path, which supports any Python surrogate and runs on CPU;
``spikingjelly`` lets SpikingJelly pick its fastest kernel for the tensor's device.
``auto`` resolves to the best available for the device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from spikingjelly.activation_based import neuron

from spikecut.neurons.surrogates import make_surrogate

BACKENDS = ("auto", "torch", "spikingjelly")


@dataclass(frozen=True)
class NeuronConfig:
    """LIF settings. The defaults are the paper's direct-training neuron (SPEC §3):
    u <- 0.5 u + x (tau = 2, no input decay), V_th = 1, hard reset to 0, triangle
    surrogate of width 1."""

    kind: str = "lif"
    tau: float = 2.0
    decay_input: bool = False
    v_threshold: float = 1.0
    v_reset: float | None = 0.0
    surrogate: str = "triangle"
    surrogate_width: float = 1.0
    detach_reset: bool = False
    backend: str = "auto"

    @classmethod
    def from_dict(cls, cfg: dict) -> NeuronConfig:
        return cls(**cfg)


def resolve_backend(backend: str, device: torch.device | str = "cpu") -> str:
    """The concrete backend for ``backend`` on ``device``."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown neuron backend {backend!r}; choose one of {BACKENDS}")
    if backend != "auto":
        return backend
    return "spikingjelly" if torch.device(device).type == "cuda" else "torch"


def make_neuron(cfg: NeuronConfig, device: torch.device | str = "cpu") -> neuron.BaseNode:
    """One multi-step spiking layer as configured."""
    resolve_backend(cfg.backend, device)  # validates the name on every device
    surrogate_fn = make_surrogate(cfg.surrogate, cfg.surrogate_width)
    common = dict(
        v_threshold=cfg.v_threshold,
        v_reset=cfg.v_reset,
        surrogate_function=surrogate_fn,
        detach_reset=cfg.detach_reset,
        step_mode="m",
    )
    if cfg.kind == "lif":
        return neuron.LIFNode(tau=float(cfg.tau), decay_input=cfg.decay_input, **common)
    if cfg.kind == "if":
        return neuron.IFNode(**common)
    raise ValueError(f"unknown neuron kind {cfg.kind!r}; choose 'lif' or 'if'")
