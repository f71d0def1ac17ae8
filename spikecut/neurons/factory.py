"""Build the spiking layers of every model from one config.

The ``backend`` option picks the implementation. ``spikingjelly`` builds SpikingJelly's
own nodes: SpikingJelly 2.0 chooses their kernel itself, per process, from the tensor's
device and its ``SJ_LIF_CUDA_IMPLEMENTATION`` environment variable. ``torch`` builds
spikecut's nodes without the CuPy kernels: SpikingJelly's path for training and on CUDA,
and for float32 inference on the CPU spikecut's in-place loop
(:mod:`spikecut.neurons.host`), equal to SpikingJelly's bit for bit and faster.
``cupy`` adds spikecut's fused CuPy kernels on CUDA. (The converted IF neurons of the
QCFS track are spikecut's whatever the backend.) ``auto`` is ``cupy`` where CuPy and
CUDA are present, else ``torch`` on the CPU and ``spikingjelly`` on CUDA; under ``auto``
a kernel that fails its self-check on first use falls back to SpikingJelly with a
warning, while ``cupy`` raises.
"""

from __future__ import annotations

import torch
from spikingjelly.activation_based import neuron

from spikecut.neurons.cupy_backend import CupyIFNode, CupyLIFNode, cupy_available
from spikecut.neurons.surrogates import make_surrogate
from spikecut.settings import NeuronConfig

BACKENDS = NeuronConfig.model_fields["backend"].annotation.__args__


def resolve_backend(backend: str, device: torch.device | str = "cpu") -> str:
    """The concrete backend for ``backend`` on ``device``."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown neuron backend {backend!r}; choose one of {BACKENDS}")
    if backend == "cupy" and not cupy_available():
        raise RuntimeError(
            "neuron backend 'cupy' needs a CUDA device and the cupy package; install "
            "cupy-cuda12x (or -cuda13x) on a GPU machine, or set neuron.backend: auto"
        )
    if backend != "auto":
        return backend
    if cupy_available():
        return "cupy"
    return "spikingjelly" if torch.device(device).type == "cuda" else "torch"


def make_neuron(cfg: NeuronConfig, device: torch.device | str = "cpu") -> neuron.BaseNode:
    """One multi-step spiking layer as configured."""
    backend = resolve_backend(cfg.backend, device)
    surrogate_fn = make_surrogate(cfg.surrogate, cfg.surrogate_width)
    common = dict(
        v_threshold=cfg.v_threshold,
        v_reset=cfg.v_reset,
        surrogate_function=surrogate_fn,
        detach_reset=cfg.detach_reset,
        step_mode="m",
    )
    if backend == "spikingjelly":
        lif, if_ = neuron.LIFNode, neuron.IFNode
    else:
        lif, if_ = CupyLIFNode, CupyIFNode
        common["fused"] = backend == "cupy"
        # an explicit choice of the kernels fails loudly where they fail their self-check
        common["strict"] = cfg.backend == "cupy"
    kinds = {
        "lif": lambda: lif(tau=float(cfg.tau), decay_input=cfg.decay_input, **common),
        "if": lambda: if_(**common),
    }
    return kinds[cfg.kind]()
