"""IF and LIF inference on the CPU, in place.

SpikingJelly's CPU path keeps every step's charge, spikes and reset membrane as new
tensors and stacks them, for the backward pass; without autograd, on the converted
networks that the recording and early-exit stages run, that bookkeeping took most of
the time. This loop writes each step's spikes straight into the output and updates one
membrane in place. It performs SpikingJelly's float32 operations in SpikingJelly's
order, so for finite inputs spikes and membranes are equal bit for bit
(``tests/test_host_neurons.py``); where a charge is infinite, a hard reset gives the
reset value here and NaN there (0 · inf).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from spikecut.neurons.fused import FusedSpec


def _charge_if(v: torch.Tensor, x: torch.Tensor, spec: FusedSpec, rest: float) -> None:
    v.add_(x)


def _charge_lif(v: torch.Tensor, x: torch.Tensor, spec: FusedSpec, rest: float) -> None:
    v.sub_((v - rest).div_(spec.tau)).add_(x)  # v - (v - rest) / tau + x


def _charge_lif_decaying_input(
    v: torch.Tensor, x: torch.Tensor, spec: FusedSpec, rest: float
) -> None:
    v.add_(torch.sub(x, v - rest).div_(spec.tau))  # v + (x - (v - rest)) / tau


# (kind, decay_input) -> the charge, in SpikingJelly's order of operations
_CHARGE: dict[tuple[str, bool], Callable[..., None]] = {
    ("if", False): _charge_if,
    ("lif", False): _charge_lif,
    ("lif", True): _charge_lif_decaying_input,
}


def host_applies(x: torch.Tensor, store_v_seq: bool) -> bool:
    """Whether :func:`host_multi_step` may run ``x``: float32 on the CPU, no gradient
    wanted, no membrane sequence to keep."""
    return (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and not (torch.is_grad_enabled() and x.requires_grad)
        and not store_v_seq
    )


def _start(v: torch.Tensor | float, x: torch.Tensor, spec: FusedSpec) -> torch.Tensor:
    """A membrane of ``x``'s shape to update in place; a membrane left by inputs of
    another shape restarts, as in SpikingJelly, from the reset value (0 under soft
    reset)."""
    if isinstance(v, torch.Tensor) and v.shape != x.shape:
        v = 0.0 if spec.v_reset is None else spec.v_reset
    if isinstance(v, torch.Tensor):
        return v.to(x.dtype).clone()
    return torch.full_like(x, v)


@torch.no_grad()
def host_multi_step(
    x_seq: torch.Tensor, spec: FusedSpec, v: torch.Tensor | float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes ``[T, ...]`` and the final membrane, from the membrane ``v``."""
    v = _start(v, x_seq[0], spec)
    charge = _CHARGE[spec.kind, spec.decay_input]
    spikes = torch.empty_like(x_seq)
    rest = 0.0 if spec.v_reset is None else spec.v_reset
    for t, x in enumerate(x_seq):
        charge(v, x, spec, rest)
        # h >= threshold is SpikingJelly's heaviside(h - threshold): the difference of
        # two finite floats is zero only where they are equal
        torch.ge(v, spec.v_threshold, out=spikes[t])
        if spec.v_reset is None:
            v.sub_(spikes[t], alpha=spec.v_threshold)  # exact: the spike is 0 or 1
        else:  # spike * reset + (1 - spike) * h, with the spike 0 or 1
            v.masked_fill_(spikes[t].bool(), spec.v_reset)
    return spikes, v
